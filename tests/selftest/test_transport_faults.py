"""A hostile adapter ends every test with a clear verdict, within the step timeout plus a small margin.

Each transport fault of the reference adapter (``mbconform serve --fault NAME``) is started, one flow runs
against it, and the test asserts the verdict, what the report says, and that the flow ended in bounded time.
The flow's own bound is its connect timeout, one step timeout and closing the connection; MARGIN covers a
loaded machine (two test workers on two cores).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

import pytest

from harness.core.results import FlowResult
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.faults import parse_fault
from harness.reference.server import ReferenceAdapter
from harness.runner.connection import CLOSE_SECONDS
from harness.runner.flow import Flow, run_flow
from harness.runner.session import MAX_STEP_VIOLATIONS
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
    Hostile("huge-frame", Verdict.ERROR, Category.CONNECTION_LOST, "max_frame_bytes"),
    Hostile("not-an-object", Verdict.FAIL, Category.MALFORMED_FRAME, "not an object"),
    Hostile("flood", Verdict.FAIL, Category.TIMEOUT, "Arrived: session.initialized about S1; session.initialized"),
    Hostile("drip", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("answers-twice", Verdict.FAIL, Category.WRONG_RESULT, "answers no outstanding request"),
    Hostile("answers-other", Verdict.FAIL, Category.TIMEOUT, "Still expected: the response to channel.activate"),
    Hostile("invalid-utf8", Verdict.FAIL, Category.MALFORMED_FRAME, "not valid UTF-8"),
]


async def run_against(catalogue: Catalogue, faults: list[str], flow: Flow = ACTIVATE) -> FlowResult:
    adapter = ReferenceAdapter(catalogue, faults=[parse_fault(name, catalogue) for name in faults])
    settings = replace(
        load_profile(default_profile(), catalogue).settings(),
        connect_timeout=CONNECT_TIMEOUT,
        step_timeout=STEP_TIMEOUT,
    )
    server = await adapter.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await run_flow(flow, url=f"ws://127.0.0.1:{port}", catalogue=catalogue, settings=settings)
    finally:
        server.close()


def described(result: FlowResult) -> str:
    return "\n".join(f"{step}: {violation}" for step, violation in result.violations)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.fault for h in HOSTILE])
def test_a_hostile_adapter_ends_the_test_with_a_verdict_in_bounded_time(
    catalogue: Catalogue, hostile: Hostile
) -> None:
    started = time.monotonic()
    result = asyncio.run(asyncio.wait_for(run_against(catalogue, [hostile.fault]), 4 * BOUND))
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"{hostile.fault}: the flow took {elapsed:.1f}s"
    assert result.verdict == hostile.verdict, described(result)
    assert hostile.category in {violation.category for _, violation in result.violations}, described(result)
    assert hostile.says in described(result), described(result)
    assert len(result.violations) <= 2 * MAX_STEP_VIOLATIONS + 10  # a flood is counted, not kept
    assert result.transcript  # the report's transcript is there whatever happened


def test_after_a_hostile_session_the_next_test_starts_on_a_new_connection(catalogue: Catalogue) -> None:
    """The same adapter process: a session whose connection drops, then a session that conforms."""

    async def both() -> tuple[FlowResult, FlowResult]:
        adapter = ReferenceAdapter(catalogue, test_control=True)
        base = load_profile(default_profile(), catalogue).settings()
        settings = replace(base, connect_timeout=CONNECT_TIMEOUT, step_timeout=STEP_TIMEOUT)
        server = await adapter.serve("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        url = f"ws://127.0.0.1:{port}"
        try:
            dropped = await run_flow(
                ACTIVATE, url=url + "?fault=close-abrupt", catalogue=catalogue, settings=settings
            )
            after = await run_flow(ACTIVATE, url=url, catalogue=catalogue, settings=settings)
        finally:
            server.close()
        return dropped, after

    dropped, after = asyncio.run(asyncio.wait_for(both(), 4 * BOUND))
    assert dropped.verdict == Verdict.ERROR and after.verdict == Verdict.PASS, described(after)


def test_a_transport_fault_amount_must_be_a_positive_number(catalogue: Catalogue) -> None:
    from harness.reference.faults import UnknownFault

    assert parse_fault("flood:10", catalogue).transport is not None
    for bad in ("flood:-1", "flood:many", "flood:1.5", "never-answers:3", "late-answers:nan"):
        with pytest.raises(UnknownFault, match=bad.split(":")[0]):
            parse_fault(bad, catalogue)
