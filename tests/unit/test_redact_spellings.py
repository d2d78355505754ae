"""Issue 15, defect 4: a secret is hidden however it is spelled (JSON escapes, other common escapes), wherever
it appears in a frame (any field, keys too, a frame that is not JSON) and wherever the frame or a value from
it is shown (transcript, the step's attachment that decodes the frame again, violation texts).

A hostile adapter at the end echoes the handshake's secret header in every spelling; nothing the harness
records or shows holds it, in the text or in the text decoded."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.redact import REDACTED, Redactor, header_secrets
from harness.core.results import FlowResult, StepResult
from harness.core.runevents import FrameReceived, RunEvent
from harness.core.steps import Step
from harness.core.violations import Category, Violation
from harness.discover import redacted_comments
from harness.fuzz.machine import FlowRecord, finding_class
from harness.fuzz.reproducer import scenario_text, write_reproducer
from harness.reporting.allure_report import _pretty
from harness.runner.connection import Connection, Transcript
from harness.runner.deadline import Deadline
from harness.runner.transport import Transport

SECRET = 'tok/Ä"e-\\n€😀9'  # a slash, a non-ASCII letter, a quote, a backslash, a euro sign, an emoji
PLAIN = "s3cr3t-Token-42"
HEADER = 'Bearer tok/en"\\x-42'  # a handshake header holds ASCII only: a slash, a quote, a backslash


def _u(char: str) -> str:
    """``char`` as JSON's ``\\uXXXX`` (a surrogate pair beyond the BMP), in lower or upper case hex."""
    ascii_ = json.dumps(char)[1:-1]
    return ascii_ if ascii_.startswith("\\u") else f"\\u{ord(char):04x}"


def _spellings(value: str) -> Iterator[str]:
    """The JSON string contents that decode to ``value``: plain, ASCII, every character escaped (lower and
    upper hex), ``\\/`` for each slash, and a mix (every second character escaped)."""
    plain = json.dumps(value, ensure_ascii=False)[1:-1]
    yield plain
    yield json.dumps(value)[1:-1]
    every = "".join(_u(char) if _u(char).startswith("\\u") else f"\\u{ord(char):04x}" for char in value)
    yield every
    yield re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), every)
    yield plain.replace("/", "\\/")
    yield "".join(
        (f"\\u{ord(char):04x}" if ord(char) < 0x10000 else _u(char)) if index % 2 else json.dumps(char)[1:-1]
        for index, char in enumerate(value)
    )


def _holds(text: str, secret: str) -> bool:
    """Whether ``text`` shows ``secret``: as written, or in the frame decoded (what a reader of the attachment
    or anyone parsing the transcript's JSON sees)."""
    if secret in text:
        return True
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return any(secret in string for string in _strings(data))


def _strings(data: Any) -> Iterator[str]:
    """Every string of JSON data, keys included, decoded."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _strings(item)


@pytest.mark.parametrize("secret", [SECRET, PLAIN])
def test_every_json_spelling_of_a_secret_is_hidden_in_a_field_with_an_innocent_name(secret: str) -> None:
    redactor = Redactor([secret])
    for spelling in _spellings(secret):
        frame = '{"result": "failure", "original": {"data": {"note": "before ' + spelling + ' after"}}}'
        assert json.loads(frame)["original"]["data"]["note"] == f"before {secret} after", (
            spelling
        )  # the test's own
        shown = redactor.frame(frame)
        assert not _holds(shown, secret), (spelling, shown)
        assert json.loads(shown)["original"]["data"]["note"] == f"before {REDACTED} after"
        assert secret not in _pretty(shown)  # the step's attachment decodes and pretty-prints the frame


def test_a_secret_spelled_in_a_key_is_hidden_and_the_keys_stay_apart() -> None:
    redactor = Redactor([SECRET])
    for spelling in _spellings(SECRET):
        frame = '{"data": {"' + spelling + '": 1, "' + spelling + 'x": 2, "kept": 3}}'
        shown = redactor.frame(frame)
        assert not _holds(shown, SECRET), spelling
        assert sorted(json.loads(shown)["data"].values()) == [1, 2, 3]


def test_a_field_name_spelled_with_escapes_is_still_a_secret_field() -> None:
    redactor = Redactor(fields=["destination"])
    frame = '{"data": {"dest\\u0069nation": "+15550100", "pass\\u0077ord": "hunter2"}}'
    shown = json.loads(redactor.frame(frame))
    assert shown["data"] == {"destination": REDACTED, "password": REDACTED}


@pytest.mark.parametrize(
    "frame",
    [
        'not json: tok\\/\\u00c4\\"e-\\\\n\\u20ac\\ud83d\\ude009',  # JSON escapes in a frame that does not parse
        '{"broken": "tok\\/\\u00C4\\"e-\\\\n\\u20AC\\uD83D\\uDE009',  # a JSON frame cut short
        "b'tok/\\xc3\\x84\"e-\\\\n\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x809'",  # a bytes repr (a binary frame)
        "tok%2F%C3%84%22e-%5Cn%E2%82%AC%F0%9F%98%809",  # percent-encoded
        "tok&#x2F;&#196;&quot;e-\\n&#8364;&#x1F600;9",  # HTML character references
        'tok/Ä"e-\\n€😀9',  # as is
    ],
)
def test_a_secret_in_a_frame_that_is_not_json_is_hidden_in_every_common_escape(frame: str) -> None:
    shown = Redactor([SECRET]).frame(frame)
    assert REDACTED in shown, frame
    assert "tok" not in shown and "9" not in shown.replace(REDACTED, "")


def test_only_the_secret_is_hidden_and_text_without_it_is_left_as_written() -> None:
    redactor = Redactor([PLAIN])
    frame = '{"a": "\\u0041\\/b", "b": "%41 &amp; \\\\u0041"}'
    assert redactor.frame(frame) == frame  # nothing to hide: the frame as the adapter wrote it
    assert redactor.text("x s3cr\\u0033t-Token-42 y") == f"x {REDACTED} y"
    assert redactor.text("s3cr3t-Token-4") == "s3cr3t-Token-4"  # a near miss is no secret


def test_a_secret_in_a_violation_text_is_hidden_in_every_spelling() -> None:
    redactor = Redactor(header_secrets([("X-Api-Key", SECRET)]))
    for spelling in _spellings(SECRET):
        violation = Violation(
            Category.SHAPE_MISMATCH,
            f"title {spelling}",
            f"the adapter sent {spelling}, {SECRET!r}, {json.dumps(SECRET)} and "
            f"{json.dumps(SECRET, ensure_ascii=False)}",
            expected={spelling: SECRET},
            actual={"data": {"echo": SECRET, SECRET: [SECRET]}},
        )
        shown = redactor.violation(violation)
        assert shown.title == f"title {REDACTED}"
        assert shown.message.count(REDACTED) == 4 and "tok" not in shown.message, shown.message
        assert not any(SECRET in string for string in _strings([shown.expected, shown.actual])), spelling


def test_a_flow_result_hides_the_secret_in_its_response_violations_and_transcript() -> None:
    redactor = Redactor([SECRET]).session()
    transcript = Transcript(100, redactor)
    every = list(_spellings(SECRET))
    for spelling in every:
        transcript.add("<", '{"event": "x", "target": "S1", "data": {"v": "' + spelling + '"}}')
    result = FlowResult()
    raw: dict[str, Any] = {"result": "failure", "data": {SECRET: SECRET}}
    step = StepResult(Step("command", "c", "S1"), "S1", "send c", {"command": "c", "target": "S1"})
    step.violations = [Violation(Category.UNEXPECTED_EVENT, "echo", f"got {every[2]}", actual=raw)]
    result.steps.append(step)
    result.transcript = transcript.render()
    redactor.result(result)
    assert not _holds(result.transcript, SECRET)
    for line in result.transcript.splitlines()[1:]:
        assert not _holds(line.split(" ", 2)[-1], SECRET)
    assert not _holds(json.dumps(step.violations[0].actual, ensure_ascii=False), SECRET)
    assert SECRET not in step.violations[0].message


async def _echo_secret(socket: ServerConnection) -> None:
    """A hostile adapter: it echoes the handshake's secret header in every spelling, in events, a response and a
    frame that is not JSON, then closes."""
    secret = socket.request.headers["X-Api-Key"] if socket.request is not None else ""
    for spelling in _spellings(secret):
        await socket.send('{"event": "session.echo", "target": "S1", "data": {"' + spelling + '": "x"}}')
        await socket.send('{"result": "failure", "command": "c", "target": "S1", "data": "' + spelling + '"}')
        await socket.send("garbage " + spelling)
    await socket.close()


def test_a_hostile_adapter_echoing_the_header_secret_in_every_spelling_shows_it_nowhere() -> None:
    headers = (("X-Api-Key", HEADER),)
    events: list[RunEvent] = []

    async def scenario() -> Connection:
        async with serve(_echo_secret, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            redactor = Redactor(header_secrets(headers)).session()
            connection = await Connection.open(
                f"ws://127.0.0.1:{port}",
                Deadline(5, "connecting"),
                redactor.listener(events.append),
                max_frame_bytes=1 << 20,
                max_queue=64,
                transcript_frames=100,
                transport=Transport(headers=headers),
                redactor=redactor,
            )
            for _ in range(3 * len(list(_spellings(HEADER)))):
                await connection.receive(Deadline(5, "a frame"), lambda: "the hostile adapter's frames")
            await connection.close()
            return connection

    connection = asyncio.run(asyncio.wait_for(scenario(), 8))
    received = [event for event in events if isinstance(event, FrameReceived)]
    assert len(received) == 3 * len(list(_spellings(HEADER)))
    for event in received:
        for secret in (HEADER, HEADER.split(" ", 1)[1]):
            assert not _holds(event.text, secret), event.text
            assert secret not in _pretty(event.text)
        assert REDACTED in event.text
    assert not _holds(connection.transcript.render(), HEADER.split(" ", 1)[1])


def test_a_reproducer_hides_the_secret_its_violation_quotes_and_keeps_its_steps(tmp_path: Path) -> None:
    escaped = "".join(f"\\u{ord(char):04x}" for char in PLAIN)
    violation = Violation(Category.SHAPE_MISMATCH, "malformed response", f'the adapter sent {{"x": "{escaped}"}}')
    steps = [Step("command", "channel.dial", "$channel", data={"destination": "+15550100"})]
    record = FlowRecord(steps=steps, finding=finding_class(violation)(1, f"send {PLAIN}", violation))
    options: dict[str, Any] = {"level": "channel", "profile": "p", "platform": "generic", "adapter": {}, "by": "t"}
    path = write_reproducer(tmp_path, record, redact=Redactor([PLAIN]).text, **options)
    text = path.read_text(encoding="utf-8")
    assert PLAIN not in text and escaped not in text and REDACTED in text
    assert "+15550100" in text  # the harness's own request, kept as sent: the file must replay
    _, unredacted = scenario_text(record, **options)
    assert escaped in unredacted  # the test's own check: without the redactor the message quotes it


def test_a_discover_draft_hides_the_secret_in_its_comments_and_keeps_its_settings() -> None:
    escaped = PLAIN.replace("-", "\\u002d")
    draft = "\n".join(
        [
            f"#   evidence: {escaped}",
            f"  channel.dial  # works: success on S1.{escaped}",
            f"name: {json.dumps(PLAIN)}",  # a setting (copied from the base profile): kept as written
            "",
        ]
    )
    shown = redacted_comments(draft, Redactor([PLAIN]))
    assert shown.splitlines() == [
        f"#   evidence: {REDACTED}",
        f"  channel.dial  # works: success on S1.{REDACTED}",
        f"name: {json.dumps(PLAIN)}",
    ]


def test_a_secret_cut_short_where_a_violation_text_was_cut_is_hidden_too() -> None:
    redactor = Redactor([PLAIN])
    violation = Violation(
        Category.UNEXPECTED_EVENT,
        "title",
        f"the adapter echoed {PLAIN[:9]}… (4000 chars) and {json.dumps(PLAIN)[:8]}... and {PLAIN[:3]}…",
        actual=json.dumps({"echo": "x" * 10 + PLAIN})[:30] + "… (60 chars)",  # evidence, cut as a JSON text
    )
    shown = redactor.violation(violation)
    assert shown.message == f'the adapter echoed {REDACTED}… (4000 chars) and "{REDACTED}... and s3c…'
    assert shown.actual == '{"echo": "xxxxxxxxxx' + REDACTED + "… (60 chars)"
    assert redactor.text(f"{PLAIN[:9]}…") == f"{PLAIN[:9]}…"  # only where a text may have been cut: violations
