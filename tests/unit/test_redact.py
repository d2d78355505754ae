"""Redaction: secret values and named fields never reach what is recorded or reported."""

from __future__ import annotations

import json

import pytest

from harness.core.redact import (
    LEARNED_VALUES,
    MAX_LEARNED_CHARS,
    REDACTED,
    Redactor,
    data_secrets,
    header_secrets,
    looks_secret,
    url_secrets,
)
from harness.core.results import FlowResult, StepResult
from harness.core.runevents import FrameSent, Note, StepFinished, StepStarted
from harness.core.steps import Step
from harness.core.violations import Category, Verdict, Violation
from harness.runner.connection import Transcript


def test_secret_looking_names_are_recognised_whatever_their_spelling() -> None:
    for name in ("password", "Password", "api_key", "X-Api-Key", "apiKey", "access_token", "Authorization"):
        assert looks_secret(name), name
    for name in ("agent", "destination", "station", "target", "command"):
        assert not looks_secret(name), name


def test_a_named_field_is_redacted_at_any_depth_and_its_value_learned_for_free_text() -> None:
    redactor = Redactor(fields=["destination"])
    frame = json.dumps({"command": "channel.dial", "target": "S1.c1", "data": {"destination": "+15550100"}})
    shown = redactor.frame(frame, learn=True)  # a request the harness sends
    assert json.loads(shown)["data"]["destination"] == REDACTED
    assert "+15550100" not in shown
    echo = {"result": "failure", "original": {"data": {"to": ["+15550100"]}}}  # under another name
    assert "+15550100" not in redactor.frame(json.dumps(echo))
    assert redactor.text("could not reach +15550100 now") == f"could not reach {REDACTED} now"


def test_default_secret_fields_are_redacted_without_configuration() -> None:
    shown = Redactor().frame(
        '{"command": "agent.login", "target": "", "data": {"agent": "4711", "password": "pw-1"}}'
    )
    assert "pw-1" not in shown
    assert json.loads(shown)["data"] == {"agent": "4711", "password": REDACTED}


def test_configured_secrets_are_replaced_in_any_text_also_json_escaped() -> None:
    redactor = Redactor(['s3cr"et'])
    assert redactor.text('token s3cr"et here') == f"token {REDACTED} here"
    assert 's3cr\\"et' not in redactor.frame(json.dumps({"x": 's3cr"et'}))


def test_a_frame_that_names_no_secret_is_recorded_as_it_came() -> None:
    text = '{"messageType": "event",  "name": "session.initialized"}'  # spacing kept: not re-encoded
    assert Redactor(fields=["destination"]).frame(text) == text
    assert Redactor().frame("not json {password") == "not json {password"


def test_what_a_session_learns_is_its_own_and_bounded() -> None:
    base = Redactor(fields=["destination"])
    first = base.session()
    first.learn("+15550100")
    assert first.text("+15550100") == REDACTED
    assert base.session().text("+15550100") == "+15550100"
    for number in range(LEARNED_VALUES + 50):
        first.learn(f"value-{number}")
    assert len(first.learned) <= LEARNED_VALUES * 3  # each value in at most three spellings
    assert first.text(f"value-{LEARNED_VALUES + 49}") == REDACTED


def test_url_credentials_are_found_and_redacted() -> None:
    url = "wss://agent:pa55word@adapter.lab:8443/mb?tenant=lab&access_token=t0k3n"
    assert set(url_secrets(url)) == {"pa55word", "t0k3n"}
    shown = Redactor(url_secrets(url)).url(url)
    assert "pa55word" not in shown and "t0k3n" not in shown
    assert shown.startswith("wss://agent:") and "tenant=lab" in shown


def test_header_values_and_bearer_credentials_are_secrets() -> None:
    assert header_secrets([("Authorization", "Bearer abc123")]) == ["Bearer abc123", "abc123"]
    assert header_secrets([("X-Lab-Key", "k-9")]) == ["k-9"]


def test_start_up_data_gives_its_secret_looking_values() -> None:
    send = [{"command": "agent.login", "data": {"agent": "4711", "password": "lab-pw", "auth": {"api_key": 42}}}]
    assert data_secrets(send) == ["lab-pw", "42"]


def test_run_events_and_results_leave_redacted() -> None:
    redactor = Redactor(["hunter22"], fields=["destination"]).session()
    redactor.learn("+15550100")
    step = Step("command", "channel.dial", "S1.c1", title="dial hunter22")
    violation = Violation(
        Category.WRONG_RESULT,
        "wrong result to +15550100",
        "the adapter said hunter22",
        expected={"destination": "+15550100"},
        actual="hunter22",
    )
    events = [
        redactor.event(StepStarted(step, "dial +15550100")),
        redactor.event(StepFinished(step, Verdict.FAIL, (violation,))),
        redactor.event(Note("stimulus via GET http://lab/?key=hunter22")),
        redactor.event(FrameSent("{}", "channel.dial on hunter22")),
    ]
    assert "hunter22" not in repr(events) and "+15550100" not in repr(events)
    result = FlowResult(reason="hunter22 refused", transcript="> hunter22", not_run=["dial +15550100"])
    result.add("dial +15550100", [violation])
    result.steps.append(StepResult(step, "S1.c1", title="dial hunter22"))
    redactor.result(result)
    assert "hunter22" not in repr(result.violations) + result.reason + result.transcript + repr(result.not_run)
    assert result.steps[0].title == f"dial {REDACTED}"


def test_the_transcript_records_frames_redacted() -> None:
    transcript = Transcript(10, Redactor(fields=["destination"]))
    shown = transcript.add(">", json.dumps({"data": {"destination": "+15550100"}}))
    assert "+15550100" not in shown and "+15550100" not in transcript.render()


def test_what_the_adapter_sends_is_redacted_but_never_learned() -> None:
    """A hostile adapter cannot fill the memory with values, nor push the harness's own values out."""
    redactor = Redactor(fields=["destination"])
    redactor.frame(json.dumps({"data": {"destination": "+15551234567"}}), learn=True)
    for index in range(2 * LEARNED_VALUES):
        received = json.dumps({"messageType": "objectEvent", "data": {"token": f"t-{index}-" + "x" * 1000}})
        assert "t-" not in redactor.frame(received)
    assert not any(value.startswith("t-") for value in redactor.learned)
    assert redactor.text("dialled +15551234567") == f"dialled {REDACTED}"


def test_a_long_value_is_redacted_in_its_field_but_not_learned() -> None:
    redactor = Redactor(fields=["destination"])
    long = "9" * (MAX_LEARNED_CHARS + 1)
    assert long not in redactor.frame(json.dumps({"data": {"destination": long}}), learn=True)
    assert not redactor.learned


@pytest.mark.parametrize("name", ["api_key", "X-Api-Key", "apiKey", "client-secret", "Auth_Token"])
def test_secret_names_are_found_however_they_are_spelled(name: str) -> None:
    assert "s3cr3t" not in Redactor().frame(json.dumps({"data": {name: "s3cr3t"}}))


def test_url_credentials_are_known_encoded_and_decoded() -> None:
    url = "wss://adapter.lab/mb?access_token=ab%2Fcd%2Bef%3D%3D&tenant=7"
    redactor = Redactor(url_secrets(url))
    assert "ab%2Fcd" not in redactor.text(f"connecting to {url}") and "ab/cd+ef==" not in redactor.text(
        "ab/cd+ef=="
    )
    assert "tenant=7" in redactor.text(url)
