"""The harness's memory while the adapter floods events.

The adapter is asked (the reference adapter's fault ``flood:<count>``) to send ``count`` events about the
target of the session's first request after start-up before it answers it. The harness side runs in a child
process (``python -m harness.bench.flood``), so the figures are its own: it runs the bench cycle's set-up,
whose first request gets the flood, with the step timeout raised so the whole flood is consumed, and samples
its resident set (``/proc/self/statm``) after the start-up and at 10%, 50% and 100% of the events consumed,
and its peak (:func:`peak_mib`). Memory is flat when the last sample is within ``FLAT_MIB`` of the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.plan import Goal
from ..core.runevents import FrameReceived, RunEvent, StepFinished
from ..core.simulate import DEFAULT
from ..runner.flow import Flow, run_flow

FLAT_MIB = 5.0  # the last sample may be this much above the first and memory still counts as flat
SECONDS_PER_EVENT = 0.001  # the step timeout while flooded: this per event, plus the profile's
CHILD_SLACK = 120.0  # seconds the child may take beyond its flood's step timeout (start-up, the catalogue)
MARKS = (0.1, 0.5, 1.0)
RESULT = "mbconform-bench-flood: "  # the child's result line on stdout


@dataclass
class FloodFigures:
    count: int
    consumed: int = 0  # frames received after the start-up
    seconds: float = 0.0  # from the end of the start-up until the flood was consumed (or the flow ended)
    after_startup_mib: float = 0.0
    samples_mib: dict[str, float] = field(default_factory=dict)  # "10%" -> resident MiB then
    peaks_mib: dict[str, float] = field(default_factory=dict)  # "10%" -> the peak so far then, and at the "end"
    peak_mib: float = 0.0
    verdict: str = ""
    first_violation: str = ""
    error: str = ""  # the measurement could not run

    @property
    def growth_mib(self) -> float | None:
        """The last sample minus the first; None if the flood was not consumed up to every mark."""
        if len(self.samples_mib) < len(MARKS):
            return None
        values = list(self.samples_mib.values())
        return values[-1] - values[0]


def resident_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    """The process's peak resident set: ``VmHWM`` of ``/proc/self/status``. Not ``ru_maxrss``: on Linux a
    child started by ``exec`` inherits its parent's peak in it (the kernel keeps the old image's high-water
    mark), so a child of a bench that has fuzzed reports the bench's peak, not its own."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB; no /proc: the best there is


class Sampler:
    """The flow's listener: counts the frames after the start-up and samples memory at the marks."""

    def __init__(self, figures: FloodFigures) -> None:
        self.figures = figures
        self.marks = [(f"{int(mark * 100)}%", max(1, int(figures.count * mark))) for mark in MARKS]
        self.started: float | None = None

    def __call__(self, event: RunEvent) -> None:
        figures = self.figures
        if self.started is None:
            if isinstance(event, StepFinished):  # the start-up's
                figures.after_startup_mib = resident_mib()
                figures.peaks_mib["start-up"] = peak_mib()
                self.started = time.perf_counter()
            return
        if not isinstance(event, FrameReceived):
            return
        figures.consumed += 1
        if self.marks and figures.consumed >= self.marks[0][1]:
            mark = self.marks.pop(0)[0]
            figures.samples_mib[mark] = resident_mib()
            figures.peaks_mib[mark] = peak_mib()
            if not self.marks:
                figures.seconds = time.perf_counter() - self.started


async def _flooded(url: str, count: int, profile_file: Path, specs: Path, cycle_file: Path) -> FloodFigures:
    from ..spec.loader import load_catalogue
    from ..suite import load_profile
    from .cycle import load_cycle

    catalogue = load_catalogue(specs)
    profile = load_profile(profile_file, catalogue)
    cycle = load_cycle(cycle_file, catalogue)
    settings = profile.settings()
    settings = replace(settings, step_timeout=settings.step_timeout + count * SECONDS_PER_EVENT, settle=0.0)
    figures = FloodFigures(count)
    sampler = Sampler(figures)
    flow = Flow((), goal=Goal(cycle.level, cycle.commands[0], decision=DEFAULT))
    result = await run_flow(flow, url=url, catalogue=catalogue, settings=settings, listener=sampler)
    if sampler.started is not None and not figures.seconds:
        figures.seconds = time.perf_counter() - sampler.started
    figures.verdict = result.verdict.name.lower()
    figures.first_violation = next((f"{t}: {v}" for t, v in result.violations), result.reason)[:300]
    figures.peak_mib = figures.peaks_mib["end"] = peak_mib()
    return figures


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.flood")
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--profile", type=Path, required=True)
    parser.add_argument("--specs", type=Path, required=True)
    parser.add_argument("--cycle", type=Path, required=True)
    args = parser.parse_args(argv)
    figures = asyncio.run(_flooded(args.url, args.count, args.profile, args.specs, args.cycle))
    print(RESULT + json.dumps(asdict(figures)), flush=True)
    return 0


def measure_flood(
    url: str, count: int, profile: Path, specs: Path, cycle: Path, step_timeout: float
) -> FloodFigures:
    """Run the flooded session in a child process and read its figures."""
    command = [
        sys.executable,
        "-m",
        "harness.bench.flood",
        url,
        f"--count={count}",
        f"--profile={profile}",
        f"--specs={specs}",
        f"--cycle={cycle}",
    ]
    limit = step_timeout + count * SECONDS_PER_EVENT + CHILD_SLACK
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return FloodFigures(count, error=f"the flooded harness did not finish within {limit:g}s")
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT):
            data: dict[str, Any] = json.loads(line[len(RESULT) :])
            return FloodFigures(**data)
    return FloodFigures(count, error=f"the flooded harness ended with {done.returncode}: {done.stderr[-500:]}")


if __name__ == "__main__":
    raise SystemExit(child_main())
