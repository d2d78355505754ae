"""The console summary of a conformance run: verdicts counted, and the failing cases by id."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..cases import TestCase
from ..core.violations import Verdict


@dataclass
class RunSummary:
    counts: Counter[str] = field(default_factory=Counter)
    failing: list[str] = field(default_factory=list)

    def record(self, case: TestCase, verdict: Verdict, skipped: bool = False) -> None:
        key = "not applicable" if skipped else verdict.name.lower()
        self.counts[key] += 1
        if verdict >= Verdict.FAIL:
            self.failing.append(f"{case.id} {case.title}: {verdict.name.lower()}")

    def lines(self, url: str, profile: str) -> list[str]:
        order = ["pass", "warn", "inconclusive", "fail", "error", "not applicable"]
        counted = ", ".join(f"{self.counts[key]} {key}" for key in order if self.counts[key])
        lines = [f"adapter {url} (profile {profile}): {counted or 'no cases run'}"]
        lines.extend(f"  {line}" for line in self.failing)
        return lines
