"""A hostile adapter ends every test with a clear verdict, within the step timeout plus a small margin.

Each transport fault of the reference adapter (``mbconform serve --fault NAME``) is started, one flow runs
against it, and the test asserts the verdict, what the report says, and that the flow ended in bounded time.
The flow's own bound is its connect timeout, one step timeout and closing the connection; MARGIN covers a
loaded machine (two test workers on two cores).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from harness.core.results import FlowResult
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.faults import parse_fault
from harness.reference.process import start_reference
from harness.reference.server import ReferenceAdapter
from harness.reference.transport import BEFORE_SESSION
from harness.runner.connection import CLOSE_SECONDS
from harness.runner.flow import Flow, run_flow
from harness.runner.session import MAX_STEP_VIOLATIONS
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

CONNECT_TIMEOUT = 1.0
STEP_TIMEOUT = 1.0
MARGIN = 2.0
BOUND = CONNECT_TIMEOUT + STEP_TIMEOUT + CLOSE_SECONDS + MARGIN
ACTIVATE = Flow((Step("command", "channel.activate", "$channel"),))


@dataclass(frozen=True)
class Hostile:
    fault: str
    verdict: Verdict
    category: Category
    says: str  # a piece of what the report must say


HOSTILE = [
    Hostile("refuse-connections", Verdict.ERROR, Category.CONNECTION_LOST, "the connection was refused"),
    Hostile("no-handshake", Verdict.ERROR, Category.CONNECTION_LOST, "handshake"),
    Hostile("never-answers", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("late-answers:3", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("close-clean", Verdict.ERROR, Category.CONNECTION_LOST, "close code 1001"),
    Hostile("close-abrupt", Verdict.ERROR, Category.CONNECTION_LOST, "no close frame"),
    Hostile("not-json", Verdict.FAIL, Category.MALFORMED_FRAME, "not JSON"),
    Hostile("binary-frame", Verdict.FAIL, Category.MALFORMED_FRAME, "binary"),
    # 2 MiB, over the profile's 1 MiB limit: built and sent well within the step timeout on a busy machine (the
    # default 64 MiB took longer than the 1 s step timeout to build there, and the timeout won)
    Hostile("huge-frame:2097152", Verdict.ERROR, Category.CONNECTION_LOST, "max_frame_bytes"),
    Hostile("not-an-object", Verdict.FAIL, Category.MALFORMED_FRAME, "not an object"),
    Hostile("flood", Verdict.FAIL, Category.TIMEOUT, "Arrived: session.initialized about S"),
    Hostile("drip", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("answers-twice", Verdict.FAIL, Category.WRONG_RESULT, "answers no outstanding request"),
    Hostile("answers-other", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("invalid-utf8", Verdict.FAIL, Category.MALFORMED_FRAME, "not valid UTF-8"),
    Hostile("bad-framing", Verdict.FAIL, Category.MALFORMED_FRAME, "broke the WebSocket framing"),
]


def settings_with(catalogue: Catalogue, **changes: Any) -> Settings:
    base = load_profile(default_profile(), catalogue).settings()
    return replace(base, connect_timeout=CONNECT_TIMEOUT, step_timeout=STEP_TIMEOUT, **changes)


@pytest.fixture(scope="module")
def adapter_url() -> Iterator[str]:
    """The reference adapter in a process of its own (a hostile adapter's work never delays the harness's
    event loop), with test control: each session names its fault with ``?fault=``."""
    with start_reference(["--test-control"]) as adapter:
        yield adapter.url


async def run_against(catalogue: Catalogue, url: str, fault: str, **limits: Any) -> FlowResult:
    settings = settings_with(catalogue, **limits)
    if fault in BEFORE_SESSION and fault != "no-handshake":  # no session to ask: the adapter itself refuses
        server = await ReferenceAdapter(catalogue, faults=[parse_fault(fault, catalogue)]).serve("127.0.0.1", 0)
        try:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            return await run_flow(ACTIVATE, url=url, catalogue=catalogue, settings=settings)
        finally:
            server.close()
    return await run_flow(ACTIVATE, url=f"{url}/?fault={fault}", catalogue=catalogue, settings=settings)


def described(result: FlowResult) -> str:
    return "\n".join(f"{step}: {violation}" for step, violation in result.violations)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.fault for h in HOSTILE])
def test_a_hostile_adapter_ends_the_test_with_a_verdict_in_bounded_time(
    catalogue: Catalogue, adapter_url: str, hostile: Hostile
) -> None:
    started = time.monotonic()
    result = asyncio.run(asyncio.wait_for(run_against(catalogue, adapter_url, hostile.fault), 4 * BOUND))
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"{hostile.fault}: the flow took {elapsed:.1f}s"
    assert result.verdict == hostile.verdict, described(result)
    assert hostile.category in {violation.category for _, violation in result.violations}, described(result)
    assert hostile.says in described(result), described(result)
    if hostile.fault == "flood":  # what arrived last is the flood
        assert described(result).count("session.initialized about") >= 10, described(result)
    assert len(result.violations) <= 2 * MAX_STEP_VIOLATIONS + 10  # a flood is counted, not kept
    assert result.transcript  # the report's transcript is there whatever happened


def test_after_a_hostile_session_the_next_test_starts_on_a_new_connection(
    catalogue: Catalogue, adapter_url: str
) -> None:
    """The same adapter process: a session whose connection drops, then a session that conforms."""
    dropped = asyncio.run(asyncio.wait_for(run_against(catalogue, adapter_url, "close-abrupt"), 4 * BOUND))
    settings = settings_with(catalogue)
    after = asyncio.run(
        asyncio.wait_for(run_flow(ACTIVATE, url=adapter_url, catalogue=catalogue, settings=settings), 4 * BOUND)
    )
    assert dropped.verdict == Verdict.ERROR and after.verdict == Verdict.PASS, described(after)


def test_a_transport_fault_amount_must_be_a_positive_number(catalogue: Catalogue) -> None:
    from harness.reference.faults import UnknownFault

    assert parse_fault("flood:10", catalogue).transport is not None
    for bad in ("flood:-1", "flood:many", "flood:1.5", "never-answers:3", "late-answers:nan"):
        with pytest.raises(UnknownFault, match=bad.split(":")[0]):
            parse_fault(bad, catalogue)


@pytest.mark.parametrize(("limit", "verdict"), [(4096, Verdict.ERROR), (65536, Verdict.PASS)])
def test_the_frame_size_limit_is_the_profiles(
    catalogue: Catalogue, adapter_url: str, limit: int, verdict: Verdict
) -> None:
    """An 8 KiB response: over a 4 KiB limit the harness refuses to read it; under 64 KiB it is judged (its
    extra member is allowed)."""

    flow = run_against(catalogue, adapter_url, "huge-frame:8192", max_frame_bytes=limit)
    result = asyncio.run(asyncio.wait_for(flow, 4 * BOUND))
    assert result.verdict == verdict, described(result)
    if verdict == Verdict.ERROR:
        assert f"exceeds limit of {limit} bytes" in described(result) and "max_frame_bytes" in described(result)


def test_a_lab_endpoint_that_drips_its_answer_ends_the_stimulus_in_bounded_time() -> None:
    """The HTTP stimulus driver's blocking call runs on after its deadline; nothing may wait for it (asyncio.run
    waited for it without limit)."""
    import socket
    import threading

    from harness.runner.stimuli import StimulusDriver, StimulusFailed, produce

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(4096)
            for _ in range(40):  # at most 20 s, or until the test ends
                if stop.wait(0.5):
                    return
                connection.sendall(b"H")

    threading.Thread(target=drip, daemon=True).start()
    driver = StimulusDriver(kind="http", url=f"http://127.0.0.1:{server.getsockname()[1]}/lab")

    async def stimulate() -> str:
        try:
            return await produce(driver, "call.inbound", "S1.chan1", "ws://127.0.0.1:1", 1.0, print)
        except StimulusFailed as exc:
            return str(exc)

    started = time.monotonic()
    try:
        said = asyncio.run(stimulate())
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.close()
    assert "did not answer within 1s" in said and elapsed < 1 + 1 + MARGIN, (said, elapsed)
