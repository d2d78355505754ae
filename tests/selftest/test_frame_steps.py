"""Frame steps (the fuzzer's malformed and invalid requests, as scenario files write them): a correct adapter
passes them, and each check fails against an adapter that breaks it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import pytest

from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.core.violations import Verdict
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

Reply = Callable[[str | bytes, Platform, list[dict[str, Any]]], list[dict[str, Any]]]
Serve = Callable[[Reply], AbstractAsyncContextManager[str]]  # the altered_reference fixture (conftest)

CALL = (
    Step("command", "channel.activate", "$channel"),
    Step("stimulus", "call.inbound", "$channel", bind={"call": "interaction", "caller": "conversation"}),
    Step("command", "interaction.accept", "$call"),
)


def frame(text: str) -> Step:
    return Step("frame", "test", "", data={"text": text})


def correct(frame: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return answer


def _run(
    serving: Serve, catalogue: Catalogue, steps: tuple[Step, ...], reply: Reply = correct, adopt: bool = True
) -> Any:
    """Run the steps against the reference adapter, whose answer to each frame ``reply`` may change; ``adopt``:
    with the reference profile's adopted conventions (all), else none."""

    async def main() -> Any:
        settings = replace(load_profile(default_profile(), catalogue).settings(), step_timeout=1.0)
        if not adopt:
            settings = replace(settings, adopted=frozenset())
        async with serving(reply) as url:
            return await run_flow(Flow(steps), url=url, catalogue=catalogue, settings=settings)

    return asyncio.run(asyncio.wait_for(main(), 30))


def _is(frame_text: str | bytes, test: Callable[[Any], bool]) -> bool:
    try:
        return bool(test(json.loads(frame_text)))
    except (ValueError, TypeError, AttributeError):
        return False


def test_a_correct_adapter_passes_malformed_invalid_and_valid_frames(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    steps = (
        *CALL,
        frame("{not json"),
        Step("frame", "binary", "", data={"hex": "00ff10"}),
        frame('{"messageType": "objectEvent", "command": "conversation.hold", "target": "${caller}", "data": {}}'),
        frame('{"command": "no.such.command", "target": "${call}", "data": {}}'),
        frame('{"command": "conversation.hold", "target": "${caller}.conv999", "data": {}}'),
        frame('{"command": "conversation.hold", "target": 7, "data": {}}'),
        frame('{"command": "conversation.hold", "target": "${caller}", "data": {}}'),  # valid: the call is held
        Step("command", "conversation.retrieve", "$caller"),
    )
    result = _run(altered_reference, catalogue, steps)
    assert result.verdict == Verdict.PASS, result.violations
    assert len(result.steps) == len(steps)
    assert "> {not json" in result.transcript and "[binary] 00ff10" in result.transcript
    assert '"command":"conversation.retrieve"' in result.transcript  # the hold really happened


def test_an_answer_other_than_a_failure_to_an_unreadable_frame_fails(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def success(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if frame_text == "{not json":
            return [{**answer[0], "result": "success", "data": {}}]
        return answer

    result = _run(altered_reference, catalogue, (*CALL, frame("{not json")), success)
    assert result.verdict == Verdict.FAIL
    assert [v.title for _, v in result.violations] == ["bad answer to an unreadable frame"]


def test_an_answer_echoing_a_frames_number_command_is_a_convention_unless_adopted(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    """A frame whose command is a number is no readable request; a failure answer that echoes the number as its
    command is what the seeds print no example of (ERRATA R37): a convention, a failure once payloads are
    adopted."""
    bad = '{"command": 12345, "target": "${caller}", "data": {}}'

    def echoing(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if _is(frame_text, lambda value: value["command"] == 12345):
            return [{**answer[0], "command": 12345}]
        return answer

    adopting = _run(altered_reference, catalogue, (*CALL, frame(bad)), echoing)
    assert adopting.verdict == Verdict.FAIL
    assert [v.title for _, v in adopting.violations] == ["malformed frame"]
    own = _run(altered_reference, catalogue, (*CALL, frame(bad)), echoing, adopt=False)
    assert own.verdict == Verdict.WARN, own.violations
    assert [(v.category.value, v.title) for _, v in own.violations] == [("convention", "malformed frame")]


def test_an_event_after_a_refused_frame_fails(catalogue: Catalogue, altered_reference: Serve) -> None:
    def mutes(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if _is(frame_text, lambda value: value["command"] == "no.such.command"):
            target = json.loads(frame_text)["target"]
            return [*answer, {"messageType": "objectEvent", "target": target, "name": "state.updated", "data": {}}]
        return answer

    steps = (*CALL, frame('{"command": "no.such.command", "target": "${call}", "data": {}}'))
    result = _run(altered_reference, catalogue, steps, mutes)
    assert result.verdict == Verdict.FAIL
    assert "event after a refused request" in [v.title for _, v in result.violations]


def test_an_adapter_that_stops_answering_after_a_bad_frame_fails_the_probe(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    broken = {"yes": False}

    def dies(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if frame_text == "{not json":
            broken["yes"] = True
        return [] if broken["yes"] else answer

    result = _run(altered_reference, catalogue, (*CALL, frame("{not json")), dies)
    assert result.verdict == Verdict.FAIL
    [(_, violation)] = result.violations
    assert violation.title == "no response" and violation.message.startswith("after the frame:")


def test_a_refused_readable_frame_answered_with_success_fails(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def accepts(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if _is(frame_text, lambda value: value["target"].endswith(".conv999")):
            request = json.loads(frame_text)
            return [{"command": request["command"], "target": request["target"], "result": "success", "data": {}}]
        return answer

    steps = (*CALL, frame('{"command": "conversation.hold", "target": "${caller}.conv999", "data": {}}'))
    result = _run(altered_reference, catalogue, steps, accepts)
    assert result.verdict == Verdict.FAIL
    assert "wrong result" in [v.title for _, v in result.violations]


# -- binary frames (ERRATA R37: only that the adapter stays usable is a MUST) -------------------------------------

HOLD_AS_BYTES = json.dumps({"command": "conversation.hold", "target": "CALLER", "data": {}}).encode()


def _binary_hold(
    catalogue: Catalogue, altered_reference: Serve, after_binary: Callable[..., list[dict[str, Any]]]
) -> Any:
    """The call, then a binary frame holding a valid hold of it; ``after_binary(carry, refused, binary)`` answers
    that frame (``binary``) and every later one: ``carry()`` carries the frame out, ``refused`` is the reference
    adapter's failure answer."""
    from harness.reference.server import ReferenceAdapter

    adapter = ReferenceAdapter(catalogue, test_control=True)
    seen = {"binary": False}

    def reply(frame_text: str | bytes, platform: Platform, answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if isinstance(frame_text, bytes):
            seen["binary"] = True
            [caller] = [o.address for o in platform.model.objects.values() if o.level == "conversation"]
            text = frame_text.decode().replace("CALLER", caller)
            return after_binary(lambda: adapter.answer(platform, text), answer, True)
        return after_binary(lambda: answer, answer, False) if seen["binary"] else answer

    steps = (*CALL, Step("frame", "binary", "", data={"hex": HOLD_AS_BYTES.hex()}))
    return _run(altered_reference, catalogue, steps, reply)


def test_a_binary_frame_carried_out_as_the_request_it_holds_is_no_failure(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def carries_out(carry: Any, refused: Any, binary: bool) -> Any:
        return carry()

    result = _binary_hold(catalogue, altered_reference, carries_out)
    assert result.verdict == Verdict.WARN, result.violations  # the success answer: the adapter's own way
    assert {v.category.value for _, v in result.violations} == {"convention"}
    assert all("binary frame" in (v.inferred or "") for _, v in result.violations)
    assert '"result":"success"' in result.transcript.split("[binary]", 1)[1]


def test_a_binary_frame_left_unanswered_or_refused_is_no_finding(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def unanswered(carry: Any, refused: Any, binary: bool) -> Any:
        return [] if binary else refused

    def refuses(carry: Any, refused: Any, binary: bool) -> Any:
        return refused

    for behaviour in (unanswered, refuses):
        result = _binary_hold(catalogue, altered_reference, behaviour)
        assert result.verdict == Verdict.PASS, (behaviour.__name__, result.violations)


def test_an_adapter_that_stops_answering_after_a_binary_frame_fails(
    catalogue: Catalogue, altered_reference: Serve
) -> None:
    def deaf(carry: Any, refused: Any, binary: bool) -> Any:
        return []

    result = _binary_hold(catalogue, altered_reference, deaf)
    assert result.verdict == Verdict.FAIL
    assert "timeout" in {v.category.value for _, v in result.violations}
