"""A long fuzz run's status line, at a steady interval: examples, steps per second, findings so far, the
commands and states reached, and the time left in the budget.

No thread and no timer: the fuzzer calls :meth:`Progress.tick` after every step (each bounded by the step
timeout), and a line is written when the interval has passed since the last one. A run that ends before its
first interval writes no line; the last line is always written by :meth:`Progress.done`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..spec.catalogue import Catalogue
from .coverage import Coverage


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


@dataclass
class Progress:
    label: str  # which fuzz test: "MB-FUZZ-FLOWS [profile]"
    interval: float  # seconds between lines
    budget: float  # seconds of the run's budget
    write: Callable[[str], None]
    commands: frozenset[str] = frozenset()  # what "commands reached" counts against (the profile's)
    states: frozenset[tuple[str, str]] = frozenset()  # (level, state) of the catalogue
    clock: Callable[[], float] = time.monotonic
    lines: int = 0
    _started: float = field(default=0.0, init=False)
    _next: float = field(default=0.0, init=False)

    @classmethod
    def for_catalogue(
        cls,
        label: str,
        interval: float,
        budget: float,
        write: Callable[[str], None],
        catalogue: Catalogue,
        commands: Iterable[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> Progress:
        states = frozenset(
            (name, state) for name, level in catalogue.levels.items() for state in level.states_in_order
        )
        return cls(label, interval, budget, write, frozenset(commands), states, clock)

    def start(self) -> None:
        self._started = self.clock()
        self._next = self._started + self.interval

    def tick(self, coverage: Coverage, findings: int) -> None:
        now = self.clock()
        if now < self._next:
            return
        self._next = now + self.interval
        self.write(self.line(coverage, findings, now))

    def done(self, coverage: Coverage, findings: int) -> None:
        if self.lines:  # only a run that showed progress says where it ended
            self.write(self.line(coverage, findings, self.clock(), ended=True))

    def line(self, coverage: Coverage, findings: int, now: float, ended: bool = False) -> str:
        self.lines += 1
        elapsed = max(now - self._started, 1e-9)
        reached = coverage.command_names() & self.commands if self.commands else coverage.command_names()
        commands = f"{len(reached)}/{len(self.commands)}" if self.commands else str(len(reached))
        seen = {(level, state) for level, counts in coverage.states.items() for state in counts}
        states = f"{len(seen & self.states)}/{len(self.states)}" if self.states else str(len(seen))
        if ended:
            left = "ended"
        elif elapsed < self.budget:
            left = f"{_duration(self.budget - elapsed)} left of {_duration(self.budget)}"
        else:
            left = f"budget of {_duration(self.budget)} spent: ending the example under way"
        return (
            f"{self.label}: {_duration(elapsed)}, {coverage.examples} examples, {coverage.steps / elapsed:.1f} "
            f"steps/s, {findings} finding{'s' if findings != 1 else ''}, {commands} commands and {states} "
            f"states reached, {left}"
        )
