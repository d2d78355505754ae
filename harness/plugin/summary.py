"""What a conformance run keeps of each test: verdicts counted, the failing cases by id, and per test a small
record (verdict, violation categories, stimuli produced, one line of why) for the baseline and the
certificate. A record never holds the flow's result or transcript, so memory stays bounded by the number of
tests, whatever the adapter sends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..cases import TestCase
from ..core.results import FlowResult
from ..core.shown import printable
from ..core.violations import Verdict
from ..reporting.baseline import TestVerdict
from ..reporting.certificate import CaseOutcome

REASON_CHARS = 200


@dataclass(frozen=True)
class TestRecord:
    __test__ = False  # not a pytest test class

    test_id: str  # the pytest item name: the case id, with [profile] when several profiles run
    case_id: str
    profile: str
    verdict: str  # pass, warn, inconclusive, fail, error, not applicable
    categories: tuple[str, ...] = ()
    stimuli: tuple[tuple[str, str], ...] = ()  # (stimulus, the worst verdict of its steps)
    reason: str = ""
    conventions: tuple[str, ...] = ()  # the catalogue's conventions the adapter differs in (undeclared)
    title: str = ""  # the case's title (escaped)
    requirements: tuple[str, ...] = ()  # the requirement ids of the case and of the checks it violated

    @property
    def failing(self) -> bool:
        return self.verdict in ("fail", "error")


def _one_line(text: str) -> str:
    """The first line, cut and escaped (it may quote the adapter: issue 15)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return printable(line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1] + "…")


def _reason(verdict: Verdict, result: FlowResult) -> str:
    if verdict == Verdict.PASS:
        return ""
    worst = [v for _, v in result.violations if v.verdict == verdict]
    if worst:  # the record lists the categories; the title often only repeats its category
        first = worst[0]
        text = first.message if first.title == first.category.value else f"{first.title}: {first.message}"
        if not first.requirements:
            return _one_line(text)
        cited = f" ({', '.join(first.requirements)})"  # kept whole: the line is cut before it
        line, room = _one_line(text), max(REASON_CHARS - len(cited), 1)
        return (line if len(line) <= room else line[: room - 1] + "…") + cited
    return _one_line(result.reason)


MAX_CONVENTIONS = 8  # per test: the record stays small whatever the adapter does


def _conventions(result: FlowResult) -> tuple[str, ...]:
    """The conventions the adapter differs in, one line each: the kind of check and the catalogue's reading."""
    found: dict[str, None] = {}
    for _, violation in result.violations:
        if violation.is_convention and violation.inferred and len(found) < MAX_CONVENTIONS:
            kind = violation.kind.value if violation.kind is not None else violation.title
            found[_one_line(f"{kind}: {violation.inferred}")] = None
    return tuple(found)


def _stimuli(result: FlowResult) -> tuple[tuple[str, str], ...]:
    found: dict[str, Verdict] = {}
    for step in result.steps:
        if step.step.kind == "stimulus":
            found[step.step.name] = found.get(step.step.name, Verdict.PASS).worst(step.verdict)
    return tuple(sorted((name, verdict.name.lower()) for name, verdict in found.items()))


@dataclass
class RunSummary:
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # profile -> verdict -> cases
    failing: list[str] = field(default_factory=list)
    records: dict[str, TestRecord] = field(default_factory=dict)  # test id -> what it gave

    def record(
        self,
        case: TestCase,
        profile: str,
        verdict: Verdict,
        skipped: bool = False,
        *,
        test_id: str | None = None,
        result: FlowResult | None = None,
        reason: str = "",
    ) -> None:
        """``result``: the flow's result, of which only the record is kept; ``reason``: why, without one."""
        key = "not applicable" if skipped else verdict.name.lower()
        self.counts.setdefault(profile, Counter())[key] += 1
        if verdict >= Verdict.FAIL:
            self.failing.append(f"{case.id} [{profile}] {case.title}: {verdict.name.lower()}")
        categories: tuple[str, ...] = ()
        stimuli: tuple[tuple[str, str], ...] = ()
        conventions: tuple[str, ...] = ()
        requirements: dict[str, None] = dict.fromkeys(case.ref.requirements)
        if skipped:
            reason = case.why_not
        elif result is not None:
            categories = tuple(sorted({violation.category.value for _, violation in result.violations}))
            stimuli = _stimuli(result)
            reason = _reason(verdict, result)
            conventions = _conventions(result)
            for _, violation in result.violations:
                requirements.update(dict.fromkeys(violation.requirements))
        test_id = test_id or case.id
        self.records[test_id] = TestRecord(
            test_id,
            case.id,
            profile,
            key,
            categories,
            stimuli,
            _one_line(reason),
            conventions,
            title=_one_line(case.title),
            requirements=tuple(requirements),
        )

    @property
    def failing_tests(self) -> int:
        return sum(record.failing for record in self.records.values())

    def verdicts(self) -> dict[str, TestVerdict]:
        """By test id: what the baseline records and compares."""
        return {
            test_id: TestVerdict(record.verdict, record.categories, record.reason)
            for test_id, record in self.records.items()
        }

    def outcomes(self, profile: str) -> dict[str, CaseOutcome]:
        """By case id, the cases of one profile that ran: what the certificate aggregates."""
        return {
            record.case_id: CaseOutcome(record.verdict, dict(record.stimuli), record.reason, record.conventions)
            for record in self.records.values()
            if record.profile == profile
        }

    def lines(self, url: str) -> list[str]:
        order = ["pass", "warn", "inconclusive", "fail", "error", "not applicable"]
        lines = []
        for profile, counts in self.counts.items():
            counted = ", ".join(f"{counts[key]} {key}" for key in order if counts[key])
            lines.append(f"adapter {url} (profile {profile}): {counted or 'no cases run'}")
        if not self.counts:
            lines.append(f"adapter {url}: no cases run")
        lines.extend(f"  {line}" for line in self.failing)
        return lines
