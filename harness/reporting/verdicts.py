"""Turn a flow's result into the text a reviewer reads (pytest's failure report and Allure's message)."""

from __future__ import annotations

from ..core.results import FlowResult
from ..core.shown import SHOWN_CHARS, TEXT_CHARS, printable, shown
from ..core.violations import Category, Verdict, convention_note

MAX_SHOWN = 600
FAILURE_CHARS = 131072  # a test's failure text (pytest, JUnit, Allure): the violations after it are counted


def explain(case_id: str, title: str, result: FlowResult) -> str:
    """The failure text: every part the adapter may have chosen (a step's target, a reason quoting its frame,
    a violation's values) bounded and escaped (issue 15), so it is safe on a terminal and in every file."""
    lines = [f"{case_id} {title}: {result.verdict.name.lower()}"]
    if result.reason:
        lines.append(f"  {printable(result.reason, TEXT_CHARS)}")
    size = sum(len(line) for line in lines)
    for index, (step, violation) in enumerate(result.violations):
        if size > FAILURE_CHARS:
            rest = len(result.violations) - index
            lines.append(f"- {rest} further violation(s) not shown: the failure text keeps {FAILURE_CHARS} chars")
            break
        told = [
            f"- in step '{shown(step, SHOWN_CHARS)}':",
            f"  [{violation.category.value}] {violation.title} ({violation.severity.value})",
            f"  {violation.message}",
        ]
        if violation.expected is not None:
            told.append(f"  expected: {shown(violation.expected, MAX_SHOWN)}")
        if violation.actual is not None:
            told.append(f"  arrived:  {shown(violation.actual, MAX_SHOWN)}")
        if violation.ref is not None:
            told.append(f"  spec:     {violation.spec}")
        if violation.inferred:
            told.append(f"  {convention_note(violation)}")
        lines.extend(told)
        size += sum(len(line) + 1 for line in told)
    if result.not_run:
        lines.append(f"- not run after the failure: {shown('; '.join(result.not_run), TEXT_CHARS)}")
    return printable("\n".join(lines))


class ConformanceFailure(AssertionError):
    """The IUT violated a MUST: the test failed (Allure: failed)."""


class AdapterError(Exception):
    """The connection was lost or the harness could not go on (Allure: broken)."""


# Reports show an exception's module; "mbconform.ConformanceFailure" reads better than the package path.
ConformanceFailure.__module__ = AdapterError.__module__ = "mbconform"


def categories() -> list[dict[str, object]]:
    """Allure categories, one per kind of violation, matched on the "[kind]" tag in every failure text.

    The regexes are valid in both JavaScript (Allure 3) and Java (Allure 2): no inline flags.
    """
    found: list[dict[str, object]] = [
        {
            "name": category.value.capitalize(),
            "messageRegex": rf"[\s\S]*\[{category.value}\][\s\S]*",
            "matchedStatuses": ["broken"]
            if category.value in ("connection lost", "harness fault")
            else ["failed"],
        }
        for category in Category
    ]
    found.append(
        {
            "name": "Inconclusive (the adapter could not be brought into the needed state)",
            "messageRegex": "INCONCLUSIVE[\\s\\S]*",
            "matchedStatuses": ["skipped"],
        }
    )
    found.append(
        {
            "name": "Not applicable (the profile does not declare it)",
            "messageRegex": "[\\s\\S]*not applicable[\\s\\S]*",
            "matchedStatuses": ["skipped"],
        }
    )
    return found


def raise_for(case_id: str, title: str, result: FlowResult) -> None:
    if result.verdict == Verdict.ERROR:
        raise AdapterError(explain(case_id, title, result))
    if result.verdict == Verdict.FAIL:
        raise ConformanceFailure(explain(case_id, title, result))
