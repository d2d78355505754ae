"""Self-tests: the conformance suite run by the real CLI against the reference adapter and its faults."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cases import TestCase, command_cases
from harness.core.results import FlowResult
from harness.core.violations import Category, Verdict
from harness.reference.process import RunningAdapter, start_reference
from harness.runner.flow import run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

HERE = Path(__file__).parent
FAST_PROFILE = HERE / "fast-profile.yaml"
RUN_SECONDS = 120
CONCURRENT_SESSIONS = 16


def mbconform_run(reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)


def allure_results(reports: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]


def test_the_whole_suite_passes_against_the_reference_adapter(tmp_path: Path, catalogue: Catalogue) -> None:
    done = mbconform_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scenarios = len(list((Path(catalogue.root).parent / "suites" / "conformance").glob("*.yaml")))
    profile = load_profile(Path(catalogue.root).parent / "suites" / "profiles" / "reference.yaml", catalogue)
    expected = len(command_cases(catalogue, profile)) + scenarios
    assert f"{expected} passed" in done.stdout
    assert f": {expected} pass" in done.stdout
    assert (tmp_path / "junit.xml").is_file()

    results = allure_results(tmp_path)
    assert len(results) == expected
    for result in results:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert {"epic", "feature", "story", "testId"} <= set(labels), result["name"]
        assert result["name"].startswith(labels["testId"])
        assert result["status"] == "passed"
        assert any(a["name"] == "transcript" for a in result["attachments"])
        frames = [s for step in result["steps"] for s in step.get("steps", []) if s["name"][0] in "→←"]
        assert frames and all(frame["attachments"] for frame in frames)
    environment = (tmp_path / "allure-results" / "environment.properties").read_text()
    for key in ("adapter.url=", "profile=", "harness.version=", "catalogue.version="):
        assert key in environment
    assert json.loads((tmp_path / "allure-results" / "categories.json").read_text())


def test_a_dial_that_drops_its_preview_fails_naming_the_event_the_command_and_the_spec_line(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    entry = next(e for e in catalogue.commands["channel.dial"].events.entries if e.event == "interaction.preview")
    done = mbconform_run(tmp_path, "--fault", "dial-without-preview", "--profile", str(FAST_PROFILE))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED specs/commands/channel.dial.yaml::MB-CHAN-DIAL-001" in done.stdout
    assert "[missing event]" in done.stdout
    assert "channel.dial: interaction.preview about" in done.stdout
    assert f"spec:     {entry.ref.file}:{entry.ref.line}" in done.stdout
    results = allure_results(tmp_path)
    failed = [r for r in results if r["status"] == "failed"]
    assert [r["name"].split(" ")[0] for r in failed] == ["MB-CHAN-DIAL-001"]
    for skipped in (r for r in results if r["status"] == "skipped"):  # set up through the faulty dial
        assert "INCONCLUSIVE: set-up step 'send channel.dial" in skipped["statusDetails"]["message"]
    assert {r["status"] for r in results} <= {"passed", "failed", "skipped"}
    assert "interaction.preview" in failed[0]["statusDetails"]["message"]
    assert f"{entry.ref.file}:{entry.ref.line}" in failed[0]["statusDetails"]["message"]


def _drop_cases(catalogue: Catalogue) -> list[tuple[str, str]]:
    return sorted({(c.name, e.event) for c in catalogue.commands.values() for e in c.events.entries})


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


def test_dropping_any_event_of_any_command_is_caught_by_that_commands_own_test(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    """Each (command, event) pair runs in its own session with that one event dropped (?fault= in the URL)."""
    profile = load_profile(FAST_PROFILE, catalogue)
    success = {case.feature: case for case in command_cases(catalogue, profile) if case.story == "success"}
    drops = _drop_cases(catalogue)

    async def run_one(command: str, event: str, slots: asyncio.Semaphore) -> FlowResult:
        async with slots:
            url = f"{control_adapter.url}/?fault=drop-event:{command}:{event}"
            return await run_flow(success[command].flow, url=url, catalogue=catalogue, settings=profile.settings())

    async def run_all() -> list[FlowResult]:
        slots = asyncio.Semaphore(CONCURRENT_SESSIONS)
        return await asyncio.gather(*(run_one(command, event, slots) for command, event in drops))

    results = asyncio.run(asyncio.wait_for(run_all(), RUN_SECONDS))
    missed = []
    for (command, event), result in zip(drops, results, strict=True):
        missing = [v.message for _, v in result.violations if v.category is Category.MISSING_EVENT]
        if result.verdict != Verdict.FAIL or not any(m.startswith(f"{command}: {event} about") for m in missing):
            missed.append(
                f"{command} without {event}: {result.verdict.name} {[v.message for _, v in result.violations]}"
            )
    assert not missed, "\n".join(missed)
    assert len(drops) >= len(catalogue.commands)


def _run_cases(
    adapter: RunningAdapter, catalogue: Catalogue, runs: list[tuple[str, TestCase]]
) -> list[FlowResult]:
    """Run (fault, case) pairs concurrently, each in its own session on ``adapter``."""
    settings = load_profile(FAST_PROFILE, catalogue).settings()

    async def run_one(fault: str, case: TestCase, slots: asyncio.Semaphore) -> FlowResult:
        async with slots:
            url = f"{adapter.url}/?fault={fault}"
            return await run_flow(case.flow, url=url, catalogue=catalogue, settings=settings)

    async def run_all() -> list[FlowResult]:
        slots = asyncio.Semaphore(CONCURRENT_SESSIONS)
        return await asyncio.gather(*(run_one(fault, case, slots) for fault, case in runs))

    return asyncio.run(asyncio.wait_for(run_all(), RUN_SECONDS))


def test_a_command_that_succeeds_where_its_state_forbids_it_fails_each_illegal_state_case(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    cases = [
        c for c in command_cases(catalogue, load_profile(FAST_PROFILE, catalogue)) if c.story.startswith("illegal")
    ]
    assert cases
    runs = [(f"any-state:{case.feature}", case) for case in cases]
    missed = [
        f"{case.id}: {result.verdict.name}"
        for (_, case), result in zip(runs, _run_cases(control_adapter, catalogue, runs), strict=True)
        if result.verdict != Verdict.FAIL
        or not any(v.category is Category.WRONG_RESULT for _, v in result.violations)
    ]
    assert not missed


def test_a_command_that_accepts_invalid_data_fails_its_invalid_data_case(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    cases = [
        c for c in command_cases(catalogue, load_profile(FAST_PROFILE, catalogue)) if c.story == "invalid data"
    ]
    assert cases
    runs = [(f"no-data-check:{case.feature}", case) for case in cases]
    results = _run_cases(control_adapter, catalogue, runs)
    assert [r.verdict for r in results] == [Verdict.FAIL] * len(cases)


def test_a_fault_in_the_url_needs_test_control(catalogue: Catalogue) -> None:
    profile = load_profile(FAST_PROFILE, catalogue)
    with start_reference([]) as adapter:
        url = f"{adapter.url}/?fault=dial-without-preview"
        flow = command_cases(catalogue, profile)[0].flow
        result = asyncio.run(run_flow(flow, url=url, catalogue=catalogue, settings=profile.settings()))
    assert result.verdict == Verdict.ERROR
    assert "--test-control" in result.reason
