"""Raw against checked: the same steps on the same connection, sent by a bare ``websockets`` loop and by the
harness with every check and the oracle on.

The cycle (``suites/bench/cycle.yaml``) is a few commands on one object that bring it back to where it
started, so it repeats on one connection as often as needed. After the start-up and a set-up planned from the
catalogue, one checked cycle records the exact text of each request and how many frames each step received.
Then the phases alternate on that connection: the raw loop sends each recorded text and receives exactly the
recorded number of frames, parsing nothing; the checked phase runs each step through
:meth:`MediaBarSession.run` (classification, the shadow model, correlation, the event lists, the oracle), with
no fence and the settle window at 0 (a settle window is a deliberate quiet wait, not the cost of checking).
Every phase is bounded by a deadline; the checked phase must pass every step and receive the recorded frames.
"""

from __future__ import annotations

import cProfile
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from ..core.messages import encode
from ..core.plan import Goal, find_plan
from ..core.runevents import FrameReceived, FrameSent, RunEvent
from ..core.simulate import DEFAULT, Platform
from ..core.steps import Step
from ..core.violations import Verdict
from ..runner.connection import Connection, ConnectionLost
from ..runner.deadline import Deadline, StepTimeout, within
from ..runner.session import Inconclusive, MediaBarSession
from ..runner.settings import Settings
from ..spec.catalogue import Catalogue, with_facts
from ..spec.loader import SpecError
from ..spec.yamlfile import load_yaml_file

BENCH_FORMAT = "mbconform/bench/1"
KEYS = frozenset({"format", "name", "description", "level", "cycle"})
SLOWEST_STEP = 0.05  # seconds: a phase of n steps is cut off after step_timeout + n times this
PROFILED_PHASES = 5  # the checked phase under cProfile is this many phases long


class BenchError(Exception):
    """The benchmark could not run a part (the adapter would not start a session, a step failed...)."""


@dataclass(frozen=True)
class BenchCycle:
    name: str
    file: str
    level: str
    commands: tuple[str, ...]


def load_cycle(path: Path, catalogue: Catalogue) -> BenchCycle:
    """Read a bench cycle file; every problem is a :class:`SpecError` naming the file and line."""
    loaded = load_yaml_file(path, str(path))
    if loaded.problems:
        raise SpecError(list(loaded.problems))
    data = loaded.data
    if not isinstance(data, dict) or data.get("format") != BENCH_FORMAT:
        raise SpecError([loaded.problem((), f"not a bench cycle: expected format: {BENCH_FORMAT}")])
    problems = [loaded.problem((key,), f"unknown key {key!r}") for key in sorted(set(data) - KEYS)]
    level = data.get("level")
    if level not in catalogue.levels:
        problems.append(loaded.problem(("level",), f"level must be one of {sorted(catalogue.levels)}"))
    commands = data.get("cycle")
    if not isinstance(commands, list) or not commands:
        problems.append(loaded.problem(("cycle",), "cycle must be a list of commands"))
        commands = []
    for index, name in enumerate(commands):
        spec = catalogue.commands.get(name) if isinstance(name, str) else None
        if spec is None:
            problems.append(loaded.problem(("cycle", index), f"unknown command {name!r}"))
        elif spec.level != level:
            problems.append(loaded.problem(("cycle", index), f"{name} is a {spec.level} command, not a {level}'s"))
    if problems:
        raise SpecError(problems)
    return BenchCycle(str(data.get("name", path.stem)), loaded.file, str(level), tuple(commands))


@dataclass
class Tally:
    """A listener that counts the frames received and keeps the texts sent (the session's and the
    connection's listener during the benchmark)."""

    received: int = 0
    sent: list[str] = field(default_factory=list)

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, FrameReceived):
            self.received += 1
        elif isinstance(event, FrameSent):
            self.sent.append(event.text)


@dataclass
class CycleFigures:
    cycle: BenchCycle
    target: str  # the object the cycle ran on
    requests: list[str]  # the recorded request texts
    frames: list[int]  # frames each step received in the recording cycle
    steps_per_phase: int
    raw_rates: list[float] = field(default_factory=list)  # steps per second, one per round
    checked_rates: list[float] = field(default_factory=list)
    checked_not_passed: int = 0  # checked steps whose verdict was not pass
    frames_differ: int = 0  # checked phases that received another number of frames than recorded
    profile: cProfile.Profile | None = None  # an extra checked phase under cProfile
    shown_requests: list[str] = field(default_factory=list)  # the requests as the report may show them

    @property
    def ratios(self) -> list[float]:
        return [checked / raw for raw, checked in zip(self.raw_rates, self.checked_rates, strict=True)]

    @staticmethod
    def median(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0


async def measure_cycle(
    url: str,
    catalogue: Catalogue,
    settings: Settings,
    cycle: BenchCycle,
    *,
    rounds: int,
    cycles: int,
    profile: bool = True,
) -> CycleFigures:
    """Alternate ``rounds`` raw and checked phases of ``cycles`` cycles each on one connection."""
    settings = replace(settings, settle=0.0)
    tally = Tally()  # sees the frames as they are: the raw loop sends the recorded texts
    redactor = settings.redactor.session()
    try:
        connection = await Connection.for_settings(url, settings, tally, redactor)
    except (ConnectionLost, StepTimeout) as exc:
        raise BenchError(f"cannot connect: {exc}") from exc
    session = MediaBarSession(catalogue, settings, connection, tally, url)
    try:
        figures = await _measure(session, tally, cycle, rounds, cycles, profile)
        figures.shown_requests = [redactor.frame(text) for text in figures.requests]
        return figures
    except (ConnectionLost, StepTimeout, Inconclusive) as exc:
        raise BenchError(f"the cycle {cycle.name}: {exc}") from exc
    finally:
        await connection.close()


async def _measure(
    session: MediaBarSession, tally: Tally, cycle: BenchCycle, rounds: int, cycles: int, profile: bool
) -> CycleFigures:
    failed = [v for v in await session.bootstrap() if v.verdict >= Verdict.FAIL]
    if failed or not session.ready:
        raise BenchError(f"the session did not start: {failed[0] if failed else 'no ready event'}")
    address = await _set_up(session, cycle)
    steps = [Step("command", name, "$goal", title=f"bench: {name}") for name in cycle.commands]
    requests, frames = [], []
    for step in steps:  # the recording cycle
        tally.received, tally.sent = 0, []
        result = await session.run(step)
        if result.verdict != Verdict.PASS or len(tally.sent) != 1 or result.request is None:
            first = result.violations[0] if result.violations else "not exactly one request sent"
            raise BenchError(f"the recording cycle: {step.name} on {address}: {first}")
        requests.append(encode(result.request))  # as sent: the tally's text is the recorded (redacted) one
        frames.append(tally.received)
    figures = CycleFigures(cycle, address, requests, frames, cycles * len(steps))
    raw = _raw_phase(session.connection, requests, frames, cycles)
    checked = _checked_phase(session, tally, steps, cycles, figures)
    budget = session.settings.step_timeout + figures.steps_per_phase * SLOWEST_STEP
    await _timed("a warm-up raw phase", raw, budget)  # not counted: the first phases warm caches up
    await _timed("a warm-up checked phase", checked, budget)
    for _ in range(rounds):
        figures.raw_rates.append(figures.steps_per_phase / await _timed("the raw phase", raw, budget))
        figures.checked_rates.append(figures.steps_per_phase / await _timed("the checked phase", checked, budget))
    if profile:  # a longer phase, so that the harness's own functions show above the profiler's noise
        longer = _checked_phase(session, tally, steps, cycles * PROFILED_PHASES, figures)
        figures.profile = cProfile.Profile()
        figures.profile.enable()
        try:
            await _timed("the profiled checked phase", longer, budget * PROFILED_PHASES * 3)
        finally:
            figures.profile.disable()
    return figures


async def _set_up(session: MediaBarSession, cycle: BenchCycle) -> str:
    """Bring an object where the cycle's first command takes its main path (the planner's shortest way), and
    check on the catalogue's simulation that the cycle brings it back to where it started."""
    settings = session.settings
    goal = Goal(cycle.level, cycle.commands[0], decision=DEFAULT)
    plan = find_plan(session.oracle, goal, commands=settings.commands, stimuli=settings.stimuli)
    if plan is None:
        raise BenchError(f"no declared command or stimulus leads to {goal.describe()} ({cycle.file})")
    for step in plan.steps:
        result = await session.run(step)
        if result.verdict >= Verdict.FAIL:
            raise BenchError(f"the set-up step {result.title}: {result.violations[0]}")
    address = session.resolve(plan.target)
    obj = session.model.get(address)
    if obj is None or not goal.accepts(session.oracle, obj):
        raise BenchError(f"after the set-up, {address} is not {goal.describe()}")
    session.variables["goal"] = address
    simulated = session.oracle.copy()
    start = _situation(simulated, address)
    for command in cycle.commands:
        example = session.catalogue.commands[command].example_for(simulated.platform)
        request = {"command": command, "target": address, "data": with_facts(dict(example), simulated.facts)}
        decision = simulated.decide(request)
        if decision.refusal is not None or decision.result != "success":
            raise BenchError(f"{cycle.file}: by the catalogue, {command} does not succeed in the cycle")
        simulated.handle(request)
    if _situation(simulated, address) != start:
        raise BenchError(f"{cycle.file}: by the catalogue, the cycle does not bring {address} back where it began")
    return address


def _situation(platform: Platform, address: str) -> tuple[Any, ...]:
    obj = platform.model.get(address)
    return (None,) if obj is None else (obj.state, sorted(obj.facets.items()))


def _raw_phase(
    connection: Connection, requests: list[str], frames: list[int], cycles: int
) -> Callable[[], Awaitable[None]]:
    """The bare loop: send each recorded text, receive exactly the recorded number of frames, parse nothing."""
    socket = connection.socket
    plan = list(zip(requests, frames, strict=True))

    async def phase() -> None:
        try:  # the phase is bounded as a whole (``_timed``), each send by the connection's drain deadline
            for _ in range(cycles):
                for text, count in plan:
                    await socket.send(text)
                    for _ in range(count):
                        await socket.recv()
        except ConnectionClosed as exc:
            raise connection.lost(exc) from exc

    return phase


def _checked_phase(
    session: MediaBarSession, tally: Tally, steps: list[Step], cycles: int, figures: CycleFigures
) -> Callable[[], Awaitable[None]]:
    """The harness: each step with every check and the oracle on."""
    expected = sum(figures.frames) * cycles

    async def phase() -> None:
        tally.received, tally.sent = 0, []
        for _ in range(cycles):
            for step in steps:
                result = await session.run(step)
                if result.verdict != Verdict.PASS:
                    figures.checked_not_passed += 1
        if tally.received != expected:
            figures.frames_differ += 1

    return phase


async def _timed(what: str, phase: Callable[[], Awaitable[None]], budget: float) -> float:
    """Run the phase within ``budget`` seconds; return how long it took."""
    started = time.perf_counter()
    await within(Deadline(budget, what), phase(), lambda: "the phase overran its bound")
    return time.perf_counter() - started
