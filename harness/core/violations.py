"""What the core reports: violations (the IUT broke the protocol) and verdicts.

Three kinds of failure are kept apart (see STYLE.md): a spec error (``SpecError``: bad YAML, file and line),
a harness fault (our bug: the flow ends with a violation of category ``HARNESS_FAULT`` and verdict error),
and a :class:`Violation` (the IUT broke the protocol: title, message, severity, spec reference).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from ..spec.catalogue import SpecRef

EVIDENCE_CHARS = 2000


def evidence(value: Any) -> Any:
    """What a violation keeps of the IUT's data: the value itself if small, else a cut JSON text."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)[:EVIDENCE_CHARS]
    return value if len(text) <= EVIDENCE_CHARS else text[:EVIDENCE_CHARS] + f"… ({len(text)} chars)"


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
    category: Category
    title: str
    message: str
    severity: Severity = Severity.MUST
    ref: SpecRef | None = None
    expected: Any = None
    actual: Any = None
    inferred: str | None = None  # why the expectation is inferred rather than printed in the seeds

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
            text += f"\n    inferred: {self.inferred}"
        return text
