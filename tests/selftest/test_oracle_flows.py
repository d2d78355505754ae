"""The oracle runs in every test: an adapter that sends an event nothing explains, or moves a call where
the state model does not allow, fails the step in which it happens, while traffic about objects the test
never made does not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.server import ReferenceAdapter
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

Extra = Callable[[dict[str, Any], Platform], list[dict[str, Any]]]

CALL = (
    Step("command", "channel.activate", "$channel"),
    Step("stimulus", "call.inbound", "$channel", bind={"call": "interaction", "caller": "conversation"}),
    Step("command", "interaction.accept", "$call"),
)


def _event(target: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"messageType": "objectEvent", "target": target, "name": "state.updated", "data": data}


def _run(catalogue: Catalogue, extra: Extra, steps: tuple[Step, ...]) -> Any:
    """Run the steps against the reference adapter, which also sends what ``extra`` adds after a request."""
    adapter = ReferenceAdapter(catalogue, test_control=True)

    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        for event in platform.startup([{}], "S1"):
            await socket.send(encode(event))
        async for frame in socket:
            for out in [*adapter.answer(platform, frame), *extra(json.loads(frame), platform)]:
                await socket.send(encode(out))

    async def main() -> Any:
        settings = load_profile(default_profile(), catalogue).settings()
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return await run_flow(
                Flow(steps), url=f"ws://127.0.0.1:{port}", catalogue=catalogue, settings=settings
            )

    return asyncio.run(asyncio.wait_for(main(), 30))


def test_an_event_after_a_refused_request_is_unexplained(catalogue: Catalogue) -> None:
    """DTMF to a held call fails; an adapter that then mutes the call anyway changed what it refused."""

    def extra(request: dict[str, Any], platform: Platform) -> list[dict[str, Any]]:
        if request["command"] == "conversation.request.dtmf":
            return [_event(request["target"], {"muted": True})]
        return []

    steps = (
        *CALL,
        Step("command", "conversation.hold", "$caller"),
        Step("command", "conversation.request.dtmf", "$caller", expect=frozenset({"failure"})),
    )
    result = _run(catalogue, extra, steps)
    assert result.verdict == Verdict.FAIL
    [(_step, violation)] = result.violations
    assert (
        violation.title == "event after a refused request" and "state.updated about S1.chan1." in violation.message
    )


def test_traffic_about_objects_the_test_never_made_does_not_fail_it(catalogue: Catalogue) -> None:
    def extra(request: dict[str, Any], platform: Platform) -> list[dict[str, Any]]:
        if request["command"] == "conversation.request.dtmf":
            return [
                {"messageType": "objectEvent", "target": "S1.chan1", "name": "channel.infochanged", "data": {}}
            ]
        return []

    steps = (
        *CALL,
        Step("command", "conversation.hold", "$caller"),
        Step("command", "conversation.request.dtmf", "$caller", expect=frozenset({"failure"})),
    )
    assert _run(catalogue, extra, steps).verdict == Verdict.PASS


def test_a_transition_the_state_model_forbids_fails_the_step(catalogue: Catalogue) -> None:
    """An adapter that, retrieving a call, first announces it DISCONNECTED then CONNECTED again."""

    def extra(request: dict[str, Any], platform: Platform) -> list[dict[str, Any]]:
        if request["command"] == "conversation.hold":
            return [
                _event(request["target"], {"state": "DISCONNECTED"}),
                _event(request["target"], {"state": "HELD"}),
            ]
        return []

    result = _run(catalogue, extra, (*CALL, Step("command", "conversation.hold", "$caller")))
    assert result.verdict == Verdict.FAIL
    messages = [violation.message for _, violation in result.violations]
    assert any("cannot go from DISCONNECTED to HELD" in m for m in messages), messages
    assert all(v.category is Category.UNEXPECTED_EVENT for _, v in result.violations)


def test_an_event_about_an_object_never_announced_fails_whatever_the_step(catalogue: Catalogue) -> None:
    def extra(request: dict[str, Any], platform: Platform) -> list[dict[str, Any]]:
        if request["command"] == "conversation.hold":
            return [_event("S1.chan1.ghost7", {"state": "ACTIVE"})]
        return []

    result = _run(catalogue, extra, (*CALL, Step("command", "conversation.hold", "$caller")))
    assert result.verdict == Verdict.FAIL
    [(_, violation)] = result.violations
    assert violation.message == "state.updated for an unknown object 'S1.chan1.ghost7'"
