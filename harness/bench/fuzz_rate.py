"""Stateful fuzzing speed: ``MB-FUZZ-FLOWS`` (the Hypothesis state machine of :mod:`harness.fuzz.machine`)
for a bounded number of examples of the ci fuzz profile, steps executed per wall second; with the profile's
fence after each step and without it, measured apart; one more run under ``cProfile``."""

from __future__ import annotations

import cProfile
from dataclasses import dataclass, replace

from ..fuzz.run import FuzzProfile, fuzz
from ..runner.settings import Settings
from ..spec.catalogue import Catalogue

SHRINK_SECONDS = 5.0  # a finding is a bug of the adapter, not a speed figure: do not shrink it for long


@dataclass(frozen=True)
class FuzzRate:
    fence: bool
    examples: int
    steps: int
    seconds: float
    finding: str = ""  # a check failed: the benchmark says so (the rate still counts the steps run)
    error: str = ""  # the fuzzer could not run

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def fuzz_rate(
    url: str,
    catalogue: Catalogue,
    settings: Settings,
    profile: FuzzProfile,
    *,
    examples: int,
    fence: bool,
    profiler: cProfile.Profile | None = None,
) -> FuzzRate:
    """Fuzz ``examples`` flows (the profile's steps per example, derandomized as it says)."""
    bounded = replace(
        profile,
        examples={**profile.examples, "flows": examples},
        fence=fence,
        shrink_seconds=min(profile.shrink_seconds, SHRINK_SECONDS),
    )
    if profiler is not None:
        profiler.enable()
    try:
        outcome = fuzz("flows", url, catalogue, settings, bounded)
    finally:
        if profiler is not None:
            profiler.disable()
    finding = ""
    if outcome.finding is not None and outcome.finding.finding is not None:
        finding = str(outcome.finding.finding)[:300]
    return FuzzRate(
        fence, outcome.coverage.examples, outcome.coverage.steps, outcome.seconds, finding, outcome.error
    )
