"""What the core reports: violations (the IUT broke the protocol) and verdicts.

Three kinds of failure are kept apart (see STYLE.md): a spec error (``SpecError``: bad YAML, file and line),
a harness error (:class:`HarnessError`: our bug or misuse), and a :class:`Violation` (the IUT broke the
protocol: title, message, severity, spec reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from ..spec.catalogue import SpecRef


class HarnessError(Exception):
    """The harness itself failed or was misused (never the IUT's fault)."""


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

    @property
    def verdict(self) -> Verdict:
        if self.category in (Category.CONNECTION_LOST,):
            return Verdict.ERROR
        return Verdict.FAIL if self.severity is Severity.MUST else Verdict.WARN

    def __str__(self) -> str:
        text = f"[{self.category.value}] {self.title}: {self.message}"
        if self.ref is not None:
            text += f"\n    spec: {self.ref}"
        return text
