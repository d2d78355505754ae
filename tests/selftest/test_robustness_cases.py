"""The robustness call flows of ``mbconform run`` (``suites/conformance/robustness-*.yaml``): an unknown command
gets a failure with ``original``, a frame that is not JSON and JSON that is not an object get a failure or
nothing, and the adapter stays usable. Each is caught on the reference adapter's fault that breaks it, and
adapters with other legal answers pass."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.core.results import FlowResult
from harness.core.simulate import Platform
from harness.core.violations import Category, Verdict
from harness.paths import default_profile, suites_dir
from harness.reference.faults import NAMED
from harness.reference.process import RunningAdapter, start_reference
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import Scenario, load_profile, load_scenario

pytestmark = pytest.mark.selftest

Reply = Callable[[str | bytes, Platform, list[dict[str, Any]]], list[dict[str, Any]]]
Answer = list[dict[str, Any]]
Serve = Callable[[Reply], AbstractAsyncContextManager[str]]  # the altered_reference fixture (conftest)
FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
FILES = {
    "MB-SESS-ROBUST-001": "robustness-unknown-command.yaml",
    "MB-SESS-ROBUST-002": "robustness-not-json.yaml",
    "MB-SESS-ROBUST-003": "robustness-not-an-object.yaml",
}


def _scenario(catalogue: Catalogue, case: str) -> Scenario:
    return load_scenario(suites_dir() / "conformance" / FILES[case], catalogue)


def _run(serving: Serve, catalogue: Catalogue, case: str, reply: Reply, adopt: bool = True) -> FlowResult:
    """``adopt``: with the reference profile's conventions adopted (all), else with none adopted."""
    scenario = _scenario(catalogue, case)

    async def main() -> FlowResult:
        settings = load_profile(default_profile(), catalogue).settings()
        if not adopt:
            settings = replace(settings, adopted=frozenset())
        async with serving(reply) as url:
            return await run_flow(_flow(scenario), url=url, catalogue=catalogue, settings=settings)

    return asyncio.run(asyncio.wait_for(main(), 30))


def _flow(scenario: Scenario) -> Flow:
    return Flow(scenario.steps)


def _request(frame: str | bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(frame)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def silent_on_bad_frames(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Legal: a frame that is no request gets no answer at all."""
    return answer if _request(frame) is not None else []


def own_failure_codes(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Legal: failures with the adapter's own codes, messages and context (the seeds give no codes, ERRATA R9)."""
    return [
        {**message, "failure": {"code": "E-4711", "message": "Befehl unbekannt", "context": "at mediabar.js:1"}}
        if message.get("result") == "failure"
        else message
        for message in answer
    ]


def test_the_three_cases_are_in_the_run_and_apply_to_every_reference_profile(catalogue: Catalogue) -> None:
    for case in FILES:
        scenario = _scenario(catalogue, case)
        assert scenario.id == case and [step.kind for step in scenario.steps] == ["frame"]
        assert scenario.commands == frozenset() and scenario.platforms is None


@pytest.mark.parametrize(
    ("case", "reply"),
    [
        *((case, own_failure_codes) for case in sorted(FILES)),
        # an unknown command is a readable request, which must be answered: silence is legal for the others
        ("MB-SESS-ROBUST-002", silent_on_bad_frames),
        ("MB-SESS-ROBUST-003", silent_on_bad_frames),
    ],
)
def test_other_legal_answers_pass(catalogue: Catalogue, altered_reference: Serve, case: str, reply: Reply) -> None:
    result = _run(altered_reference, catalogue, case, reply)
    assert result.verdict == Verdict.PASS, result.violations
    assert len(result.steps) == 1 and result.not_run == []


def test_the_probe_follows_a_bad_frame(catalogue: Catalogue, altered_reference: Serve) -> None:
    result = _run(altered_reference, catalogue, "MB-SESS-ROBUST-002", lambda frame, platform, answer: answer)
    assert result.verdict == Verdict.PASS
    assert '"command":"channel.activate"' in result.transcript.replace(" ", "")


def test_an_unknown_command_answered_without_original_fails(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def no_original(frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in message.items() if k != "original"} for message in answer]

    result = _run(altered_reference, catalogue, "MB-SESS-ROBUST-001", no_original)
    assert result.verdict == Verdict.FAIL
    assert any("original" in v.message for _, v in result.violations), result.violations


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


@pytest.mark.parametrize(
    ("fault", "case", "category"),
    [
        ("unknown-command-unanswered", "MB-SESS-ROBUST-001", Category.TIMEOUT),
        ("unknown-command-succeeds", "MB-SESS-ROBUST-001", Category.WRONG_RESULT),
        ("deaf-after-bad-json", "MB-SESS-ROBUST-002", Category.TIMEOUT),
        ("deaf-after-non-object", "MB-SESS-ROBUST-003", Category.TIMEOUT),
    ],
)
def test_each_robustness_fault_fails_its_case_and_only_its_case(
    catalogue: Catalogue, control_adapter: RunningAdapter, fault: str, case: str, category: Category
) -> None:
    assert fault in NAMED
    settings = load_profile(FAST_PROFILE, catalogue).settings()

    def run(scenario: str) -> FlowResult:
        flow = run_flow(
            _flow(_scenario(catalogue, scenario)),
            url=f"{control_adapter.url}/?fault={fault}",
            catalogue=catalogue,
            settings=settings,
        )
        return asyncio.run(asyncio.wait_for(flow, 30))

    results = {scenario: run(scenario) for scenario in FILES}
    failed = results.pop(case)
    assert failed.verdict == Verdict.FAIL, failed.violations
    titles = [title for title, v in failed.violations if v.category is category]
    assert titles and titles[0] == _scenario(catalogue, case).steps[0].title, failed.violations
    verdicts = {scenario: result.verdict for scenario, result in results.items()}
    assert verdicts == dict.fromkeys(results, Verdict.PASS)


def _echo_text(frame: str | bytes, platform: Platform, answer: Answer) -> Answer:
    """An adapter that answers a frame that is no JSON object with a failure whose original is the text."""
    if _request(frame) is not None or not answer or answer[0].get("result") != "failure":
        return answer
    text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
    return [{**answer[0], "original": text}]


@pytest.mark.parametrize("case", ["MB-SESS-ROBUST-002", "MB-SESS-ROBUST-003"])
def test_what_a_failure_to_an_unreadable_frame_echoes_is_a_convention(
    catalogue: Catalogue, altered_reference: Serve, case: str
) -> None:
    result = _run(altered_reference, catalogue, case, _echo_text, adopt=False)
    assert result.verdict == Verdict.WARN, result.violations
    [(_, warned)] = result.violations
    assert warned.category is Category.CONVENTION and "original" in warned.message
    adopting = _run(altered_reference, catalogue, case, _echo_text)  # the reference profile adopts it
    assert adopting.verdict == Verdict.FAIL


def test_a_success_answer_to_an_unreadable_frame_fails(catalogue: Catalogue, altered_reference: Serve) -> None:
    def success(frame: str | bytes, platform: Platform, answer: Answer) -> Answer:
        if _request(frame) is not None or not answer:
            return answer
        return [{**answer[0], "result": "success", "data": {}}]

    result = _run(altered_reference, catalogue, "MB-SESS-ROBUST-002", success)
    assert result.verdict == Verdict.FAIL, result.violations
