"""Fuzzing against the reference adapter: the ci fuzz profile finds nothing against the correct adapter and
reaches every command and every interaction and conversation state; it finds faults of the reference
adapter and writes reproducers that replay the same violation; the adapter survives a long stream of fuzzed
messages in one session with flat memory.

``make test`` runs the short, derandomized form. The long form (``MBCONFORM_FUZZ_LONG=1``): every named fault
of the catalogue through the ci profile, all of the ci profile's call flows against the correct adapter (the
short form: SHORT_FLOWS of them), and the soak with 100,000 messages.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from conftest import SharedRuns

from harness.fuzz.coverage import Coverage
from harness.fuzz.replay import replay
from harness.fuzz.reproducer import write_reproducer
from harness.fuzz.run import FuzzProfile, fuzz, load_fuzz_profile
from harness.fuzz.soak import soak
from harness.paths import suites_dir
from harness.reference.faults import NAMED
from harness.reference.process import RunningAdapter, start_reference
from harness.spec.catalogue import Catalogue
from harness.suite import Profile, load_profile, load_scenario

pytestmark = [pytest.mark.selftest, pytest.mark.fuzz]

LONG = os.environ.get("MBCONFORM_FUZZ_LONG") == "1"
# faults a single message or a short flow exposes, found by the ci profile in well under a minute each
SHORT_FAULTS = (
    "activate-extra-infochanged",
    "activate-stays-inactive",
    "dial-preview-after-initialized",
    "dial-repeats-infochanged",
    "consult-reuses-conversation-id",  # a consultation: the planner takes the flow there
)
SOAK_MESSAGES = 100_000 if LONG else 3_000


@pytest.fixture(scope="module")
def adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as running:
        yield running


@pytest.fixture(scope="module")
def ci() -> FuzzProfile:
    return load_fuzz_profile(suites_dir() / "fuzz" / "ci.yaml")


def _profile(catalogue: Catalogue, name: str) -> Profile:
    return load_profile(suites_dir() / "profiles" / f"reference-{name}.yaml", catalogue)


def _url(adapter: RunningAdapter, profile: Profile, fault: str | None = None) -> str:
    query = [("fault", fault)] if fault else []
    query += list(profile.connect_params.items())
    return adapter.url + ("?" + urlencode(query) if query else "")


# The ci profile's runs against the correct adapter: each its own test (so that xdist's two workers share
# them), and together they must reach the whole model (the last test, which reuses their outcomes).
CORRECT_RUNS = (("generic", "messages"), ("generic", "flows"), ("incontact", "flows"))
# ``make test`` runs the correct adapter through SHORT_FLOWS call flows instead of the ci profile's 120 (the same
# checks: nothing found, every example run, the whole model reached); the long form runs all of them (as
# ``make fuzz`` does). The call flows are most of the time: a planned step each.
SHORT_FLOWS = 40


@dataclass(frozen=True)
class CorrectRun:
    """What the checks need of one ci-profile run against the correct adapter (stored between xdist workers)."""

    error: str
    finding: str | None
    coverage: Coverage


def _correct_form(ci: FuzzProfile) -> FuzzProfile:
    """The ci profile as the correct adapter's runs use it: whole in the long form, fewer call flows if not."""
    return ci if LONG else replace(ci, examples={**ci.examples, "flows": min(SHORT_FLOWS, ci.examples["flows"])})


def _correct_run(
    shared_runs: SharedRuns, adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue, name: str, kind: str
) -> CorrectRun:
    def run() -> CorrectRun:
        profile = _profile(catalogue, name)
        # the whole round, however loaded the machine (the profile's budget would cut it: see the test below)
        outcome = fuzz(kind, _url(adapter, profile), catalogue, profile.settings(), _correct_form(ci), budget=1200)
        finding = str(outcome.finding.finding) if outcome.finding is not None else None
        return CorrectRun(outcome.error, finding, outcome.coverage)

    return shared_runs.get(f"fuzz-ci-correct-{name}-{kind}", run)


@pytest.mark.parametrize(("name", "kind"), CORRECT_RUNS, ids=[f"{n}-{k}" for n, k in CORRECT_RUNS])
def test_the_ci_profile_finds_nothing_against_the_correct_adapter(
    adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue, shared_runs: SharedRuns, name: str, kind: str
) -> None:
    outcome = _correct_run(shared_runs, adapter, ci, catalogue, name, kind)
    assert outcome.error == ""
    assert outcome.finding is None, outcome.finding
    assert outcome.coverage.examples >= _correct_form(ci).examples[kind]  # one derandomized round, all run


def test_the_ci_profiles_runs_against_the_correct_adapter_reach_the_whole_model(
    adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue, shared_runs: SharedRuns
) -> None:
    total = Coverage()
    for name, kind in CORRECT_RUNS:
        outcome = _correct_run(shared_runs, adapter, ci, catalogue, name, kind)
        assert outcome.error == "" and outcome.finding is None, (name, kind, outcome.error, outcome.finding)
        total.merge(outcome.coverage)
    assert total.missing(catalogue, catalogue.commands, ("interaction", "conversation")) == []
    assert total.frames and total.stimuli


@pytest.mark.parametrize("fault", sorted(NAMED) if LONG else SHORT_FAULTS)
def test_the_ci_profile_finds_a_fault_and_its_reproducer_replays_it(
    adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue, fault: str, tmp_path: Path
) -> None:
    spec = NAMED[fault]
    profile = _profile(catalogue, "incontact" if spec.platforms and "generic" not in spec.platforms else "generic")
    url = _url(adapter, profile, fault)
    outcome = None
    for kind in ("messages", "flows"):
        outcome = fuzz(kind, url, catalogue, profile.settings(), ci, budget=1200)  # however loaded the machine
        if outcome.finding is not None:
            break
    assert outcome is not None and outcome.finding is not None, f"{fault}: the ci profile found nothing"
    record = outcome.finding
    assert record.finding is not None and len(record.steps) <= outcome.shrunk_from
    path = write_reproducer(
        tmp_path,
        record,
        level="channel",
        profile=profile.name,
        platform=profile.platform,
        adapter={"fault": [fault]},
        by="test",
        fence=ci.fence,
        settle=ci.settle,
    )
    scenario = load_scenario(path, catalogue)
    _, replayed = replay(scenario, profile, url, catalogue, quiet=True)
    assert replayed.reproduced, replayed.summary
    _, correct = replay(scenario, profile, _url(adapter, profile), catalogue, quiet=True)
    assert not correct.failed, correct.summary  # the same flow passes against the correct adapter


def test_mbconform_fuzz_writes_a_reproducer_that_mbconform_replay_reproduces(
    adapter: RunningAdapter, tmp_path: Path
) -> None:
    fault = SHORT_FAULTS[0]
    out, reports = tmp_path / "regression", tmp_path / "reports"
    command = [sys.executable, "-m", "harness", "fuzz", "--fault", fault, "--out", str(out), "--reports"]
    done = subprocess.run(
        [*command, str(reports), "--profile", str(suites_dir() / "profiles" / "reference-generic.yaml")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    [path] = sorted(out.glob("MB-FUZZ-*.yaml"))
    assert "reproducer:" in done.stdout and "replay: reproduced" in done.stdout
    assert "coverage:" in done.stdout and (reports / "junit.xml").is_file()
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["found"]["adapter"] == {"fault": [fault]}
    again = subprocess.run(
        [sys.executable, "-m", "harness", "replay", str(path)], capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 1 and "reproduced:" in again.stdout, again.stdout + again.stderr
    fixed = subprocess.run(
        [sys.executable, "-m", "harness", "replay", str(path), adapter.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert fixed.returncode == 0 and "not reproduced" in fixed.stdout, fixed.stdout + fixed.stderr


def test_the_reference_adapter_survives_a_stream_of_fuzzed_messages_in_one_session(catalogue: Catalogue) -> None:
    """Its own adapter, fresh: the memory it measures does not depend on which tests the module's adapter served
    before (with xdist that differs from run to run)."""
    profile = _profile(catalogue, "generic")
    started = time.monotonic()
    with start_reference(["--test-control"]) as adapter:
        report = asyncio.run(soak(_url(adapter, profile), catalogue, profile, SOAK_MESSAGES, pid=adapter.pid))
    assert report.problems == [], report.problems[:5]
    assert report.messages >= SOAK_MESSAGES
    assert report.connection_open
    # memory: after the first tenth the adapter grows by no more than its live objects need (valid requests
    # create channel groups and calls): at most 2 KiB per live object, with 2 MiB of slack (the allocator's own
    # growth after a warm-up of 300 messages measured up to 1.5 MiB; a leak of 1 KiB per message is 3 MiB)
    assert report.rss_growth_bytes <= (2 << 20) + 2048 * report.live_objects, report.describe()
    assert time.monotonic() - started < 600


def test_a_random_search_stops_when_its_budget_ends_mid_round(
    adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue
) -> None:
    nightly = replace(
        ci, derandomize=False, examples={**ci.examples, "flows": 600}
    )  # about 3 minutes if it ran out
    profile = _profile(catalogue, "generic")
    outcome = fuzz("flows", _url(adapter, profile), catalogue, profile.settings(), nightly, budget=3)
    assert outcome.finding is None and outcome.error == ""
    assert 0 < outcome.coverage.examples < 600
    assert outcome.seconds < 3 + 10  # the example under way runs to its end (bounded by its steps)


def test_a_derandomized_round_stops_when_its_budget_ends_and_says_how_far_it_got(
    adapter: RunningAdapter, ci: FuzzProfile, catalogue: Catalogue
) -> None:
    """The ci profile's budget is an upper bound too: a round that would run longer (600 flows, about three
    minutes) is cut, having run its first examples, and says how many."""
    long_round = replace(ci, examples={**ci.examples, "flows": 600})
    profile = _profile(catalogue, "generic")
    outcome = fuzz("flows", _url(adapter, profile), catalogue, profile.settings(), long_round, budget=3)
    assert outcome.finding is None and outcome.error == ""
    assert 0 < outcome.coverage.examples < 600
    assert outcome.seconds < 3 + 10
    assert f"after {outcome.coverage.examples} of its 600 examples" in outcome.cut
