"""Seed 000, channelgroup.initialized: "All member channels will have been added to this group and initialized
prior to this event being raised." The harness checks that order wherever a group is announced (the start-up
with channel-group addressing, and after session.addchannelgroup), catches the reference adapter's fault
that breaks it, and lets legal variants pass (repeated channel.infochanged, two channels in one group)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.results import FlowResult
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.reference.process import RunningAdapter, start_reference
from harness.reference.server import ReferenceAdapter
from harness.runner.flow import Flow, run_flow
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
FAULT = "group-initialized-before-channel"
ADD_GROUP = (
    Step("command", "session.addchannelgroup", "$session", data={"name": "Sales"}, bind={"member": "channel"}),
    Step("command", "channel.activate", "$member"),
)
Message = dict[str, Any]
Rewrite = Callable[[list[Message]], list[Message]]


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


def _settings(catalogue: Catalogue, addressing: str) -> Settings:
    return replace(load_profile(FAST_PROFILE, catalogue).settings(), addressing=addressing, step_timeout=2.0)


def _run(url: str, catalogue: Catalogue, steps: tuple[Step, ...], addressing: str) -> FlowResult:
    settings = _settings(catalogue, addressing)
    flow = run_flow(Flow(steps), url=url, catalogue=catalogue, settings=settings)
    return asyncio.run(asyncio.wait_for(flow, 30))


def _order_violations(result: FlowResult) -> list[str]:
    return [
        violation.message
        for _, violation in result.violations
        if violation.category is Category.UNEXPECTED_EVENT
        and violation.message.startswith("channelgroup.initialized for ")
        and "not yet initialized" in violation.message
    ]


def test_a_group_initialized_before_its_channel_fails_the_start_up(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    url = f"{control_adapter.url}/?addressing=channelgroup&fault={FAULT}"
    result = _run(url, catalogue, (), "channelgroup")
    assert result.verdict == Verdict.FAIL, result.violations
    [title] = {title for title, v in result.violations if v.message in _order_violations(result)}
    assert title == "session start-up"
    [violation] = [v for _, v in result.violations if v.message in _order_violations(result)]
    assert violation.ref is not None and violation.ref.file.endswith("channelgroup.initialized.yaml")
    assert "it has 1, not at most 0 channels not yet initialized" in violation.message


def test_a_group_initialized_before_its_channel_fails_session_addchannelgroup(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    result = _run(f"{control_adapter.url}/?fault={FAULT}", catalogue, ADD_GROUP, "flat")
    assert result.verdict == Verdict.FAIL
    titles = [title for title, v in result.violations if v.message in _order_violations(result)]
    assert len(titles) == 1 and titles[0].startswith("send session.addchannelgroup on "), result.violations


def test_the_correct_adapter_passes_both(catalogue: Catalogue, control_adapter: RunningAdapter) -> None:
    grouped = _run(f"{control_adapter.url}/?addressing=channelgroup", catalogue, (), "channelgroup")
    assert grouped.verdict == Verdict.PASS, grouped.violations
    added = _run(control_adapter.url, catalogue, ADD_GROUP, "flat")
    assert added.verdict == Verdict.PASS, added.violations


def _second_channel_and_repeated_info(events: list[Message]) -> list[Message]:
    """Legal: a second member channel announced in the group, and channel.infochanged repeated, all before
    the group's channelgroup.initialized."""
    out: list[Message] = []
    for event in events:
        if event.get("name") == "channelgroup.initialized":
            created = next(e for e in out if e.get("name") == "channel.created")
            second = copy.deepcopy(created)
            second["data"]["channel"]["id"] = "second"
            address = f"{event['target']}.second"
            info = {"messageType": "objectEvent", "target": address, "name": "channel.infochanged", "data": {}}
            done = {**info, "name": "channel.initialized"}
            out += [second, info, dict(info), done]
        if event.get("name") == "channel.initialized":
            out.append({**event, "name": "channel.infochanged", "data": {}})  # once more before it
        out.append(event)
    return out


def _reference_with(catalogue: Catalogue, rewrite: Rewrite) -> Callable[[str], AbstractAsyncContextManager[str]]:
    """The reference adapter in-process, with its start-up (``addressing``) and every answer rewritten."""
    adapter = ReferenceAdapter(catalogue, test_control=True)

    @asynccontextmanager
    async def serving(addressing: str) -> AsyncIterator[str]:
        async def handler(socket: ServerConnection) -> None:
            platform = Platform(catalogue)
            for event in rewrite(platform.startup([{}], "S1", addressing)):
                await socket.send(encode(event))
            async for received in socket:
                for out in rewrite(adapter.answer(platform, received)):
                    await socket.send(encode(out))

        async with serve(handler, "127.0.0.1", 0) as server:
            yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    return serving


@pytest.mark.parametrize("addressing", ["channelgroup", "flat"])
def test_two_channels_in_a_group_and_repeated_infochanged_are_not_caught(
    catalogue: Catalogue, addressing: str
) -> None:
    serving = _reference_with(catalogue, _second_channel_and_repeated_info)
    steps = ADD_GROUP if addressing == "flat" else ()

    async def main() -> FlowResult:
        async with serving(addressing) as url:
            settings = _settings(catalogue, addressing)
            return await run_flow(Flow(steps), url=url, catalogue=catalogue, settings=settings)

    result = asyncio.run(asyncio.wait_for(main(), 30))
    assert _order_violations(result) == []
    assert result.verdict == Verdict.PASS, result.violations
    assert result.transcript.count('"id":"second"') == 1
