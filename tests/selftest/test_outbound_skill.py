"""InContact's outbound skill (000, channel.dial > Incontact Extensions): "The media bar should attempt to make the
call without the outbound skill extension populated. If a skill needs to be selected, the media bar will receive
a NeedsMoreInfo error that contains the available outbound skills to choose from". The retry takes a skill from
the adapter's needinfo (``$response:``), never the reference platform's id, so an adapter offering other skills
passes, and one that refuses any skill it did not offer is not failed by the harness's choice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.cases import command_cases
from harness.core.messages import encode
from harness.core.results import FlowResult
from harness.core.simulate import IdFactory, Platform
from harness.core.violations import Verdict
from harness.paths import suites_dir
from harness.reference.server import ReferenceAdapter
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue, with_response
from harness.suite import load_profile, load_scenario

pytestmark = pytest.mark.selftest

SKILLS = [{"id": "sk-77", "skillName": "Collections"}, {"id": "sk-78", "skillName": "Renewals"}]
Message = dict[str, Any]


def test_a_response_reference_takes_the_member_the_answer_before_offered() -> None:
    needinfo = {"result": "needinfo", "uiExtension": {"id": "inContact.outboundskill", "skills": SKILLS}}
    data = {"destination": "1", "extensions": {"type": "external", "skill": "$response:uiExtension.skills[0].id"}}
    assert with_response(data, needinfo)["extensions"]["skill"] == "sk-77"
    assert with_response(data, {"result": "success"}) == data  # nothing offered: left as written
    assert with_response(data, None) == data


def _strict_incontact(catalogue: Catalogue) -> Callable[[], AbstractAsyncContextManager[str]]:
    """The reference adapter on InContact whose agent has the skills ``SKILLS`` (not the reference platform's),
    and which refuses a dial with a skill it did not offer (as a real platform would)."""
    adapter = ReferenceAdapter(catalogue, test_control=True)
    offered = {skill["id"] for skill in SKILLS}

    def answer(platform: Platform, frame: str | bytes) -> list[Message]:
        request = json.loads(frame)
        skill = request.get("data", {}).get("extensions", {}).get("skill") if isinstance(request, dict) else None
        if request.get("command") == "channel.dial" and skill is not None and skill not in offered:
            failure = platform.respond(request, "failure", failure={"code": "NO_SKILL", "message": skill})
            return [{**failure, "original": request}]
        return adapter.answer(platform, frame)

    @asynccontextmanager
    async def serving() -> AsyncIterator[str]:
        async def handler(socket: ServerConnection) -> None:
            facts = {**catalogue.platforms["incontact"].facts, "outbound_skills": SKILLS}
            platform = Platform(catalogue, ids=IdFactory(), platform="incontact", facts=facts)
            for event in platform.startup(list(adapter.channels), "S1"):
                await socket.send(encode(event))
            async for received in socket:
                for out in answer(platform, received):
                    await socket.send(encode(out))

        async with serve(handler, "127.0.0.1", 0) as server:
            yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    return serving


def _run(catalogue: Catalogue, flow: Flow, adopt: bool = True) -> FlowResult:
    profile = load_profile(suites_dir() / "profiles" / "reference-incontact.yaml", catalogue)
    serving = _strict_incontact(catalogue)
    settings = profile.settings() if adopt else replace(profile.settings(), adopted=frozenset())

    async def main() -> FlowResult:
        async with serving() as url:
            return await run_flow(flow, url=url, catalogue=catalogue, settings=settings)

    return asyncio.run(asyncio.wait_for(main(), 30))


def _dials(transcript: str) -> list[Any]:
    """The extensions of each channel.dial the harness sent."""
    sent = [json.loads(line.split("> ", 1)[1]) for line in transcript.splitlines() if "> {" in line]
    return [request["data"].get("extensions") for request in sent if request.get("command") == "channel.dial"]


def test_the_call_flow_retries_with_a_skill_the_adapter_offered(catalogue: Catalogue) -> None:
    scenario = load_scenario(suites_dir() / "conformance" / "incontact-outbound-skill.yaml", catalogue)
    result = _run(catalogue, Flow(scenario.steps))
    assert result.verdict == Verdict.PASS, result.violations
    assert _dials(result.transcript) == [{"type": "external"}, {"type": "external", "skill": "sk-77"}]


def test_the_generated_retry_case_takes_its_skill_from_the_needinfo(catalogue: Catalogue) -> None:
    profile = load_profile(suites_dir() / "profiles" / "reference-incontact.yaml", catalogue)
    [case] = [
        case
        for case in command_cases(catalogue, profile)
        if case.id.startswith("MB-CHAN-DIAL-3") and case.applicable and len(case.flow.steps) == 2
    ]
    result = _run(catalogue, case.flow)
    assert result.verdict == Verdict.PASS, result.violations
    assert _dials(result.transcript)[-2:] == [{"type": "external"}, {"type": "external", "skill": "sk-77"}]


def test_a_dial_with_the_catalogues_default_skill_that_the_adapter_refuses_is_a_convention(
    catalogue: Catalogue,
) -> None:
    """The profile does not name its lab's outbound skill, so the main-path dial carries the default platform's
    (chosen_outbound_skill "4101"): an adapter that refuses it is not failed for the harness's choice."""
    profile = load_profile(suites_dir() / "profiles" / "reference-incontact.yaml", catalogue)
    assert "chosen_outbound_skill" not in profile.declared_facts
    [case] = [case for case in command_cases(catalogue, profile) if case.id == "MB-CHAN-DIAL-001"]
    vendor = _run(catalogue, case.flow, adopt=False)
    assert vendor.verdict == Verdict.WARN, vendor.violations
    assert any("platform data the profile does not set" in (v.inferred or "") for _, v in vendor.violations)
    adopting = _run(catalogue, case.flow)  # the reference profile adopts the catalogue's results: a MUST
    assert adopting.verdict == Verdict.FAIL
