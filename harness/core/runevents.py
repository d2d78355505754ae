"""Run events: what the runner tells reporters. Plain dataclasses; the runner never imports a reporter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .steps import Step
from .violations import Verdict, Violation


@dataclass(frozen=True)
class CaseInfo:
    """What a reporter shows about a test case."""

    id: str
    title: str
    level: str
    feature: str
    story: str
    description: str
    spec: str  # where the case comes from (spec file and line)


@dataclass(frozen=True)
class StepStarted:
    step: Step
    title: str


@dataclass(frozen=True)
class FrameSent:
    text: str
    summary: str


@dataclass(frozen=True)
class FrameReceived:
    text: str
    summary: str
    kind: str  # request, response, event, malformed


@dataclass(frozen=True)
class StepFinished:
    step: Step
    verdict: Verdict
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class Note:
    """Something a reader of the report should see that is not a frame (a plan, a skipped check)."""

    text: str


RunEvent = StepStarted | FrameSent | FrameReceived | StepFinished | Note
Listener = Callable[[RunEvent], None]


def no_listener(event: RunEvent) -> None:
    """The listener used when no reporter is attached."""
