"""The wall time of the whole reference suite against the correct reference adapter and against faults that
block set-ups (issue 16): a broken adapter is judged about as fast as a good one. Each run is ``mbconform
run`` with no URL (its own embedded reference adapter, with the fault), in a child process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .measure import Measure
from .suite_time import SuiteTime, time_reference_suite

# the README's own example (an entry overtaken: decided at once), and a dial without its last entry (nothing
# decides it early: the first set-up that dials waits its step timeout, the others are not retried)
BROKEN_FAULTS = ("dial-without-preview", "drop-event:channel.dial:interaction.initialized")
BROKEN_TARGET = 2.0  # broken / correct


def measure_broken(
    specs: Path, timeout: float, run_args: tuple[str, ...], faults: tuple[str, ...] = BROKEN_FAULTS
) -> tuple[list[Measure], dict[str, Any]]:
    """The measures (each run's wall time, the worst ratio broken/correct) and the details for the JSON."""
    correct = time_reference_suite((), specs, timeout, run_args)
    broken = [(fault, time_reference_suite((fault,), specs, timeout, run_args)) for fault in faults]
    scope = "the whole reference suite" if not run_args else f"the reference suite ({' '.join(run_args)})"
    measures = [
        Measure(
            "reference_suite_correct_seconds",
            f"{scope}, correct adapter",
            correct.wall_seconds,
            "s",
            "none",
            why=_not_passed(correct, expect_failures=False),
        )
    ]
    ratios = []
    for fault, timed in broken:
        ratio = timed.wall_seconds / correct.wall_seconds if correct.wall_seconds > 0 else None
        ratios.append((ratio, fault))
        counts = f"{timed.failures} failed, {timed.skipped} skipped or inconclusive"
        measures.append(
            Measure(
                f"reference_suite_{re.sub('[^a-z0-9]+', '_', fault)}_seconds",
                f"  the same with --fault {fault} ({counts})",
                timed.wall_seconds,
                "s",
                "none",
                why=_not_passed(timed, expect_failures=True),
            )
        )
    known = [(ratio, fault) for ratio, fault in ratios if ratio is not None]
    worst = max(known, default=None)
    usable = correct.exit_code == 0 and all(t.exit_code == 1 for _, t in broken)
    why = "" if usable else "a run did not end as expected (0 for the correct adapter, 1 with a fault)"
    if worst is not None and worst[0] > BROKEN_TARGET:
        why = f"with --fault {worst[1]} the suite takes {worst[0]:.1f} times as long; " + why
    measures.append(
        Measure(
            "reference_suite_broken_ratio",
            "  broken / correct (the worst fault)",
            round(worst[0], 2) if worst is not None else None,
            "",
            f"<= {BROKEN_TARGET:g}",
            worst is not None and worst[0] <= BROKEN_TARGET and usable,
            why.rstrip("; "),
        )
    )
    details = {
        "correct": _json(correct),
        "faults": {
            fault: {**_json(timed), "ratio": ratio}
            for (fault, timed), (ratio, _) in zip(broken, ratios, strict=True)
        },
        "run_args": list(run_args),
    }
    return measures, details


def _not_passed(timed: SuiteTime, expect_failures: bool) -> str:
    if timed.exit_code == (1 if expect_failures else 0):
        return ""
    return f"exit code {timed.exit_code}: {timed.output_tail[-300:]}"


def _json(timed: SuiteTime) -> dict[str, Any]:
    return {
        "wall_seconds": round(timed.wall_seconds, 2),
        "exit_code": timed.exit_code,
        "tests": timed.tests,
        "failures": timed.failures,
        "skipped": timed.skipped,
    }
