"""Many sessions at once: N sessions, each on its own connection, each running a call flow of
``suites/conformance`` (round robin over the flows that apply to the profile), all started together with
``asyncio.gather`` and each bounded by the deadlines of its steps.

Isolation is checked twice: the oracle fails a flow that receives an event about an object its session never
announced, and every frame a session receives must be about that session (its target's first segment is the
session id of the session's first frame); the ids of the sessions must all differ.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ..cases import TestCase
from ..core.runevents import FrameReceived, RunEvent, StepFinished
from ..core.violations import Category, Verdict, Violation
from ..runner.deadline import Deadline, StepTimeout, within
from ..runner.flow import run_flow
from ..spec.catalogue import Catalogue
from ..suite import Profile

PLAN_STEPS = 8  # set-up steps a flow may plan at run time (as the selftest allows)
FLOW_SLACK = 10.0  # seconds a flow may take beyond its steps' deadlines, with many sessions on two cores


def session_url(base: str, profile: Profile, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The adapter URL with the profile's connection parameters and ``extra`` ones (``fault=NAME``)."""
    params = [*profile.connect_params.items(), *extra]
    if not params:
        return base
    return base + ("&" if "?" in base else "?") + urlencode(params)


@dataclass
class Watch:
    """A session's listener: the session id of its first frame, frames about any other session."""

    own: str | None = None
    frames: int = 0
    foreign: list[str] = field(default_factory=list)  # the first few, for the report
    foreign_count: int = 0
    started: bool = False  # the start-up finished: the session is open
    on_open: Callable[[], None] = lambda: None

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, StepFinished) and not self.started:
            self.started = True
            self.on_open()
        if not isinstance(event, FrameReceived):
            return
        self.frames += 1
        target = _target(event.text)
        if target is None:
            return
        session = target.split(".", 1)[0]
        if self.own is None:
            self.own = session
        elif session != self.own:
            self.foreign_count += 1
            if len(self.foreign) < 3:
                self.foreign.append(event.text[:200])


def _target(text: str) -> str | None:
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    target = frame.get("target") if isinstance(frame, dict) else None
    return target if isinstance(target, str) and target else None


@dataclass
class SessionsRun:
    sessions: int
    seconds: float = 0.0
    verdicts: Counter[str] = field(default_factory=Counter)
    flows: Counter[str] = field(default_factory=Counter)  # flow id -> sessions that ran it
    not_passed: list[str] = field(default_factory=list)  # "S12 MB-FLOW-HOLD-001: fail: ..." (the first few)
    foreign_frames: int = 0
    foreign_examples: list[str] = field(default_factory=list)
    shared_ids: int = 0  # sessions whose id another session also had
    peak_open: int = 0  # sessions open at once at the most
    frames: int = 0

    @property
    def passed(self) -> int:
        return self.verdicts.get("pass", 0)

    @property
    def failed(self) -> int:
        return self.sessions - self.passed

    def to_json(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "seconds": round(self.seconds, 3),
            "passed": self.passed,
            "failed": self.failed,
            "verdicts": dict(self.verdicts),
            "flows": dict(self.flows),
            "not_passed": self.not_passed,
            "foreign_frames": self.foreign_frames,
            "foreign_examples": self.foreign_examples,
            "shared_session_ids": self.shared_ids,
            "peak_open": self.peak_open,
            "frames": self.frames,
        }


async def run_sessions(
    url: str, catalogue: Catalogue, profile: Profile, cases: Sequence[TestCase], count: int
) -> SessionsRun:
    """Run ``count`` sessions at once, session i running ``cases[i % len(cases)]``."""
    if not cases:
        raise ValueError("cases: no call flow applies to the profile")
    run = SessionsRun(count)
    settings = profile.settings()
    opened = 0

    def note_open() -> None:
        nonlocal opened
        opened += 1
        run.peak_open = max(run.peak_open, opened)

    watches = [Watch(on_open=note_open) for _ in range(count)]

    async def one(index: int) -> None:
        nonlocal opened
        case, watch = cases[index % len(cases)], watches[index]
        steps = len(case.flow.steps) + (PLAN_STEPS if case.flow.goal is not None else 0)
        bound = Deadline(
            settings.connect_timeout + settings.step_timeout * (steps + 1) + FLOW_SLACK, f"the flow of {case.id}"
        )
        flow = run_flow(case.flow, url=url, catalogue=catalogue, settings=settings, listener=watch)
        try:
            result = await within(bound, flow, lambda: "the flow overran the bound of its steps' deadlines")
            verdict, reason = result.verdict, result.reason
            first = next((f"{title}: {violation}" for title, violation in result.violations), reason)
        except StepTimeout as exc:
            violation = Violation(Category.HARNESS_FAULT, "flow overran", str(exc))
            verdict, first = violation.verdict, str(exc)
        finally:
            if watch.started:
                opened -= 1
        name = verdict.name.lower()
        run.verdicts[name] += 1
        run.flows[case.id] += 1
        if verdict != Verdict.PASS and len(run.not_passed) < 20:
            run.not_passed.append(f"{watch.own or '?'} {case.id}: {name}: {first}"[:400])

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    run.seconds = time.perf_counter() - started
    ids = Counter(watch.own for watch in watches if watch.own is not None)
    run.shared_ids = sum(times for times in ids.values() if times > 1)
    for watch in watches:
        run.foreign_frames += watch.foreign_count
        run.frames += watch.frames
        run.foreign_examples.extend(watch.foreign[: max(0, 3 - len(run.foreign_examples))])
    return run
