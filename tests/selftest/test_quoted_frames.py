"""Violations quote the frame as the adapter sent it: the profile's conventions translate what arrives into the
catalogue's names at the frame boundary (harness/core/conventions.py ``incoming``), and a violation shows the
adapter's own state names; the translation only where the check read it, labelled as such."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import pytest

from harness.core.conventions import parse
from harness.core.messages import AS_SENT, READ_AS
from harness.core.plan import Goal
from harness.core.results import FlowResult
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Verdict
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest
Serve = Callable[..., AbstractAsyncContextManager[str]]  # the altered_reference fixture (conftest)

HOLD = Goal("conversation", "conversation.hold", description="a conversation where hold succeeds")


def _lower(message: dict[str, Any]) -> dict[str, Any]:
    state = message.get("data", {}).get("state") if isinstance(message.get("data"), dict) else None
    if message.get("name") == "state.updated" and isinstance(state, str):
        return {**message, "data": {**message["data"], "state": state.lower()}}
    return message


def _command(frame: str | bytes) -> str:
    try:
        parsed = json.loads(frame)
    except ValueError:
        return ""
    return str(parsed.get("command", "")) if isinstance(parsed, dict) else ""


def lower_case_and_a_stray_event(
    frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """An adapter that names its states in lower case (as its profile declares) and, after a hold, sends a
    second state.updated that puts the held call back to ringing (a bug)."""
    out = [_lower(message) for message in answer]
    if _command(frame) == "conversation.hold" and answer[0].get("result") == "success":
        target = json.loads(frame)["target"]
        out.append(
            {
                "messageType": "objectEvent",
                "name": "state.updated",
                "target": target,
                "data": {"state": "alerting"},
            }
        )
    return out


def _run(serve: Serve, catalogue: Catalogue) -> FlowResult:
    states = {name: {s.lower(): s for s in level.states_in_order} for name, level in catalogue.levels.items()}
    states = {name: vocabulary for name, vocabulary in states.items() if vocabulary}
    conventions = parse(catalogue, {"states": states})
    settings = replace(load_profile(default_profile(), catalogue).settings(), conventions=conventions)
    flow = Flow((Step("command", "conversation.hold", "$goal", expect=frozenset({"success"})),), HOLD)

    async def go() -> FlowResult:
        async with serve(lower_case_and_a_stray_event) as url:
            return await run_flow(flow, url=url, catalogue=catalogue, settings=settings)

    return asyncio.run(asyncio.wait_for(go(), 60))


def test_a_violation_quotes_the_adapters_state_names_and_labels_the_translation(
    altered_reference: Serve, catalogue: Catalogue
) -> None:
    result = _run(altered_reference, catalogue)
    assert result.verdict == Verdict.FAIL, (result.reason, result.violations)
    quoted = [json.dumps(v.actual) for _, v in result.violations if v.actual is not None]
    about_stray = [text for text in quoted if "alerting" in text]
    assert about_stray, result.violations  # the frame as sent
    for text in quoted:
        if "ALERTING" in text:  # the catalogue's name appears only as what the check read, labelled
            assert READ_AS in text and AS_SENT in text, text
    # the adapter's frames in the transcript are as sent
    assert '"state":"alerting"' in result.transcript.replace(" ", "")
    assert '"state":"ALERTING"' not in result.transcript.replace(" ", "")
