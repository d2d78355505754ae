"""The fence that ends each step of the fuzzer (a request the catalogue refuses, awaited with the step still
current, then a second one): against a correct adapter it changes nothing; it catches a late event a settled
list forbids without a settle window; an event sent with its answer is an event after a refused request; and
an adapter that does not refuse it fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import pytest

from harness.core.results import StepResult
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.runner.connection import Connection
from harness.runner.deadline import Deadline
from harness.runner.session import MediaBarSession
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

Reply = Callable[[Any, list[dict[str, Any]]], list[dict[str, Any]]]  # (the request read, the answer) -> sent
Serve = Callable[..., AbstractAsyncContextManager[str]]  # the altered_reference fixture (conftest)

CALL = (
    Step("command", "channel.activate", "$channel"),
    Step("stimulus", "call.inbound", "$channel", bind={"call": "interaction", "caller": "conversation"}),
    Step("command", "interaction.accept", "$call"),
    Step("command", "conversation.request.mute", "$caller"),
    Step("command", "conversation.request.mute", "$caller"),  # already muted: success, and nothing changes
)


def correct(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return answer


def _run(serving: Serve, catalogue: Catalogue, reply: Reply = correct, fences: bool = True) -> list[StepResult]:
    """The steps with no settle window, each ended by a fence; the reference adapter's answers go through
    ``reply``."""

    def altered(received: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            request = json.loads(received)
        except ValueError:
            request = None
        return reply(request, answer)

    async def main() -> list[StepResult]:
        settings = replace(load_profile(default_profile(), catalogue).settings(), step_timeout=1.0, settle=0)
        async with serving(altered) as url:
            connection = await Connection.open(
                url,
                Deadline(5, "connecting"),
                lambda event: None,
                max_frame_bytes=1 << 20,
                max_queue=64,
                transcript_frames=1000,
            )
            session = MediaBarSession(catalogue, settings, connection, lambda event: None, url)
            session.fences = fences
            try:
                await session.bootstrap()
                return [await session.run(step) for step in CALL]
            finally:
                await connection.close()

    return asyncio.run(asyncio.wait_for(main(), 30))


def test_against_a_correct_adapter_the_fence_changes_nothing(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    results = _run(altered_reference, catalogue)
    assert [result.verdict for result in results] == [Verdict.PASS] * len(CALL), [r.violations for r in results]


def test_the_fence_catches_a_late_event_a_settled_list_forbids(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def late(pending: dict[str, Any]) -> Reply:
        def reply(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
            held, pending["late"] = pending.get("late"), None
            if isinstance(request, dict) and request.get("command") == "conversation.request.mute":
                pending["mutes"] = pending.get("mutes", 0) + 1
                if pending["mutes"] == 2:  # the repeated mute changes the call after all, announced only later
                    event = {"messageType": "objectEvent", "target": request["target"], "name": "state.updated"}
                    pending["late"] = {**event, "data": {"muted": True}}
            return [held, *answer] if held is not None else answer

        return reply

    unfenced = _run(altered_reference, catalogue, late({}), fences=False)
    assert unfenced[-1].verdict == Verdict.PASS  # without a fence nothing came while the repeated mute ran
    fenced = _run(altered_reference, catalogue, late({}))
    assert fenced[-1].verdict == Verdict.FAIL
    assert [v.category for v in fenced[-1].violations] == [Category.UNEXPECTED_EVENT], fenced[-1].violations


def test_an_adapter_that_does_not_refuse_the_fence_fails(catalogue: Catalogue, altered_reference: Serve) -> None:
    def accepts(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(request, dict) and str(request.get("target", "")).endswith("mbconform-missing"):
            return [{"command": request["command"], "target": request["target"], "result": "success", "data": {}}]
        return answer

    results = _run(altered_reference, catalogue, accepts)
    assert results[0].verdict == Verdict.FAIL
    assert any(v.message.startswith("the fence:") for v in results[0].violations), results[0].violations


def test_an_event_that_comes_with_the_answer_to_the_fence_fails(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    """An adapter that sends an earlier event again with its next answer (here: the fence's) is caught
    whether the event is read with the fence's answer or just after it."""
    last: dict[str, Any] = {"event": None}

    def replays(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        events = [message for message in answer if "messageType" in message]
        fence = isinstance(request, dict) and str(request.get("target", "")).endswith("mbconform-missing")
        if fence and last["event"] is not None:
            return [*answer, last["event"]]  # after the refusal, the call's last event again
        if events:
            last["event"] = events[-1]
        return answer

    results = _run(altered_reference, catalogue, replays)
    failed = [result for result in results if result.verdict == Verdict.FAIL]
    assert failed, "the replayed event was not caught"
    assert [v.title for v in failed[0].violations] == ["event after a refused request"]
