"""Self-tests of the reference adapter: bad input gets a clear failure and the session goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.reference.process import RunningAdapter, start_reference

pytestmark = pytest.mark.selftest
TIMEOUT = 10


@pytest.fixture(scope="module")
def plain_adapter() -> Iterator[RunningAdapter]:
    with start_reference([]) as adapter:
        yield adapter


async def _session(url: str, frames: list[str | bytes]) -> list[dict[str, Any]]:
    """Send each frame and collect what comes back until the adapter answers every one."""
    async with asyncio.timeout(TIMEOUT), connect(url) as socket:
        while json.loads(await socket.recv())["name"] != "session.initialized":
            pass
        replies = []
        for frame in frames:
            await socket.send(frame)
            replies.append(json.loads(await socket.recv()))
        return replies


def test_bad_frames_get_failures_that_echo_what_could_be_read(plain_adapter: RunningAdapter) -> None:
    frames: list[str | bytes] = [
        "not json",
        b"\x00binary",
        "[1, 2]",
        json.dumps({"command": "channel.fly", "target": "S1.chan1", "data": {}}),
        json.dumps({"command": "channel.dial", "target": "S1.nope", "data": {"destination": "1"}}),
        json.dumps({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": 5}}),
        json.dumps({"command": "channel.activate", "target": "S1.chan1", "data": {}}),
    ]
    replies = asyncio.run(_session(plain_adapter.url, frames))
    codes = [reply.get("failure", {}).get("code") for reply in replies]
    assert codes == [
        "MALFORMED_REQUEST",
        "MALFORMED_REQUEST",
        "MALFORMED_REQUEST",
        "UNKNOWN_COMMAND",
        "INVALID_TARGET",
        "INVALID_DATA",
        None,
    ]
    assert replies[0]["original"] == {"text": "not json"}
    assert replies[4]["original"]["target"] == "S1.nope"
    assert replies[6]["result"] == "success"


def test_test_control_is_off_unless_asked_for(plain_adapter: RunningAdapter) -> None:
    frame = json.dumps(
        {"command": "mbconform.stimulate", "target": "S1.chan1", "data": {"stimulus": "call.inbound"}}
    )
    [reply] = asyncio.run(_session(plain_adapter.url, [frame]))
    assert reply["result"] == "failure" and reply["failure"]["code"] == "UNKNOWN_COMMAND"


def test_each_connection_is_its_own_session(plain_adapter: RunningAdapter) -> None:
    async def first_target() -> str:
        async with asyncio.timeout(TIMEOUT), connect(plain_adapter.url) as socket:
            return str(json.loads(await socket.recv())["target"])

    assert asyncio.run(first_target()) != asyncio.run(first_target())


def test_the_adapter_binds_to_loopback_by_default(plain_adapter: RunningAdapter) -> None:
    assert plain_adapter.url.startswith("ws://127.0.0.1:")


async def _startup(url: str) -> tuple[int | None, str, list[dict[str, Any]]]:
    """The start-up frames of one session, or how the adapter closed it."""
    frames = []
    async with asyncio.timeout(TIMEOUT), connect(url) as socket:
        try:
            while not frames or frames[-1]["name"] != "session.initialized":
                frames.append(json.loads(await socket.recv()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason if closed.rcvd else "", frames
    return None, "", frames


def test_session_options_in_the_url_need_test_control(plain_adapter: RunningAdapter) -> None:
    code, reason, frames = asyncio.run(_startup(plain_adapter.url + "/?platform=incontact"))
    assert code == 1008 and "--test-control" in reason and frames == []


def test_each_session_can_have_its_own_platform_and_facts() -> None:
    dial = json.dumps(
        {
            "command": "channel.dial",
            "target": "S1.chan1",
            "data": {"destination": "1", "extensions": {"type": "external"}},
        }
    )
    with start_reference(["--test-control"]) as adapter:
        code, reason, frames = asyncio.run(_startup(adapter.url + "/?platform=incontact&fact=completion=nap"))
        assert code == 1008 and "fact completion" in reason
        code, reason, frames = asyncio.run(_startup(adapter.url + "/?colour=blue"))
        assert code == 1008 and "unknown session options ['colour']" in reason
        _, _, frames = asyncio.run(_startup(adapter.url))
        assert [f["data"]["channel"]["media"] for f in frames if f["name"] == "channel.created"] == [
            "telephony",
            "chat",
        ]

        async def dial_on(query: str) -> dict[str, Any]:
            async with asyncio.timeout(TIMEOUT), connect(adapter.url + query) as socket:
                first = json.loads(await socket.recv())
                channel = first["target"] + ".chan1"
                while json.loads(await socket.recv())["name"] != "session.initialized":
                    pass
                await socket.send(json.dumps({"command": "channel.activate", "target": channel, "data": {}}))
                while "result" not in json.loads(await socket.recv()):
                    pass
                await socket.send(dial.replace("S1.chan1", channel))
                while True:
                    reply = json.loads(await socket.recv())
                    if "result" in reply:
                        return reply

        assert asyncio.run(dial_on("/?platform=incontact"))["result"] == "needinfo"
        assert asyncio.run(dial_on("/"))["result"] == "success"
