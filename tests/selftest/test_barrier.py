"""The barrier the fuzzer sends after each step (a request the catalogue refuses, and its answer): against a
correct adapter it brings nothing; it catches a late event a settled list forbids without waiting a settle
window; and an adapter that does not refuse it fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.results import StepResult
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.server import ReferenceAdapter
from harness.runner.connection import Connection
from harness.runner.deadline import Deadline
from harness.runner.session import MediaBarSession
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

Reply = Callable[[Any, list[dict[str, Any]]], list[dict[str, Any]]]

CALL = (
    Step("command", "channel.activate", "$channel"),
    Step("stimulus", "call.inbound", "$channel", bind={"call": "interaction", "caller": "conversation"}),
    Step("command", "interaction.accept", "$call"),
    Step("command", "conversation.request.mute", "$caller"),
    Step("command", "conversation.request.mute", "$caller"),  # already muted: success, and nothing changes
)


def correct(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return answer


def _run(catalogue: Catalogue, reply: Reply = correct) -> tuple[list[StepResult], StepResult | None]:
    """The steps with no settle window, then a barrier; the reference adapter's answers go through ``reply``."""
    adapter = ReferenceAdapter(catalogue, test_control=True)

    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        for event in platform.startup([{}], "S1"):
            await socket.send(encode(event))
        async for received in socket:
            try:
                request = json.loads(received)
            except ValueError:
                request = None
            for out in reply(request, adapter.answer(platform, received)):
                await socket.send(encode(out))

    async def main() -> tuple[list[StepResult], StepResult | None]:
        settings = replace(load_profile(default_profile(), catalogue).settings(), step_timeout=1.0, settle=0)
        async with serve(handler, "127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            connection = await Connection.open(
                url,
                Deadline(5, "connecting"),
                lambda event: None,
                max_frame_bytes=1 << 20,
                max_queue=64,
                transcript_frames=1000,
            )
            session = MediaBarSession(catalogue, settings, connection, lambda event: None, url)
            try:
                await session.bootstrap()
                results = [await session.run(step) for step in CALL]
                return results, await session.barrier()
            finally:
                await connection.close()

    return asyncio.run(asyncio.wait_for(main(), 30))


def test_against_a_correct_adapter_the_barrier_brings_nothing(catalogue: Catalogue) -> None:
    results, barrier = _run(catalogue)
    assert [result.verdict for result in results] == [Verdict.PASS] * len(CALL)
    assert barrier is not None and barrier.verdict == Verdict.PASS, barrier and barrier.violations
    assert barrier.response is not None and barrier.response.result == "failure"


def test_the_barrier_catches_a_late_event_a_settled_list_forbids(catalogue: Catalogue) -> None:
    seen: dict[str, Any] = {"mutes": 0, "late": None}

    def late(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        pending, seen["late"] = seen["late"], None
        if isinstance(request, dict) and request.get("command") == "conversation.request.mute":
            seen["mutes"] += 1
            if seen["mutes"] == 2:  # the repeated mute changes the call after all, announced only later
                event = {"messageType": "objectEvent", "target": request["target"], "name": "state.updated"}
                seen["late"] = {**event, "data": {"muted": True}}
        return [pending, *answer] if pending is not None else answer

    results, barrier = _run(catalogue, late)
    assert results[-1].verdict == Verdict.PASS  # nothing came while the repeated mute ran
    assert barrier is not None and barrier.verdict == Verdict.FAIL
    # the repeated mute's event, judged when it comes: the oracle cannot explain it
    assert [violation.category for violation in barrier.violations] == [Category.UNEXPECTED_EVENT]


def test_an_adapter_that_does_not_refuse_the_barrier_fails(catalogue: Catalogue) -> None:
    def accepts(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(request, dict) and str(request.get("target", "")).endswith("mbconform-missing"):
            return [{"command": request["command"], "target": request["target"], "result": "success", "data": {}}]
        return answer

    _, barrier = _run(catalogue, accepts)
    assert barrier is not None and barrier.verdict == Verdict.FAIL
    assert "wrong result" in [violation.title for violation in barrier.violations]


def test_an_event_that_comes_with_the_answer_to_the_barrier_fails(catalogue: Catalogue) -> None:
    """An adapter that sends an earlier event again with its next answer (here: the barrier's) is caught
    whether the event is read with the barrier's answer or just after it."""
    last: dict[str, Any] = {"event": None}

    def replays(request: Any, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        events = [message for message in answer if "messageType" in message]
        barrier = isinstance(request, dict) and str(request.get("target", "")).endswith("mbconform-missing")
        if barrier and last["event"] is not None:
            return [*answer, last["event"]]  # after the refusal, the call's last event again
        if events:
            last["event"] = events[-1]
        return answer

    results, barrier = _run(catalogue, replays)
    assert all(result.verdict == Verdict.PASS for result in results)
    assert barrier is not None and barrier.verdict == Verdict.FAIL
    assert [violation.title for violation in barrier.violations] == ["event after a refused request"]
