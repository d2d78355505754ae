"""Self-tests of issue 16: a verdict ends the wait, and a failed set-up is not retried blindly. The suite run by
the real CLI against reference adapter faults that block set-ups, once as before (``--wait-out
--retry-setups``: every step waits to its end, every case runs its own set-up) and once as now: the same
tests fail and the same are inconclusive, and the waits are gone (counted from the reports, never timed:
the machine is shared)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.selftest

HERE = Path(__file__).parent
FAST_PROFILE = HERE / "fast-profile.yaml"
RUN_SECONDS = 600  # a guard against a hang, never a speed target
NOT_TRIED = "(not tried again; --retry-setups tries it)"


def run(reports: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html", *args]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)
    return done, time.monotonic() - start


def outcomes(reports: Path) -> dict[str, tuple[str, str]]:
    """Each test (one profile: its id) -> its Allure status and status message."""
    found = {}
    for path in (reports / "allure-results").glob("*-result.json"):
        result = json.loads(path.read_text())
        labels = {label["name"]: label["value"] for label in result["labels"]}
        found[labels["testId"]] = (result["status"], result.get("statusDetails", {}).get("message", ""))
    return found


@pytest.mark.parametrize(
    ("fault", "selection", "ordered"),
    [
        # a set-up's dial: entry 11 comes without entry 10, in a list that forbids reordering (decided at once)
        ("dial-without-preview", "channel_dial or conversation_hold or conversation_answer", True),
        # a set-up's dial never brings its last entry: nothing decides it early; the set-up memo does
        (
            "drop-event:channel.dial:interaction.initialized",
            "channel_dial or conversation_hold or conversation_answer",
            False,
        ),
    ],
)
def test_a_set_up_blocking_fault_gets_the_same_verdicts_without_the_waits(
    tmp_path: Path, fault: str, selection: str, ordered: bool
) -> None:
    common = ["--fault", fault, "--profile", str(FAST_PROFILE), "-m", selection]
    before, before_seconds = run(tmp_path / "before", *common, "--wait-out", "--retry-setups")
    now, now_seconds = run(tmp_path / "now", *common)
    assert before.returncode == now.returncode == 1, now.stdout + now.stderr
    was, this = outcomes(tmp_path / "before"), outcomes(tmp_path / "now")
    assert was.keys() == this.keys()
    assert {test: status for test, (status, _) in this.items()} == {
        test: status for test, (status, _) in was.items()
    }
    failed = sorted(test for test, (status, _) in this.items() if status == "failed")
    inconclusive = {test: text for test, (status, text) in this.items() if "INCONCLUSIVE" in text}
    assert failed and inconclusive
    # every inconclusive case names the set-up step that failed; after the first, it names the case where it
    # failed, and that case tried it and is inconclusive itself
    skipped = {test: text for test, text in inconclusive.items() if NOT_TRIED in text}
    assert skipped and len(skipped) < len(inconclusive)
    tried = {test for test in inconclusive if test not in skipped}
    for test, text in skipped.items():
        assert "INCONCLUSIVE: set-up step '" in text and " failed in MB-" in text, (test, text)
        named = text.split(" failed in ", 1)[1].split(" from the same situation", 1)[0]
        assert any(named.startswith(other.split(" ")[0]) for other in tried), (named, tried)
    waited_before = before.stdout.count("did not arrive within") + sum(
        text.count("did not arrive within") for _, text in was.values()
    )
    waited_now = sum(text.count("did not arrive within") for _, text in this.values())
    assert waited_now < waited_before
    if ordered:  # the failing dial itself is decided when entry 11 comes, not after the step timeout
        assert "had not arrived when a later entry came" in now.stdout
        assert "had not arrived when a later entry came" not in before.stdout
    print(f"{fault}: before {before_seconds:.1f}s, now {now_seconds:.1f}s ({len(this)} tests)")
