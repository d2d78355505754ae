"""The console summary of a conformance run: verdicts counted, and the failing cases by id."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..cases import TestCase
from ..core.violations import Verdict


@dataclass
class RunSummary:
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # profile -> verdict -> cases
    failing: list[str] = field(default_factory=list)

    def record(self, case: TestCase, profile: str, verdict: Verdict, skipped: bool = False) -> None:
        key = "not applicable" if skipped else verdict.name.lower()
        self.counts.setdefault(profile, Counter())[key] += 1
        if verdict >= Verdict.FAIL:
            self.failing.append(f"{case.id} [{profile}] {case.title}: {verdict.name.lower()}")

    def lines(self, url: str) -> list[str]:
        order = ["pass", "warn", "inconclusive", "fail", "error", "not applicable"]
        lines = []
        for profile, counts in self.counts.items():
            counted = ", ".join(f"{counts[key]} {key}" for key in order if counts[key])
            lines.append(f"adapter {url} (profile {profile}): {counted or 'no cases run'}")
        if not self.counts:
            lines.append(f"adapter {url}: no cases run")
        lines.extend(f"  {line}" for line in self.failing)
        return lines
