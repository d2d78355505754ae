"""What the core reports: violations (the IUT broke the protocol) and verdicts.

Three kinds of failure are kept apart (see STYLE.md): a spec error (``SpecError``: bad YAML, file and line),
a harness fault (our bug: the flow ends with a violation of category ``HARNESS_FAULT`` and verdict error),
and a :class:`Violation` (the IUT broke the protocol: title, message, severity, spec reference).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import Enum, IntEnum
from typing import Any

from ..spec.catalogue import SpecRef
from .shown import TEXT_CHARS, bounded, cut

EVIDENCE_CHARS = 2000
TITLE_CHARS = 200  # a violation's title
MESSAGE_CHARS = TEXT_CHARS  # a violation's message, with whatever of the adapter's it quotes
STEP_VIOLATION_CHARS = 32768  # all the violation texts one step keeps, of every kind (issue 15)


EVIDENCE_SLACK = 40  # a text already cut (with its "… (N chars)") is not cut again when a violation is copied


def evidence(value: Any) -> Any:
    """What a violation keeps of the IUT's data: the value itself if small, else a cut JSON text."""
    if isinstance(value, str):
        return value if len(value) <= EVIDENCE_CHARS + EVIDENCE_SLACK else cut(value, EVIDENCE_CHARS)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)[:EVIDENCE_CHARS]
    return value if len(text) <= EVIDENCE_CHARS else cut(text, EVIDENCE_CHARS)


class Severity(Enum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class Category(Enum):
    """Failure kinds, as Allure groups them (categories.json)."""

    MISSING_EVENT = "missing event"
    WRONG_ORDER = "wrong order"
    UNEXPECTED_EVENT = "unexpected event"
    SHAPE_MISMATCH = "shape mismatch"
    WRONG_RESULT = "wrong result"
    TIMEOUT = "timeout"
    CONNECTION_LOST = "connection lost"
    MALFORMED_FRAME = "malformed frame"
    HARNESS_FAULT = "harness fault"
    # the adapter differs from a convention: what the catalogue infers where the seeds are silent, and the
    # profile did not declare as the adapter's own (a warning, never a failure)
    CONVENTION = "convention"


class Verdict(IntEnum):
    """Verdicts only get worse: pass < warn < inconclusive < fail < error (DESIGN.md)."""

    PASS = 0
    WARN = 1
    INCONCLUSIVE = 2
    FAIL = 3
    ERROR = 4

    def worst(self, other: Verdict) -> Verdict:
        return max(self, other)


@dataclass(frozen=True)
class Violation:
    """What the IUT did against the spec. The provenance of the expectation decides what it weighs (issue 14,
    ERRATA "Provenance"): an expectation printed in the seeds (or ruled on in ERRATA) is a MUST unless it was
    built as a SHOULD; an expectation the catalogue *infers* (``inferred``: why) is a convention, and a
    deviation from it that the profile did not declare (``declared``) is a warning of category
    ``convention``, whatever kind of check found it (``kind`` keeps that kind). This is the one place where
    that rule is applied: every check only says what it enforced and where that comes from."""

    category: Category
    title: str
    message: str
    severity: Severity = Severity.MUST
    ref: SpecRef | None = None
    expected: Any = None
    actual: Any = None
    inferred: str | None = None  # why the expectation is inferred rather than printed in the seeds
    declared: bool = False  # the profile declared this convention as the adapter's own: a deviation is a MUST
    kind: Category | None = None  # for a convention: the kind of check that found it (missing event, ...)
    area: str | None = None  # which of the catalogue's conventions (AREAS) an inferred expectation belongs to

    def __post_init__(self) -> None:
        # Bounded and escaped once, here, for every writer (console, JUnit, Allure, certificate): a message may
        # quote the adapter's values (issue 15: a 1 MB target, an ESC sequence, a lone surrogate).
        object.__setattr__(self, "message", bounded(str(self.message), MESSAGE_CHARS))
        object.__setattr__(self, "title", bounded(str(self.title), TITLE_CHARS))
        for name in ("expected", "actual"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, evidence(getattr(self, name)))
        if self.inferred and not self.declared and self.category is not Category.CONVENTION:
            if self.category in (Category.CONNECTION_LOST, Category.HARNESS_FAULT):
                return  # never a matter of convention
            object.__setattr__(self, "kind", self.category)
            object.__setattr__(self, "category", Category.CONVENTION)
            object.__setattr__(self, "severity", Severity.SHOULD)

    @property
    def is_convention(self) -> bool:
        return self.category is Category.CONVENTION

    @property
    def verdict(self) -> Verdict:
        if self.category in (Category.CONNECTION_LOST, Category.HARNESS_FAULT):
            return Verdict.ERROR
        return Verdict.FAIL if self.severity is Severity.MUST else Verdict.WARN

    @property
    def requirements(self) -> tuple[str, ...]:
        """The ids of the seed requirements the violated check enforces (specs/requirements.yaml)."""
        return self.ref.requirements if self.ref is not None else ()

    @property
    def spec(self) -> str:
        """Where the violated rule is written, and the requirements it enforces: the one way every report
        (console, Allure, JUnit, certificate) names them."""
        if self.ref is None:
            return ""
        text = str(self.ref)
        if self.requirements:
            text += f" requirements: {', '.join(self.requirements)}"
        return text

    def __str__(self) -> str:
        text = f"[{self.category.value}] {self.title}: {self.message}"
        if self.ref is not None:
            text += f"\n    spec: {self.spec}"
        if self.inferred:
            text += f"\n    {convention_note(self)}"
        return text


def size(violation: Violation) -> int:
    """What a violation's texts weigh, for the per-step cap."""
    quoted = sum(len(evidence_text(v)) for v in (violation.expected, violation.actual) if v is not None)
    return len(violation.title) + len(violation.message) + quoted


def evidence_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def capped(violations: list[Violation], limit: int = STEP_VIOLATION_CHARS) -> list[Violation]:
    """One step's violations, their texts at most ``limit`` characters in all (whatever kinds they are): the
    first ones whole, then one violation that counts the rest, with the worst verdict among them, so the
    step's verdict does not change."""
    kept: list[Violation] = []
    used = 0
    for index, violation in enumerate(violations):
        weight = size(violation)
        if used + weight > limit:
            rest = violations[index:]
            worst = max(rest, key=lambda v: v.verdict)
            dropped = sum(size(v) for v in rest)
            text = (
                f"{len(rest)} further violation(s) of this step ({dropped} characters) not shown: the step keeps "
                f"{limit} characters of violation texts; the first of them: {worst.title}"
            )
            kept.append(replace(worst, message=text, expected=None, actual=None))
            return kept
        kept.append(violation)
        used += weight
    return kept


# The areas of the catalogue's conventions, as a profile adopts them (``conventions.adopt``): an adopted area
# is declared to be the adapter's own, so a deviation from it is a MUST.
AREAS = {
    "events": "the events of lists the seeds cut or do not print, and their order",
    "payloads": "the data of events whose payload the seeds do not print (state.updated, focus...)",
    "states": "the state names of specs/states.yaml",
    "transitions": "which state may follow which, and how many calls an interaction may have",
    "results": "where a command succeeds or fails beyond what the seeds say, and inferred commands' results",
    "targets": "which object a creation event is about",
    "startup": "how a session starts (specs/session/startup.yaml)",
}


def adopted(violation: Violation, areas: frozenset[str]) -> Violation:
    """The violation as the profile weighs it: a convention of an area the profile adopts is a MUST again."""
    if not violation.is_convention or violation.area not in areas or violation.kind is None:
        return violation
    return replace(violation, category=violation.kind, severity=Severity.MUST, declared=True, kind=None)


def convention_note(violation: Violation) -> str:
    """What a reviewer reads under a violation of an inferred expectation."""
    if violation.declared:
        return f"declared convention: {violation.inferred} (the profile declares it, so a deviation fails)"
    area = violation.area or "all"
    return (
        f"convention: {violation.inferred} (the seeds do not say this; specs/ERRATA.md. A warning: "
        f"{DECLARED_BY.get(area, '')}or adopt the catalogue's reading with conventions.adopt: [{area}] to make it "
        "binding)"
    )


# where a profile's conventions section declares the adapter's own way, per area (AREAS)
DECLARED_BY = {
    "states": "declare the adapter's state names in conventions.states, ",
    "events": "declare events of the adapter's own in conventions.extra_events, ",
    "startup": "declare how channels become usable in conventions.activation and the start-up requests in the "
    "profile's startup section, ",
    "targets": "declare which object each creation event is about in conventions.creation_targets, ",
}
