"""The CI gate: this run's verdicts compared with an accepted baseline.

A baseline is a JSON file (format ``mbconform/baseline/1``) that a run writes with ``--write-baseline``:
the harness version, the catalogue version, the profiles, and per test id (the pytest item name, which
ends in ``[profile]`` when several profiles run) the verdict and the categories of its violations. A team
commits it; a later run with ``--baseline`` classifies each test:

- still passing / still failing (accepted): on the same side of the line as before;
- newly failing / newly passing: it crossed the line;
- new / gone: only in this run / only in the baseline.

The line is a MUST: verdict fail or error is failing; pass, warn (a SHOULD), inconclusive and not
applicable are not. The gate fails exactly when a test newly fails a MUST: it fails now and the baseline
did not accept that (it passed there, was inconclusive or not applicable, or is not in the baseline at
all). A verdict that changes on the same side (pass to inconclusive, not applicable to pass, fail to error)
never fails the gate but is listed, so nothing changes silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec.inputfile import InputRefused, load_json_file

BASELINE_FORMAT = "mbconform/baseline/1"
VERDICTS = ("pass", "warn", "inconclusive", "fail", "error", "not applicable")
FAILING = frozenset({"fail", "error"})

STILL_PASSING = "still passing"
STILL_FAILING = "still failing"
NEWLY_FAILING = "newly failing"
NEWLY_PASSING = "newly passing"
NEW = "new"
GONE = "gone"
CLASSES = (STILL_PASSING, STILL_FAILING, NEWLY_FAILING, NEWLY_PASSING, NEW, GONE)

SHOWN_CHANGES = 20  # non-gating changes printed on the console; the files list them all


class BaselineError(Exception):
    """The baseline file is missing or malformed; the message names the file and what is wrong."""


@dataclass(frozen=True)
class TestVerdict:
    __test__ = False  # not a pytest test class

    verdict: str  # one of VERDICTS
    categories: tuple[str, ...] = ()  # the categories of its violations ("missing event", ...), sorted
    # One line: the first violation, or why inconclusive / not applicable. Shown, never recorded or compared.
    reason: str = field(default="", compare=False)

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING

    def describe(self) -> str:
        return self.verdict + (f" [{', '.join(self.categories)}]" if self.categories else "")


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    file: str
    platform: str


@dataclass(frozen=True)
class Baseline:
    harness_version: str
    catalogue_version: str
    profiles: tuple[ProfileInfo, ...]
    tests: Mapping[str, TestVerdict]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BASELINE_FORMAT,
            "harness_version": self.harness_version,
            "catalogue_version": self.catalogue_version,
            "profiles": [{"name": p.name, "file": p.file, "platform": p.platform} for p in self.profiles],
            "tests": {
                test_id: {"verdict": verdict.verdict, "categories": list(verdict.categories)}
                for test_id, verdict in sorted(self.tests.items())
            },
        }


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write the baseline with sorted keys and no date, so that re-accepting an unchanged run is no diff."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; every problem is a :class:`BaselineError` that names the file."""
    try:
        data = load_json_file(path)
    except FileNotFoundError:
        raise BaselineError(f"baseline {path}: no such file (write one with --write-baseline)") from None
    except IsADirectoryError:
        raise BaselineError(f"baseline {path}: is a folder, not a file") from None
    except OSError as exc:
        raise BaselineError(f"baseline {path}: cannot be read: {exc}") from None
    except InputRefused as exc:  # over a limit of harness/spec/inputfile.py, or not JSON
        raise BaselineError(f"baseline {path}:{exc.where}: {exc.message}") from None
    problems: list[str] = []
    baseline = _parse(data, problems)
    if problems or baseline is None:
        raise BaselineError(f"baseline {path}: " + "; ".join(problems[:10]))
    return baseline


def _parse(data: Any, problems: list[str]) -> Baseline | None:
    if not isinstance(data, dict):
        problems.append(f"the top level must be an object, not {type(data).__name__}")
        return None
    if data.get("format") != BASELINE_FORMAT:
        problems.append(f"format is {data.get('format')!r}, expected {BASELINE_FORMAT!r}")
        return None
    for key in ("harness_version", "catalogue_version"):
        if not isinstance(data.get(key), str):
            problems.append(f"{key} must be a string")
    profiles: list[ProfileInfo] = []
    raw_profiles = data.get("profiles")
    if not isinstance(raw_profiles, list):
        problems.append("profiles must be a list")
    else:
        for index, node in enumerate(raw_profiles):
            if not isinstance(node, dict) or not all(
                isinstance(node.get(key), str) for key in ("name", "file", "platform")
            ):
                problems.append(f"profiles[{index}] must be an object with name, file and platform (strings)")
                continue
            profiles.append(ProfileInfo(node["name"], node["file"], node["platform"]))
    tests: dict[str, TestVerdict] = {}
    raw_tests = data.get("tests")
    if not isinstance(raw_tests, dict):
        problems.append("tests must be an object: test id -> {verdict, categories}")
    else:
        for test_id, node in raw_tests.items():
            verdict = _parse_test(test_id, node, problems)
            if verdict is not None:
                tests[test_id] = verdict
    if problems:
        return None
    return Baseline(data["harness_version"], data["catalogue_version"], tuple(profiles), tests)


def _parse_test(test_id: str, node: Any, problems: list[str]) -> TestVerdict | None:
    where = f"tests[{test_id!r}]"
    if not isinstance(node, dict):
        problems.append(f"{where} must be an object with verdict and categories")
        return None
    verdict = node.get("verdict")
    if verdict not in VERDICTS:
        problems.append(f"{where}.verdict is {verdict!r}, expected one of {', '.join(VERDICTS)}")
        return None
    categories = node.get("categories", [])
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        problems.append(f"{where}.categories must be a list of strings")
        return None
    return TestVerdict(verdict, tuple(sorted(set(categories))))


@dataclass(frozen=True)
class TestChange:
    __test__ = False  # not a pytest test class

    test_id: str
    change: str  # one of CLASSES
    before: TestVerdict | None  # None: new
    after: TestVerdict | None  # None: gone

    @property
    def gates(self) -> bool:
        """This test newly fails a MUST: it fails now, and the baseline did not accept that."""
        return self.after is not None and self.after.failing and (self.before is None or not self.before.failing)

    @property
    def verdict_changed(self) -> bool:
        return self.before is not None and self.after is not None and self.before != self.after

    def describe(self) -> str:
        before = self.before.describe() if self.before is not None else "not in the baseline"
        after = self.after.describe() if self.after is not None else "not in this run"
        reason = self.after.reason if self.after is not None else ""
        return f"{self.test_id}: {before} -> {after}" + (f": {reason}" if reason else "")

    def to_json(self) -> dict[str, Any]:
        def side(verdict: TestVerdict | None) -> dict[str, Any] | None:
            if verdict is None:
                return None
            found: dict[str, Any] = {"verdict": verdict.verdict, "categories": list(verdict.categories)}
            if verdict.reason:
                found["reason"] = verdict.reason
            return found

        return {
            "test": self.test_id,
            "class": self.change,
            "gates": self.gates,
            "baseline": side(self.before),
            "run": side(self.after),
        }


def classify(before: TestVerdict | None, after: TestVerdict | None) -> str:
    if before is None:
        return NEW
    if after is None:
        return GONE
    if before.failing:
        return STILL_FAILING if after.failing else NEWLY_PASSING
    return NEWLY_FAILING if after.failing else STILL_PASSING


@dataclass(frozen=True)
class BaselineDiff:
    baseline_file: str
    changes: tuple[TestChange, ...]  # sorted by test id
    notes: tuple[str, ...] = field(default=())  # why ids may not line up (other profiles, versions)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        for change in self.changes:
            counts[change.change] += 1
        return counts

    @property
    def gate_failures(self) -> list[TestChange]:
        return [change for change in self.changes if change.gates]

    @property
    def passed(self) -> bool:
        return not self.gate_failures

    @property
    def other_changes(self) -> list[TestChange]:
        """What changed without failing the gate: new and gone tests, and every other verdict change."""
        return [
            change
            for change in self.changes
            if not change.gates and (change.change in (NEW, GONE, NEWLY_PASSING) or change.verdict_changed)
        ]

    def counted(self) -> str:
        return ", ".join(f"{count} {name}" for name, count in self.counts.items())

    def verdict_line(self) -> str:
        failures = self.gate_failures
        accepted = self.counts[STILL_FAILING]
        if failures:
            return f"gate: FAILED: {len(failures)} test(s) newly fail a MUST"
        return f"gate: passed: no test newly fails a MUST ({accepted} accepted failure(s) still fail)"

    def lines(self) -> list[str]:
        """The console report: counts per class, the tests that fail the gate, then the other changes."""
        lines = [f"baseline {self.baseline_file}: {self.counted()}"]
        lines.extend(f"  note: {note}" for note in self.notes)
        failures = self.gate_failures
        if failures:
            lines.append("newly failing a MUST:")
            lines.extend(f"  {change.describe()}" for change in failures)
        others = self.other_changes
        if others:
            lines.append("other changes (they do not fail the gate):")
            lines.extend(f"  [{change.change}] {change.describe()}" for change in others[:SHOWN_CHANGES])
            if len(others) > SHOWN_CHANGES:
                lines.append(f"  ... and {len(others) - SHOWN_CHANGES} more (see baseline-diff.md)")
        lines.append(self.verdict_line())
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "mbconform/baseline-diff/1",
            "baseline": self.baseline_file,
            "gate": "passed" if self.passed else "failed",
            "counts": self.counts,
            "notes": list(self.notes),
            "newly_failing_a_must": [change.test_id for change in self.gate_failures],
            "tests": [change.to_json() for change in self.changes],
        }

    def markdown(self) -> str:
        lines = [
            "# mbconform: comparison with the baseline",
            "",
            f"Baseline: `{self.baseline_file}`",
            "",
            f"**{self.verdict_line()}**",
            "",
            "| class | tests |",
            "|---|---|",
            *(f"| {name} | {count} |" for name, count in self.counts.items()),
        ]
        if self.notes:
            lines += ["", *(f"- note: {_cell(note)}" for note in self.notes)]
        for title, changes in (
            ("Newly failing a MUST (the gate fails)", self.gate_failures),
            ("Other changes (they do not fail the gate)", self.other_changes),
        ):
            if not changes:
                continue
            lines += [
                "",
                f"## {title}",
                "",
                "| test | class | baseline | this run | why |",
                "|---|---|---|---|---|",
            ]
            for change in changes:
                before = change.before.describe() if change.before is not None else "-"
                after = change.after.describe() if change.after is not None else "-"
                reason = change.after.reason if change.after is not None else ""
                cells = [f"`{change.test_id}`", change.change, _cell(before), _cell(after), _cell(reason)]
                lines.append(f"| {' | '.join(cells)} |")
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def compare(
    baseline: Baseline,
    run: Mapping[str, TestVerdict],
    *,
    baseline_file: str,
    harness_version: str,
    catalogue_version: str,
    profiles: Iterable[ProfileInfo],
) -> BaselineDiff:
    """Classify every test of the run and of the baseline; the notes say why ids might not line up."""
    changes = tuple(
        TestChange(
            test_id,
            classify(baseline.tests.get(test_id), run.get(test_id)),
            baseline.tests.get(test_id),
            run.get(test_id),
        )
        for test_id in sorted(set(baseline.tests) | set(run))
    )
    notes = []
    names = [p.name for p in profiles]
    if [p.name for p in baseline.profiles] != names:
        notes.append(
            f"the baseline ran the profiles {', '.join(p.name for p in baseline.profiles) or 'none'}; "
            f"this run: {', '.join(names) or 'none'} (test ids end in [profile] only when several run)"
        )
    if baseline.catalogue_version != catalogue_version:
        notes.append(f"the baseline ran catalogue {baseline.catalogue_version}; this run: {catalogue_version}")
    if baseline.harness_version != harness_version:
        notes.append(f"the baseline ran mbconform {baseline.harness_version}; this run: {harness_version}")
    return BaselineDiff(baseline_file, changes, tuple(notes))


def gate_status(status: int, diff: BaselineDiff, other_failures: bool) -> int:
    """The exit status of a run under the gate. pytest's 0 (all passed) and 1 (some failed) become 1 exactly
    when a test newly fails a MUST, or when something failed that is no verdict of ours (``other_failures``:
    another plugin's test, a crash in a hook); any other status (interrupted, usage error, nothing collected)
    is kept as it is."""
    if status not in (0, 1):
        return status
    return 1 if other_failures or not diff.passed else 0


def write_diff(reports: Path, diff: BaselineDiff) -> tuple[Path, Path]:
    reports.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = reports / "baseline-diff.json", reports / "baseline-diff.md"
    as_json.write_text(json.dumps(diff.to_json(), indent=2) + "\n", encoding="utf-8")
    as_markdown.write_text(diff.markdown(), encoding="utf-8")
    return as_json, as_markdown


def remove_stale_diff(reports: Path) -> None:
    """A run without --baseline removes the comparison an earlier run left, so it cannot mislead."""
    for name in ("baseline-diff.json", "baseline-diff.md"):
        (reports / name).unlink(missing_ok=True)
