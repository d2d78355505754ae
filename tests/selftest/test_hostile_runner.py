"""The runner against an adapter that sends garbage: every test ends with a verdict, none with a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

Reply = Callable[[dict[str, Any]], list[str | bytes]]


async def _run(catalogue: Catalogue, reply: Reply, flow: Flow) -> Any:
    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        for event in platform.startup([{}], "S1"):
            await socket.send(encode(event))
        async for frame in socket:
            for out in reply(json.loads(frame)):
                await socket.send(out)

    settings = load_profile(default_profile(), catalogue).settings()
    settings = type(settings)(**{**settings.__dict__, "step_timeout": 1.0})
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        return await run_flow(flow, url=f"ws://127.0.0.1:{port}", catalogue=catalogue, settings=settings)


def run(catalogue: Catalogue, reply: Reply) -> Any:
    flow = Flow((Step("command", "channel.activate", "$channel"),))
    coroutine: Awaitable[Any] = _run(catalogue, reply, flow)
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_a_result_that_is_a_list_fails_the_test(catalogue: Catalogue) -> None:
    result = run(catalogue, lambda req: [json.dumps({**req, "result": []})])
    assert result.verdict == Verdict.FAIL
    assert any(v.category is Category.SHAPE_MISMATCH for _, v in result.violations)


def test_a_state_that_is_a_list_fails_the_test(catalogue: Catalogue) -> None:
    def reply(req: dict[str, Any]) -> list[str | bytes]:
        event = {
            "messageType": "objectEvent",
            "target": req["target"],
            "name": "state.updated",
            "data": {"state": []},
        }
        return [json.dumps({**req, "result": "success"}), json.dumps(event)]

    result = run(catalogue, reply)
    assert result.verdict == Verdict.FAIL


def test_binary_and_non_json_frames_are_malformed_frame_violations(catalogue: Catalogue) -> None:
    result = run(catalogue, lambda req: [b"\x00\x01", "not json", "[1]"])
    categories = {v.category for _, v in result.violations}
    assert Category.MALFORMED_FRAME in categories and Category.TIMEOUT in categories
    assert result.verdict == Verdict.FAIL


def test_an_adapter_that_never_answers_times_out_with_what_was_expected(catalogue: Catalogue) -> None:
    result = run(catalogue, lambda req: [])
    [(_step, violation)] = result.violations
    assert violation.category is Category.TIMEOUT
    assert "Still expected: the response to channel.activate" in violation.message


def test_a_set_up_that_leaves_the_goal_unmet_ends_inconclusive(catalogue: Catalogue) -> None:
    """The lists of answer and accept are incomplete, so an adapter that also mutes the call then is not
    wrong there; but the mute test it was set up for (muting an unmuted call) can no longer run, and must
    say so rather than fail. (The set-up's unmute then gets no event at all: the reference profile adopts the
    catalogue's events, and the seeds say "Unmuting a call will generate the following secondary events".)"""
    from harness.core.plan import Goal
    from harness.reference.server import ReferenceAdapter

    adapter = ReferenceAdapter(catalogue, test_control=True)

    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        for event in platform.startup([{}], "S1"):
            await socket.send(encode(event))
        async for frame in socket:
            request = json.loads(frame)
            extra = []
            if request.get("command") in ("interaction.accept", "conversation.answer"):
                interaction = (
                    request["target"].rsplit(".", 1)[0] if "answer" in request["command"] else request["target"]
                )
                for conversation in platform.model.descendants(interaction, "conversation"):
                    muted = {"messageType": "objectEvent", "target": conversation.address, "name": "state.updated"}
                    extra.append({**muted, "data": {"muted": True}})
            for out in [*extra, *adapter.answer(platform, frame)]:
                await socket.send(encode(out))

    async def main() -> Any:
        settings = load_profile(default_profile(), catalogue).settings()
        settings = replace(settings, commands=settings.commands - {"channel.dial"})  # plan through accept
        goal = Goal("conversation", "conversation.request.mute")
        flow = Flow((Step("command", "conversation.request.mute", "$goal"),), goal=goal)
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return await run_flow(flow, url=f"ws://127.0.0.1:{port}", catalogue=catalogue, settings=settings)

    result = asyncio.run(asyncio.wait_for(main(), 30))
    assert result.verdict == Verdict.INCONCLUSIVE, [step.title for step in result.steps]
    assert "set-up step 'send conversation.request.unmute" in result.reason, result.reason
    assert "did not arrive" in result.reason
