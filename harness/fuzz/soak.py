"""A long stream of fuzzed frames in one session: the adapter must answer each as the catalogue says, keep
the connection open and stay responsive, with memory that does not grow beyond its live objects.

The frames come from the same strategies as message-level fuzzing: a pool of distinct frames (malformed,
invalid, and valid requests with any data their schema allows), drawn once by Hypothesis, derandomized, and
sent in turn until the count is reached. Each is a frame step with every check of the suite.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ..core.violations import Verdict
from ..runner.connection import Connection
from ..runner.session import MediaBarSession
from ..spec.catalogue import Catalogue
from ..suite import Profile
from .frames import Frame, bad_frames, valid_requests
from .machine import frame_step

POOL = 2000  # distinct frames drawn
WARM_UP = 0.1  # memory is compared from this share of the stream on
MAX_PROBLEMS = 50


@dataclass
class SoakReport:
    messages: int = 0  # frames sent, probes included
    frames: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    connection_open: bool = False
    rss_after_warm_up: int = 0  # bytes; 0 if unknown
    rss_at_end: int = 0
    live_objects: int = 0  # objects of the session the harness knows at the end

    @property
    def rss_growth_bytes(self) -> int:
        return max(self.rss_at_end - self.rss_after_warm_up, 0) if self.rss_after_warm_up else 0

    def describe(self) -> str:
        rate = self.messages / self.seconds if self.seconds else 0.0
        return (
            f"{self.messages} messages ({self.frames} frames and their probes) in {self.seconds:.1f}s "
            f"({rate:.0f}/s); adapter memory {self.rss_after_warm_up / 2**20:.1f} MiB after warm-up, "
            f"{self.rss_at_end / 2**20:.1f} MiB at the end; {self.live_objects} live objects; "
            f"{len(self.problems)} problems; connection {'open' if self.connection_open else 'closed'}"
        )


def rss_bytes(pid: int | None) -> int:
    """The resident memory of a process (Linux ``/proc``), 0 where it cannot be read."""
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def frame_pool(catalogue: Catalogue, session: MediaBarSession, size: int) -> list[Frame]:
    """``size`` frames drawn by Hypothesis (derandomized) for the session's live objects."""
    oracle = session.oracle
    live = sorted((obj.address, obj.level) for obj in session.model.objects.values())
    commands = sorted(session.settings.commands)
    valid = valid_requests(catalogue, oracle.platform, oracle.facts, commands, live).map(
        lambda request: Frame(json.dumps(request, ensure_ascii=False), None, "valid request")
    )
    strategy = st.one_of(bad_frames(catalogue, oracle.platform, oracle.facts, commands, live, ()), valid)
    pool: list[Frame] = []

    @settings(
        max_examples=size,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(frame: Frame) -> None:
        pool.append(frame)

    collect()
    return pool


async def soak(url: str, catalogue: Catalogue, profile: Profile, count: int, pid: int | None = None) -> SoakReport:
    report = SoakReport()
    settings_ = profile.settings()
    started = time.monotonic()
    connection = await Connection.for_settings(url, settings_, lambda event: None)
    session = MediaBarSession(catalogue, settings_, connection, lambda event: None, url)
    try:
        for violation in await session.bootstrap():
            if violation.verdict >= Verdict.FAIL:  # weighed as `mbconform run` weighs it: a warning is no problem
                report.problems.append(f"start-up: {violation}")
        pool = frame_pool(catalogue, session, POOL)
        names = {address: name for name, address in session.variables.items()}
        steps = [frame_step(frame, names) for frame in pool]
        warm_up = int(count * WARM_UP)
        index = 0
        while report.messages < count:
            step = steps[index % len(steps)]
            index += 1
            result = await session.run(step)
            report.frames += 1
            report.messages += 1 + (result.response is None or result.request is None)
            if result.verdict >= Verdict.FAIL and len(report.problems) < MAX_PROBLEMS:
                first = next(v for v in result.violations if v.verdict >= Verdict.FAIL)
                report.problems.append(
                    f"frame {report.frames} ({step.name}): {first.title}: {first.message[:300]}"
                )
            if not report.rss_after_warm_up and report.messages >= warm_up:
                report.rss_after_warm_up = rss_bytes(pid)
        report.rss_at_end = rss_bytes(pid)
        report.connection_open = connection.socket.state.name == "OPEN"
        report.live_objects = len(session.model.objects)
    finally:
        await connection.close()
        report.seconds = time.monotonic() - started
    return report
