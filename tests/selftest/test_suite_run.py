"""Self-tests: the conformance suite run by the real CLI against the reference adapter and its faults."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cases import TestCase, command_cases, scenario_case
from harness.core.results import FlowResult
from harness.core.violations import Category, Verdict
from harness.paths import reference_profiles
from harness.reference.process import RunningAdapter, start_reference
from harness.runner.flow import run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile, load_scenario

pytestmark = pytest.mark.selftest

HERE = Path(__file__).parent
FAST_PROFILE = HERE / "fast-profile.yaml"
RUN_SECONDS = 600  # a guard against a hang, never a speed target: a busy machine takes longer
CONCURRENT_SESSIONS = 16


def mbconform_run(reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)


def allure_results(reports: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]


def test_the_whole_suite_passes_against_the_reference_adapter(tmp_path: Path, catalogue: Catalogue) -> None:
    """Every reference profile (generic; InContact with dispositions, with required dispositions, with ACW)."""
    done = mbconform_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scenarios = [
        load_scenario(p, catalogue) for p in (catalogue.root.parent / "suites" / "conformance").glob("*.yaml")
    ]
    profiles = [load_profile(path, catalogue) for path in reference_profiles()]
    assert {p.platform for p in profiles} == {"generic", "incontact"} and len(profiles) == 5
    assert {p.addressing for p in profiles} == {"flat", "channelgroup"}
    total = applicable = 0
    for profile in profiles:
        cases = command_cases(catalogue, profile) + [scenario_case(s, profile) for s in scenarios]
        runnable = sum(case.applicable for case in cases)
        assert f"(profile {profile.name}): {runnable} pass, {len(cases) - runnable} not applicable" in done.stdout
        total, applicable = total + len(cases), applicable + runnable
    assert f"{applicable} passed, {total - applicable} skipped" in done.stdout
    assert (tmp_path / "junit.xml").is_file()

    results = allure_results(tmp_path)
    assert len(results) == total
    for result in results:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert {"epic", "feature", "story", "testId"} <= set(labels), result["name"]
        assert result["name"].startswith(labels["testId"])
        if result["status"] == "skipped":
            assert result["statusDetails"]["message"].startswith("Skipped: not applicable"), result["name"]
            continue
        assert result["status"] == "passed"
        assert any(a["name"] == "transcript" for a in result["attachments"])
        messages = 0
        for step in result["steps"]:  # each message a sub-step, and the step's messages attached to it
            frames = [s["name"] for s in step.get("steps", []) if s["name"][0] in "→←"]
            attached = [a for a in step.get("attachments", []) if a["name"] == "messages of this step"]
            assert bool(frames) == bool(attached), (result["name"], step["name"])
            messages += len(frames)
        assert messages, result["name"]
    environment = (tmp_path / "allure-results" / "environment.properties").read_text()
    for key in ("adapter.url=", "profiles=", "harness.version=", "catalogue.version="):
        assert key in environment
    assert json.loads((tmp_path / "allure-results" / "categories.json").read_text())
    certificate = json.loads((tmp_path / "certificate.json").read_text())
    assert certificate and "certified" in (tmp_path / "certificate.md").read_text()


def test_a_dial_that_drops_its_preview_fails_naming_the_event_the_command_and_the_spec_line(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    entry = next(e for e in catalogue.commands["channel.dial"].events.entries if e.event == "interaction.preview")
    # Commands and cases whose set-up dials; every other case would wait out its step timeout the same way.
    selection = "channel_dial or conversation_hold or conversation_answer"
    done = mbconform_run(
        tmp_path, "--fault", "dial-without-preview", "--profile", str(FAST_PROFILE), "-m", selection
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED specs/commands/channel.dial.yaml::MB-CHAN-DIAL-001" in done.stdout
    assert "[missing event]" in done.stdout
    assert "channel.dial: interaction.preview about" in done.stdout
    assert f"spec:     {entry.ref.file}:{entry.ref.line}" in done.stdout
    results = allure_results(tmp_path)
    failed = [r for r in results if r["status"] == "failed"]
    dialing_flows = {
        s.id
        for s in (
            load_scenario(p, catalogue) for p in (catalogue.root.parent / "suites" / "conformance").glob("*.yaml")
        )
        if "channel.dial" in s.commands
    }
    failed_ids = {r["name"].split(" ")[0] for r in failed}
    assert "MB-CHAN-DIAL-001" in failed_ids and failed_ids - {"MB-CHAN-DIAL-001"} <= dialing_flows, failed_ids
    skipped = [
        r for r in results if r["status"] == "skipped" and "not applicable" not in r["statusDetails"]["message"]
    ]
    assert skipped  # the cases set up through the faulty dial
    for result in skipped:
        assert "INCONCLUSIVE: set-up step 'send channel.dial" in result["statusDetails"]["message"]
    assert {r["status"] for r in results} <= {"passed", "failed", "skipped"}
    assert "interaction.preview" in failed[0]["statusDetails"]["message"]
    assert f"{entry.ref.file}:{entry.ref.line}" in failed[0]["statusDetails"]["message"]
    # the requirements the check enforces, wherever the spec line is shown: console, Allure, certificate
    cited = "requirements: " + ", ".join(entry.ref.requirements)
    assert entry.ref.requirements and cited in done.stdout
    assert cited in failed[0]["statusDetails"]["message"]
    assert "REQ-DIAL-EVENTS" in (tmp_path / "certificate.md").read_text()


def _drop_cases(catalogue: Catalogue, platform: str) -> list[tuple[str, str]]:
    """Every (command, event) a command's lists name as required, on one platform."""
    pairs = set()
    for command in catalogue.commands.values():
        if platform not in command.platforms:
            continue
        lists = [command.events, *(o.events for o in command.outcomes if o.events is not None)]
        pairs |= {(command.name, e.event) for event_list in lists for e in event_list.entries if not e.optional}
    return sorted(pairs)


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


def test_dropping_any_event_of_any_command_is_caught_by_that_commands_own_test(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    """Each (command, event) pair runs in its own session with that one event dropped (?fault= in the URL),
    through the command's success case and its outcome cases: one of them must fail naming the event (an
    entry with an ``if`` applies in some situations only)."""
    profile = load_profile(FAST_PROFILE, catalogue)
    own = [
        c
        for c in command_cases(catalogue, profile)
        if c.applicable and (c.story == "success" or c.story.startswith("outcome"))
    ]
    drops = _drop_cases(catalogue, profile.platform)
    runs = [
        (f"drop-event:{command}:{event}", case)
        for command, event in drops
        for case in own
        if case.feature == command
    ]
    results = _run_cases(control_adapter, catalogue, runs)
    caught = set()
    for (fault, _), result in zip(runs, results, strict=True):
        _, command, event = fault.split(":")
        missing = [v.message for _, v in result.violations if v.category is Category.MISSING_EVENT]
        if result.verdict == Verdict.FAIL and any(m.startswith(f"{command}: {event} about") for m in missing):
            caught.add((command, event))
    assert sorted(set(drops) - caught) == []
    assert {command for command, _ in drops} >= {n for n, c in catalogue.commands.items() if c.events.entries}


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


def test_a_needinfo_whose_ui_extension_lacks_the_skills_fails_the_needinfo_case(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    profile = load_profile(catalogue.root.parent / "suites" / "profiles" / "reference-incontact.yaml", catalogue)
    [case] = [c for c in command_cases(catalogue, profile) if c.id == "MB-CHAN-DIAL-310"]
    url = f"{control_adapter.url}/?platform=incontact&fault=strip-response:channel.dial:uiExtension.skills"
    result = asyncio.run(run_flow(case.flow, url=url, catalogue=catalogue, settings=profile.settings()))
    assert result.verdict == Verdict.FAIL
    [violation] = [v for _, v in result.violations]
    assert violation.category is Category.SHAPE_MISMATCH and "'skills' is a required property" in violation.message
    assert violation.ref is not None and violation.ref.file.endswith("channel.dial.yaml")
    clean = asyncio.run(
        run_flow(
            case.flow,
            url=f"{control_adapter.url}/?platform=incontact",
            catalogue=catalogue,
            settings=profile.settings(),
        )
    )
    assert clean.verdict == Verdict.PASS, clean.violations
