"""What running a flow produced: per step and in all. Plain data, read by reporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .messages import Response
from .steps import Step
from .violations import Verdict, Violation


@dataclass
class StepResult:
    step: Step
    target: str
    title: str = ""
    request: dict[str, Any] | None = None
    response: Response | None = None
    violations: list[Violation] = field(default_factory=list)
    verdict: Verdict = Verdict.PASS
    bound: dict[str, str] = field(default_factory=dict)  # 'as' names of the step's list -> the addresses
    expected: frozenset[str] = frozenset()  # the results the step accepted (the catalogue's prediction)


@dataclass
class FlowResult:
    verdict: Verdict = Verdict.PASS
    violations: list[tuple[str, Violation]] = field(default_factory=list)  # (step title, violation)
    steps: list[StepResult] = field(default_factory=list)
    reason: str = ""
    transcript: str = ""
    not_run: list[str] = field(default_factory=list)

    def add(self, title: str, violations: list[Violation]) -> None:
        for violation in violations:
            self.violations.append((title, violation))
            self.verdict = self.verdict.worst(violation.verdict)
