"""Whole flows against adapters with other legal conventions (issue 14): an undeclared convention is a
warning, never a failure, and it never stops a set-up: the harness follows what the adapter did.

Each adapter is the reference adapter with one convention changed in its answers (``altered_reference``);
each test also shows the same flow failing where the adapter breaks what the seeds print, or where the
profile adopts the catalogue's convention.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import pytest

from harness.cases import simulated_platform
from harness.core.plan import Goal, find_plan
from harness.core.results import FlowResult
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest
Serve = Callable[..., AbstractAsyncContextManager[str]]  # the altered_reference fixture (conftest)

HOLD_GOAL = Goal("conversation", "conversation.hold", description="a conversation where hold succeeds")


def hold_after_accept(catalogue: Catalogue) -> Flow:
    """Hold a call; the set-up offers an inbound call and accepts it (the plan a profile without
    conversation.answer gets, given as the flow's plan so that the run itself may answer when it must)."""
    profile = load_profile(default_profile(), catalogue)
    without = profile.commands - {"channel.dial", "conversation.answer"}
    plan = find_plan(simulated_platform(catalogue, profile), HOLD_GOAL, commands=without, stimuli=profile.stimuli)
    assert plan is not None and [s.name for s in plan.steps][-1] == "interaction.accept", plan
    return Flow((Step("command", "conversation.hold", "$goal", expect=frozenset({"success"})),), HOLD_GOAL, plan)


def settings(catalogue: Catalogue, adopt: frozenset[str] = frozenset(), **changes: Any) -> Settings:
    """The reference profile's settings for a vendor that adopts ``adopt`` of the catalogue's conventions;
    without channel.dial, so that a call the test holds is an inbound call the set-up accepts."""
    base = load_profile(default_profile(), catalogue).settings()
    commands = base.commands - {"channel.dial"}
    return replace(base, adopted=adopt, step_timeout=3.0, commands=commands, **changes)


def run(serve: Serve, reply: Any, flow: Flow, used: Settings, catalogue: Catalogue) -> FlowResult:
    async def go() -> FlowResult:
        async with serve(reply) as url:
            return await run_flow(flow, url=url, catalogue=catalogue, settings=used)

    return asyncio.run(asyncio.wait_for(go(), 60))


def _command(frame: str | bytes) -> str:
    try:
        parsed = json.loads(frame)
    except ValueError:
        return ""
    return str(parsed.get("command", "")) if isinstance(parsed, dict) else ""


def ringing_until_answered(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An adapter whose interaction.accept assigns the interaction but leaves its call ringing until
    conversation.answer (ERRATA R11 is the catalogue's reading, not the seeds')."""
    if _command(frame) != "interaction.accept" or answer[0].get("result") != "success":
        return answer
    kept = []
    for message in answer:
        target = platform.model.get(str(message.get("target")))
        if message.get("name") == "state.updated" and target is not None and target.level == "conversation":
            target.state = "ALERTING"  # the platform keeps the call ringing
            continue
        kept.append(message)
    return kept


def test_a_call_that_rings_until_answered_warns_and_the_set_up_answers_it(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    result = run(
        altered_reference, ringing_until_answered, hold_after_accept(catalogue), settings(catalogue), catalogue
    )
    assert result.verdict == Verdict.WARN, (result.reason, result.violations)
    conventions = [v for _, v in result.violations if v.category is Category.CONVENTION]
    assert conventions and all(v.kind is Category.MISSING_EVENT for v in conventions)
    answered = [s for s in result.steps if s.step.name == "conversation.answer"]
    assert answered and answered[0].verdict == Verdict.PASS  # the set-up followed the adapter
    assert result.steps[-1].step.name == "conversation.hold" and result.steps[-1].verdict == Verdict.PASS


def test_the_same_adapter_fails_where_the_profile_adopts_the_catalogues_events(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    used = settings(catalogue, frozenset({"events"}))
    result = run(altered_reference, ringing_until_answered, hold_after_accept(catalogue), used, catalogue)
    # the set-up step's adopted convention fails, so the test cannot reach its situation
    assert result.verdict == Verdict.INCONCLUSIVE and "set-up step" in result.reason


def spelled_lower(frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An adapter that writes its state names in lower case."""
    return [
        {**m, "data": {**m["data"], "state": m["data"]["state"].lower()}}
        if m.get("name") == "state.updated" and isinstance(m.get("data", {}).get("state"), str)
        else m
        for m in answer
    ]


def test_state_names_in_lower_case_are_followed(altered_reference: Serve, catalogue: Catalogue) -> None:
    result = run(altered_reference, spelled_lower, hold_after_accept(catalogue), settings(catalogue), catalogue)
    assert result.verdict == Verdict.WARN, (result.reason, result.violations)
    kinds = {v.area for _, v in result.violations}
    assert kinds == {"states"}  # the spelling, reported; no missing event, no waiting for the catalogue's names


def hold_without_event(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A broken adapter: hold answers success and sends nothing ("Holding an active call will generate the
    following secondary events" is printed in 001)."""
    if _command(frame) == "conversation.hold":
        return answer[:1] if "result" in answer[0] else [m for m in answer if "result" in m]
    return answer


def test_a_hold_that_generates_no_event_fails_even_without_adopting_anything(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    result = run(
        altered_reference, hold_without_event, hold_after_accept(catalogue), settings(catalogue), catalogue
    )
    assert result.verdict == Verdict.FAIL
    [must] = [v for _, v in result.violations if v.verdict == Verdict.FAIL]
    assert must.title == "no secondary event"


def test_a_start_up_request_may_name_the_session_the_adapter_announced(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    def login(frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        request = json.loads(frame)
        if request.get("command") != "agent.login":
            return answer
        ok = request.get("target") == "S1" and request.get("data") == {"session": "S1", "agent": "7"}
        return [{**request, "result": "success"}] if ok else answer  # the reference refuses what it does not know

    send = ({"command": "agent.login", "target": "${session}", "data": {"session": "${session}", "agent": "7"}},)
    flow = Flow((Step("command", "channel.activate", "$channel"),))
    result = run(altered_reference, login, flow, settings(catalogue, startup_send=send), catalogue)
    assert result.verdict == Verdict.PASS, result.violations


def mute_with_own_event(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An adapter that announces a mute with an event of its own instead of state.updated."""
    if _command(frame) != "conversation.request.mute":
        return answer
    own = {"messageType": "objectEvent", "name": "conversation.infochanged", "data": {"muted": True}}
    return [answer[0], *({**own, "target": m["target"]} for m in answer[1:])]


def test_an_event_of_the_adapters_own_is_still_a_secondary_event(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    """Muting "will generate the following secondary events": the adapter's own event (declared as such) is one."""
    from harness.core.conventions import parse as conventions

    own = conventions(catalogue, {"extra_events": ["conversation.infochanged"]})
    used = settings(catalogue, conventions=own)
    mute = Goal("conversation", "conversation.request.mute", description="a conversation where mute succeeds")
    flow = Flow((Step("command", "conversation.request.mute", "$goal", expect=frozenset({"success"})),), mute)
    result = run(altered_reference, mute_with_own_event, flow, used, catalogue)
    assert result.verdict == Verdict.WARN, result.violations  # the muted facet's state.updated: a convention
    assert not any(v.title == "no secondary event" for _, v in result.violations)


def test_muting_again_after_a_mute_the_adapter_announced_its_own_way_is_no_failure(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    """The harness never learnt that the call is muted (the adapter's own event), so it predicts that muting
    again generates events; the adapter, whose call is muted, answers with none. The prediction rests on a
    state the model doubts: a warning, never the seeds' "at least one secondary event"."""
    from harness.core.conventions import parse as conventions

    used = settings(catalogue, conventions=conventions(catalogue, {"extra_events": ["conversation.infochanged"]}))
    mute = Goal("conversation", "conversation.request.mute", description="a conversation where mute succeeds")
    again = Step("command", "conversation.request.mute", "$goal", expect=frozenset({"success"}))
    result = run(altered_reference, mute_with_own_event, Flow((again, again), mute), used, catalogue)
    assert result.verdict == Verdict.WARN, result.violations
    assert [s.step.name for s in result.steps][-2:] == ["conversation.request.mute"] * 2
    doubted = [v for _, v in result.violations if v.title == "no secondary event"]
    assert doubted and all(v.category is Category.CONVENTION for v in doubted), result.violations


def test_a_mute_that_generates_no_event_at_all_still_fails(altered_reference: Serve, catalogue: Catalogue) -> None:
    """The proving side: the first mute of a call the model has seen connected owes at least one event."""

    def silent(frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return answer[:1] if _command(frame) == "conversation.request.mute" else answer

    mute = Goal("conversation", "conversation.request.mute", description="a conversation where mute succeeds")
    step = Step("command", "conversation.request.mute", "$goal", expect=frozenset({"success"}))
    result = run(altered_reference, silent, Flow((step,), mute), settings(catalogue), catalogue)
    assert result.verdict == Verdict.FAIL, result.violations
    assert any(
        v.title == "no secondary event" and v.category is Category.MISSING_EVENT for _, v in result.violations
    )
