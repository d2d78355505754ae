"""Issue 15, defect 6 (the object model's half): an adapter that creates many objects with 500 KB of data each
cannot fill the harness's memory. The object model keeps a bounded copy of each object's data, follows a bounded
number of objects with bounded ids, and forgets disposed ones after a bound (README "Hostile adapters").

Memory is measured (tracemalloc), never timed: the outcome does not depend on how busy the machine is.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.kept import INFO_CHARS, INFO_VALUES, kept
from harness.core.messages import Event, classify, encode
from harness.core.objects import (
    DISPOSED_CHARS,
    HARNESS_BOUND,
    MAX_ID_CHARS,
    MAX_OBJECTS,
    ObjectModel,
)
from harness.core.violations import Verdict
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

BLOB = 500_000  # characters of data per created object (the 500 KB)
OBJECTS = 60  # hostile creations: 30 MB of data in all (without the bounds: a peak over 40 MB)
ORACLE_PEAK = 8 << 20  # bytes: the oracle's peak while it follows them (two or three frames' worth)
RUN_PEAK = (
    24 << 20
)  # bytes: a whole session's peak (its transcript keeps 16 KB of each frame, websockets' buffers)


def _created(target: str, new_id: str, blob: int = BLOB) -> str:
    """A channel.created frame with ``blob`` characters of data the catalogue never reads."""
    channel = {"id": new_id, "name": "x" * blob, "media": "telephony", "extra": ["y" * 100] * 200}
    event = {
        "messageType": "objectEvent",
        "target": target,
        "name": "channel.created",
        "data": {"channel": channel},
    }
    return json.dumps(event)


def _event(text: str) -> Event:
    message = classify(text)
    assert isinstance(message, Event), message
    return message


def _peak(work: Callable[[], Any]) -> tuple[int, int, Any]:
    """The peak and what is still held after ``work`` (bytes above what was held before), and its result."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = work()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before, held - before, result


def test_the_oracle_following_many_large_creations_keeps_a_bounded_copy(catalogue: Catalogue) -> None:
    model = ObjectModel(catalogue)
    model.start_session("S1")

    def follow() -> list[str]:
        problems = []
        for number in range(OBJECTS):
            applied = model.apply(_event(_created("S1", f"h{number}")))  # parsed here, as a frame arrives
            problems += [str(problem) for problem in applied.problems]
        return problems

    peak, held, problems = _peak(follow)
    print(f"oracle: {OBJECTS} creations of {BLOB} characters: peak {peak / 1e6:.1f} MB, held {held / 1e6:.2f} MB")
    assert problems == []  # followed as before: every one is a channel of the session
    assert len([obj for obj in model.of_level("channel")]) == OBJECTS
    assert peak < ORACLE_PEAK, f"peak {peak} bytes (bound {ORACLE_PEAK})"
    assert held < OBJECTS * 2 * (INFO_CHARS + 64 * INFO_VALUES) + (1 << 20), held
    info = model.objects["S1.h0"].info["channel"]
    assert info["id"] == "h0" and info["media"] == "telephony"
    assert info["name"] == f"«not kept: {BLOB} characters»"  # a marker says what was left out


def test_a_bounded_copy_keeps_small_data_whole_and_says_what_it_left_out() -> None:
    small = {"channel": {"id": "c1", "media": "chat", "tags": [1, 2.5, None, True], "deep": {"a": {"b": "c"}}}}
    assert kept(small) == small
    wide = kept({"channel": {f"k{n}": n for n in range(1000)}})
    assert len(wide["channel"]) <= INFO_VALUES + 1
    assert wide["channel"]["…"].startswith("«not kept: ") and "more fields" in wide["channel"]["…"]
    nested: dict[str, Any] = {}
    cursor = nested
    for _ in range(500):
        cursor["n"] = {}
        cursor = cursor["n"]
    assert "nested deeper" in json.dumps(kept(nested), ensure_ascii=False)
    assert len(json.dumps(kept({"a": ["z" * 1500] * 50}), ensure_ascii=False)) < 2 * INFO_CHARS


def test_the_number_of_objects_and_the_length_of_their_ids_followed_are_bounded(catalogue: Catalogue) -> None:
    model = ObjectModel(catalogue)
    model.start_session("S1")
    refused = []
    for number in range(MAX_OBJECTS + 10):
        refused += model.apply(_event(_created("S1", f"c{number}", blob=0))).problems
    assert len(model.objects) == MAX_OBJECTS
    assert len(refused) == 11 and all(problem.inferred == HARNESS_BOUND for problem in refused)  # a convention
    assert "not followed" in refused[0]
    long_id = "i" * (MAX_ID_CHARS + 1)
    problems = ObjectModel(catalogue)
    problems.start_session("S1")
    (problem,) = problems.apply(_event(_created("S1", long_id, blob=0))).problems
    assert f"an id of {MAX_ID_CHARS + 1} characters" in problem and long_id not in problem
    assert f"S1.{long_id}" not in problems.objects


def _disposals(count: int, id_chars: int) -> Iterator[str]:
    for number in range(count):
        new_id = f"{number:08d}" + "d" * id_chars
        yield _created("S1", new_id, blob=0)
        yield json.dumps({"messageType": "objectEvent", "target": f"S1.{new_id}", "name": "channel.disposed"})


def test_disposed_objects_are_forgotten_after_a_bound_in_number_and_characters(catalogue: Catalogue) -> None:
    model = ObjectModel(catalogue)
    model.start_session("S1")
    for frame in _disposals(3000, MAX_ID_CHARS - 8):
        model.apply(_event(frame))
    assert not any(obj.level == "channel" for obj in model.objects.values())
    assert sum(len(address) for address in model.disposed) <= DISPOSED_CHARS
    assert 0 < len(model.disposed) < 3000
    assert model.disposed_chars == sum(len(address) for address in model.disposed)
    assert f"S1.{2999:08d}" + "d" * (MAX_ID_CHARS - 8) in model.disposed  # the newest are remembered


async def _hostile(socket: ServerConnection) -> None:
    """A hostile adapter: at start-up it announces, besides a usable channel, OBJECTS channels each created
    with BLOB characters of data, then says the session is ready and reads what it is sent."""
    await socket.send(_created("S1", "chan1", blob=10))
    for number in range(OBJECTS):
        await socket.send(_created("S1", f"h{number}"))  # built one at a time: the adapter holds one
        await socket.send(
            encode({"messageType": "objectEvent", "target": f"S1.h{number}", "name": "channel.initialized"})
        )
    await socket.send(encode({"messageType": "objectEvent", "target": "S1.chan1", "name": "channel.initialized"}))
    await socket.send(encode({"messageType": "objectEvent", "target": "S1", "name": "session.initialized"}))
    async for _ in socket:
        pass


def test_a_hostile_adapter_creating_many_large_objects_cannot_fill_the_harness(catalogue: Catalogue) -> None:
    # a small frame queue, so the peak measures what the harness keeps and not how far the reader ran ahead; a
    # step timeout no busy machine reaches (tracemalloc slows the start-up down), so the verdict is the same
    settings = replace(load_profile(default_profile(), catalogue).settings(), max_queue=2, step_timeout=30)

    async def session() -> Any:
        async with serve(_hostile, "127.0.0.1", 0, max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            url = f"ws://127.0.0.1:{port}"
            return await run_flow(Flow(()), url=url, catalogue=catalogue, settings=settings)

    peak, _, result = _peak(lambda: asyncio.run(asyncio.wait_for(session(), 40)))
    print(f"session: {OBJECTS} creations of {BLOB} characters: peak {peak / 1e6:.1f} MB, verdict {result.verdict}")
    assert result.verdict <= Verdict.WARN, result.violations  # followed: a session with many channels is legal
    assert peak < RUN_PEAK, f"peak {peak} bytes (bound {RUN_PEAK})"
