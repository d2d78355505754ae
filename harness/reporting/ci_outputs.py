"""What CI reads of a conformance run: the JUnit file made useful, and ``summary.json``.

pytest writes JUnit on its own (``--junitxml``); once it has, :func:`improve_junit` rewrites it so a CI
reviewer reads it without the report open:

- each test case's ``name`` is its id and its title (``MB-CHAN-DIAL-001 channel.dial succeeds from ACTIVE``);
- a case whose verdict is *error* (the connection was lost, the harness could not go on or had a bug) is an
  ``<error>``, not a ``<failure>``: only a MUST the adapter broke is a failure;
- a skipped case says whether it was *inconclusive* or *not applicable*, in its message and in the property
  ``mbconform.verdict``; its text is the message, without the harness's own source path;
- the suite's counters (``failures``, ``errors``, ``skipped``) follow.

Each case carries the properties ``mbconform.case``, ``mbconform.title``, ``mbconform.verdict`` (and
``mbconform.categories`` when it has violations), which the pytest plugin records as the case ends.

:func:`summary_json` is the machine-readable summary (``reports/summary.json``, format
``mbconform/summary/1``, its JSON Schema ``specs/meta/summary-v1.schema.json``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

SUMMARY_FORMAT = "mbconform/summary/1"
PROPERTY = "mbconform."
VERDICTS = ("pass", "warn", "inconclusive", "fail", "error", "not applicable")
ERROR_CATEGORIES = ("connection lost", "harness fault")


class Record(Protocol):
    """What the summary reads of a test's record (harness/plugin/summary.py's TestRecord)."""

    @property
    def test_id(self) -> str: ...
    @property
    def case_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def requirements(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...


def case_properties(case_id: str, title: str, verdict: str, categories: Sequence[str]) -> list[tuple[str, str]]:
    """The JUnit properties of one case (pytest's ``user_properties``)."""
    found = [(f"{PROPERTY}case", case_id), (f"{PROPERTY}title", title), (f"{PROPERTY}verdict", verdict)]
    if categories:
        found.append((f"{PROPERTY}categories", ", ".join(categories)))
    return found


def _properties(testcase: ET.Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for prop in testcase.iter("property"):
        name, value = prop.get("name"), prop.get("value")
        if name is not None and name.startswith(PROPERTY) and value is not None:
            found[name[len(PROPERTY) :]] = value
    return found


def _improve_case(testcase: ET.Element) -> None:
    props = _properties(testcase)
    if "case" not in props:
        return  # not one of mbconform's cases (a fuzz test keeps pytest's wording)
    name = testcase.get("name", props["case"])
    if props.get("title"):
        testcase.set("name", f"{name} {props['title']}")
    verdict = props.get("verdict", "")
    if verdict == "error":
        for failure in testcase.findall("failure"):
            failure.tag = "error"  # an infrastructure problem, not a MUST the adapter broke
            kind = next((c for c in ERROR_CATEGORIES if c in props.get("categories", "")), "harness error")
            failure.set("type", kind)
    for skipped in testcase.findall("skipped"):
        message = skipped.get("message", "")
        if verdict == "inconclusive" and not message.lower().startswith("inconclusive"):
            message = f"inconclusive: {message}"
        if verdict == "not applicable" and not message.startswith("not applicable"):
            message = f"not applicable: {message}"
        skipped.set("message", message)
        skipped.set("type", verdict or "skipped")
        skipped.text = message  # pytest puts the harness's own source path and line before it


def _recount(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    for tag, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
        if suite.get(attribute) is not None:
            suite.set(attribute, str(sum(1 for case in cases if case.find(tag) is not None)))


def improve_junit(path: Path) -> bool:
    """Rewrite pytest's JUnit file in place (see the module's docstring); False if there is none to read."""
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return False
    root = tree.getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        for testcase in suite.findall("testcase"):
            _improve_case(testcase)
        _recount(suite)
    if root.tag == "testsuites":
        for attribute in ("failures", "errors", "skipped"):
            if root.get(attribute) is not None:
                root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return True


def summary_json(
    records: Iterable[Record],
    *,
    exit_code: int,
    adapter: str,
    harness_version: str,
    catalogue_version: str,
    date: str,
    profiles: Sequence[str],
    interrupted: bool = False,
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run as one JSON object: counts (in all and per profile), each case's verdict, how many cases
    show each category of violation, and the exit status of the run."""
    cases: list[dict[str, Any]] = []
    total: Counter[str] = Counter()
    per_profile: dict[str, Counter[str]] = {name: Counter() for name in profiles}
    categories: Counter[str] = Counter()
    for record in records:
        total[record.verdict] += 1
        per_profile.setdefault(record.profile, Counter())[record.verdict] += 1
        categories.update(record.categories)
        cases.append(
            {
                "test": record.test_id,
                "id": record.case_id,
                "title": record.title,
                "profile": record.profile,
                "verdict": record.verdict,
                "categories": list(record.categories),
                "requirements": list(record.requirements),
                "reason": record.reason,
            }
        )

    def counted(counter: Counter[str]) -> dict[str, int]:
        return {verdict: counter[verdict] for verdict in VERDICTS}

    found: dict[str, Any] = {
        "format": SUMMARY_FORMAT,
        "exit_code": exit_code,
        "interrupted": interrupted,
        "adapter": adapter,
        "harness_version": harness_version,
        "catalogue_version": catalogue_version,
        "date": date,
        "counts": {"total": sum(total.values()), **counted(total)},
        "profiles": {name: {"total": sum(c.values()), **counted(c)} for name, c in per_profile.items()},
        "categories": dict(sorted(categories.items())),
        "cases": cases,
    }
    if baseline is not None:
        found["baseline"] = dict(baseline)
    return found


def write_summary(reports: Path, summary: Mapping[str, Any]) -> Path:
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / "summary.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
