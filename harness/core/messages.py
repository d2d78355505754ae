"""Classify any frame the peer sends into a request, a response, an event, or a malformed frame.

ERRATA R1 (no kind field in the seeds): a frame with ``messageType`` is an event, one with ``result`` is a
response, one with neither is a request. Classification never raises: whatever arrives becomes a
:class:`Malformed` with the reason when it cannot be read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    command: str
    target: str
    data: Any
    raw: dict[str, Any]


@dataclass(frozen=True)
class Response:
    command: str
    target: str
    result: Any
    raw: dict[str, Any]
    # the frame as the adapter sent it, where the profile's conventions translated it (``raw`` is what the
    # checks read, in the catalogue's names): violations quote this one (see :func:`sent`)
    wire: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Event:
    name: str
    target: str
    data: Any
    raw: dict[str, Any]
    wire: dict[str, Any] | None = field(default=None, compare=False)  # as for Response


READ_AS = "read as (the profile's conventions)"  # the label of a translated frame in a violation
AS_SENT = "as sent"


def sent(message: Response | Event) -> dict[str, Any]:
    """The frame as the adapter sent it (before the profile's conventions translated it)."""
    return message.wire if message.wire is not None else message.raw


def sent_data(message: Event) -> Any:
    """The event's data as the adapter sent it."""
    return message.wire.get("data") if message.wire is not None else message.data


def quoted(message: Response | Event, data: bool = False) -> Any:
    """What a violation of a check that read the translated frame (or its ``data``) quotes: the adapter's own
    where nothing was translated; else the adapter's, and what the check read, each labelled."""
    if message.wire is None:
        return message.data if data and isinstance(message, Event) else message.raw
    if data and isinstance(message, Event):
        return {AS_SENT: sent_data(message), READ_AS: message.data}
    return {AS_SENT: message.wire, READ_AS: message.raw}


@dataclass(frozen=True)
class Malformed:
    reason: str
    text: str


Message = Request | Response | Event | Malformed

PREVIEW_CHARS = 200
SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 64  # deeper JSON is malformed for this protocol; keeps every later walk shallow


def nesting_depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True if ``value`` nests containers deeper than ``limit`` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def preview(text: str | bytes) -> str:
    """A short, printable head of a frame for messages (frames can be megabytes)."""
    shown = text if isinstance(text, str) else repr(text[:PREVIEW_CHARS])
    return shown if len(shown) <= PREVIEW_CHARS else shown[:PREVIEW_CHARS] + f"… ({len(shown)} chars)"


RESPONSE_WITHOUT_ADDRESS = "a response (it has result) without a string command and target"


def classify(frame: str | bytes) -> Message:
    if isinstance(frame, bytes | bytearray | memoryview):
        return Malformed("a binary frame; the protocol sends JSON text frames", preview(bytes(frame)))
    try:
        value = json.loads(frame)
    except (ValueError, RecursionError) as exc:
        return Malformed(f"not JSON: {exc}"[:300], preview(frame))
    return classify_value(value, frame)


def classify_value(value: Any, text: str = "") -> Message:
    if not isinstance(value, dict):
        return Malformed(f"a JSON {type(value).__name__}, not an object", preview(text))
    if nesting_depth_exceeds(value):
        return Malformed(f"JSON nested deeper than {MAX_DEPTH} levels", preview(text))
    if "messageType" in value:
        name, target = value.get("name"), value.get("target")
        if not isinstance(name, str) or not isinstance(target, str):
            return Malformed("an event (it has messageType) without a string name and target", preview(text))
        return Event(name, target, value.get("data"), value)
    if "result" in value:
        command, target = value.get("command"), value.get("target")
        if not isinstance(command, str) or not isinstance(target, str):
            return Malformed(RESPONSE_WITHOUT_ADDRESS, preview(text))
        return Response(command, target, value["result"], value)
    command, target = value.get("command"), value.get("target")
    if not isinstance(command, str):
        return Malformed("a request (no messageType, no result) without a string command", preview(text))
    return Request(command, target if isinstance(target, str) else "", value.get("data"), value)


def encode(message: dict[str, Any]) -> str:
    """JSON text for a frame: UTF-8 as it is, except that text holding a lone surrogate (which a request
    may carry as a ``\\ud800`` escape, and an echo gives back) is written with ASCII escapes, since a lone
    surrogate cannot be sent as UTF-8."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    if SURROGATE.search(text):
        return json.dumps(message, separators=(",", ":"), ensure_ascii=True)
    return text
