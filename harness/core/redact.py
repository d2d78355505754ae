"""Redaction: what is recorded or reported never shows a secret.

A :class:`Redactor` holds secret *values* (header values, passwords and tokens of the profile, credentials in
the adapter URL) and secret *field names* (the default secret-looking names, and the profile's ``redact:``
list, for example ``destination``). Every text that leaves the engine goes through one: frames in the
transcript and in run events, step titles, notes, violations, the adapter URL in reports.

- In a JSON frame, the value of a named field is replaced by ``"«redacted»"`` at any depth. In what the
  harness sends, the value is also learned, so that free text quoting it later (a violation, an adapter
  echoing it in ``original``) is replaced too. What the adapter sends is redacted but never learned: a
  hostile adapter cannot fill the memory or push the harness's own values out. What a session learns is
  bounded (``LEARNED_VALUES`` values of at most ``MAX_LEARNED_CHARS``); :meth:`Redactor.session` gives each
  session its own.
- Free text has every known value replaced however it is spelled: as written, and in the text read with its
  escapes decoded (JSON's ``\\/``, ``\\u00e4``, surrogate pairs, ``\\"``...; and, mixed with those, Python's
  ``\\xHH``, percent-encoding and HTML character references). A secret is found in the decoded text and the
  span of the written text it came from is replaced, so a secret escaped one character in three is hidden.
- A JSON frame in which a secret or a named field appears (in any spelling) is parsed, every string (keys
  too) has the secrets replaced in its decoded value, and the frame is encoded again: what a reader decodes
  later (the step's attachment pretty-prints it) cannot bring a secret back.

Pure: no I/O. Only what is recorded is redacted; the harness still sends the real values.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from itertools import accumulate
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from .results import FlowResult
from .runevents import FrameReceived, FrameSent, Listener, Note, RunEvent, StepFinished, StepStarted
from .steps import Step
from .violations import Violation

REDACTED = "«redacted»"
# A field whose name (lower case, without "-" and "_") contains one of these holds a secret.
SECRET_NAME_PARTS = ("password", "passwd", "token", "secret", "apikey", "authorization", "credential", "cookie")
MIN_VALUE_CHARS = 3  # shorter values are redacted in their fields but not searched for in free text
MAX_LEARNED_CHARS = 256  # longer values are redacted in their fields but not learned (memory stays bounded)
LEARNED_VALUES = 1000  # per session: the oldest learned value is forgotten first
CUT_MARKS = ("…", "...")  # how the harness marks a text it cut short
MIN_CUT_PREFIX = 4  # a secret's prefix this long before a cut mark is hidden (a shorter one says too little)
MAX_DEPTH = 64  # deeper JSON is not walked (the harness' own frames are shallow; a hostile one is cut)

# The escapes a secret may be spelled with, as three readings of a text: JSON's (and Python's and JavaScript's)
# backslash escapes; percent-encoding and HTML character references; both mixed.
_BACKSLASH = (
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a surrogate pair: one character
    r"|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\u\{[0-9a-fA-F]{1,6}\}"
    r"|(?:\\x[0-9a-fA-F]{2})+"  # a run: UTF-8 bytes (a bytes repr) or Latin-1 characters
    r"|\\[\\/\"'bfnrt]"
)
_OTHER = r"(?:%[0-9a-fA-F]{2})+|&#[xX][0-9a-fA-F]{1,6};|&#[0-9]{1,7};|&(?:amp|lt|gt|quot|apos);"
READINGS = tuple(re.compile(f"({pattern})") for pattern in (_BACKSLASH, _OTHER, f"{_BACKSLASH}|{_OTHER}"))
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def _bytes_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _char(code: int, written: str) -> str:
    return chr(code) if code <= 0x10FFFF else written


def decode_escape(written: str) -> str:
    """The text one escape (a match of :data:`READINGS`) stands for; never empty, never raises."""
    if written.startswith("\\u{"):
        return _char(int(written[3:-1], 16), written)
    if written.startswith(("\\u", "\\U")):
        if len(written) == 12:  # a surrogate pair
            high, low = int(written[2:6], 16), int(written[8:12], 16)
            return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        return _char(int(written[2:], 16), written)
    if written.startswith("\\x"):
        return _bytes_text(bytes.fromhex(written.replace("\\x", "")))
    if written.startswith("\\"):
        return _SIMPLE.get(written[1], written[1])
    if written.startswith("%"):
        return _bytes_text(bytes.fromhex(written.replace("%", "")))
    if written.startswith("&#"):
        number = written[2:-1]
        return _char(int(number[1:], 16) if number[:1] in "xX" else int(number), written)
    return _ENTITIES[written]


def read(text: str, reading: re.Pattern[str]) -> tuple[list[str], list[str]] | None:
    """``text`` split by ``reading`` (a pattern with one group) into the written pieces (literal text and
    escapes alternating: escapes at odd places) and the same pieces decoded; None if it holds no escape. The
    split is done by ``re``; each distinct escape is decoded once, so a frame of 170,000 escapes costs
    little more than one of plain text."""
    written = reading.split(text)
    if len(written) == 1:
        return None
    known: dict[str, str] = {}
    decoded = list(written)
    for index in range(1, len(written), 2):
        escape = written[index]
        piece = known.get(escape)
        if piece is None:
            piece = known[escape] = decode_escape(escape)
        decoded[index] = piece
    return written, decoded


def decoded_spans(text: str, reading: re.Pattern[str], values: Iterable[str]) -> list[tuple[int, int]] | None:
    """Where in ``text`` each value occurs once the text is read with ``reading``'s escapes decoded: spans of
    the written text (an escape is hidden whole where the value covers any of it); None if the text holds
    none of the reading's escapes."""
    pieces = read(text, reading)
    if pieces is None:
        return None
    written, decoded = pieces
    whole = "".join(decoded)
    found_at: list[tuple[int, int]] = []
    for value in values:
        found = whole.find(value)
        while found != -1:
            found_at.append((found, found + len(value)))
            found = whole.find(value, found + len(value))
    if not found_at:
        return []
    starts = list(accumulate(map(len, decoded), initial=0))  # where each piece starts, decoded...
    sources = list(accumulate(map(len, written), initial=0))  # ...and written

    def source(position: int, end: bool) -> int:
        index = bisect_right(starts, position) - 1  # the last piece that starts there: never an empty one
        if index % 2 == 0:  # literal text
            return sources[index] + position - starts[index] + (1 if end else 0)
        return sources[index + 1] if end else sources[index]

    return [(source(start, False), source(stop - 1, True)) for start, stop in found_at]


def normal_name(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def looks_secret(name: str) -> bool:
    """Whether a field or header name says it holds a secret (password, token, api_key, Authorization...)."""
    normal = normal_name(name)
    return any(part in normal for part in SECRET_NAME_PARTS)


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), fields: Iterable[str] = ()) -> None:
        self.fields = frozenset(normal_name(name) for name in fields)
        self.secrets: dict[str, None] = {}  # the configured values, kept in order
        self.learned: dict[str, None] = {}  # values met in named fields, oldest first (bounded)
        self._pattern: list[str] | None = None
        self._prefixes: re.Pattern[str] | None = None
        for value in secrets:
            self._add(self.secrets, value)

    def session(self) -> Redactor:
        """A redactor with the same configuration and nothing learned yet: one per session."""
        copy = Redactor(fields=())
        copy.fields = self.fields
        copy.secrets = dict(self.secrets)
        return copy

    def merged(self, other: Redactor) -> Redactor:
        """Both redactors' secrets and field names (the run-wide redactor of several profiles)."""
        merged = Redactor(list(self.secrets) + list(other.secrets))
        merged.fields = self.fields | other.fields
        return merged

    def secret_field(self, name: str) -> bool:
        return looks_secret(name) or normal_name(name) in self.fields

    def _add(self, into: dict[str, None], value: str) -> None:
        for spelling in {value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}:
            if len(spelling) >= MIN_VALUE_CHARS and spelling not in into:
                into[spelling] = None
                self._pattern = self._prefixes = None

    def learn(self, value: Any) -> None:
        """Remember a secret value met in a named field (strings and numbers; containers by their leaves)."""
        if isinstance(value, Mapping):
            for item in value.values():
                self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) > MAX_LEARNED_CHARS or text in self.secrets or text in self.learned:
                return
            self._add(self.learned, text)
            while len(self.learned) > LEARNED_VALUES:
                del self.learned[next(iter(self.learned))]

    def text(self, text: str) -> str:
        """Free text with every known secret value replaced, as written and in each escaped spelling."""
        return _hidden(text, self._spans(text))

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """The spans of ``text`` that spell a known secret value."""
        if self._pattern is None:
            self._pattern = sorted({*self.secrets, *self.learned}, key=len, reverse=True)
        if not self._pattern:
            return []
        spans = []
        for value in self._pattern:
            at = text.find(value)
            while at != -1:
                spans.append((at, at + len(value)))
                at = text.find(value, at + len(value))
        backslash, other, mixed = READINGS
        found = [decoded_spans(text, reading, self._pattern) for reading in (backslash, other)]
        if None not in found:  # both kinds of escape: they may be mixed
            found.append(decoded_spans(text, mixed, self._pattern))
        return spans + [span for spans_of in found if spans_of for span in spans_of]

    def value(self, value: Any, depth: int = 0, learn: bool = False) -> Any:
        """JSON data with named fields redacted and every string's secrets replaced; ``learn``: the data is the
        harness's own (a request it sends), so the named fields' values are learned."""
        if depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, Mapping):
            found: dict[str, Any] = {}
            for key, item in value.items():
                shown = self.text(key) if isinstance(key, str) else key  # a key may spell a secret too
                while shown != key and shown in found:
                    shown = f"{shown}'"  # two keys that differ only in what is hidden stay apart
                if isinstance(key, str) and self.secret_field(key) and item is not None:
                    if learn:
                        self.learn(item)
                    found[shown] = REDACTED
                else:
                    found[shown] = self.value(item, depth + 1, learn)
            return found
        if isinstance(value, list):
            return [self.value(item, depth + 1, learn) for item in value]
        if isinstance(value, tuple):
            return tuple(self.value(item, depth + 1, learn) for item in value)
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        shown = str(value)  # anything else is shown by its text: redact that if it holds a secret
        return value if self.text(shown) == shown else self.text(shown)

    def frame(self, text: str, learn: bool = False) -> str:
        """A frame as recorded: a JSON frame with its named fields redacted, then any known value replaced;
        ``learn``: a frame the harness sends (its named fields' values are learned)."""
        spans = self._spans(text)
        if text.lstrip()[:1] in ("{", "[") and (spans or self._may_name_field(text)):
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                data = None
            if isinstance(data, dict | list):
                redacted = self.value(data, learn=learn)
                if redacted != data:
                    return self.text(_encoded(redacted))
        return _hidden(text, spans)

    def _may_name_field(self, text: str) -> bool:
        """A quick look before parsing: could the text hold a field this redactor names (in any spelling)?"""
        for reading in (text, _unescaped(text)):
            squeezed = reading.lower().replace("-", "").replace("_", "")
            if any(part in squeezed for part in (*SECRET_NAME_PARTS, *self.fields)):
                return True
        return False

    def url(self, url: str) -> str:
        """The URL with its userinfo's password and the values of secret-looking query parameters redacted."""
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
        pairs = []
        for pair in parts.query.split("&") if parts.query else []:
            key, equals, _ = pair.partition("=")
            pairs.append(f"{key}{equals}{REDACTED}" if equals and self.secret_field(unquote(key)) else pair)
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, "&".join(pairs), parts.fragment)))

    def cut(self, text: str) -> str:
        """A text the harness may have cut short (a violation quoting the adapter, evidence): as :meth:`text`,
        and a secret cut short right before the mark of the cut (``…``, ``...``) is hidden too, down to its first
        ``MIN_CUT_PREFIX`` characters."""
        text = self.text(text)
        if not any(mark in text for mark in CUT_MARKS):
            return text
        if self._prefixes is None:
            self._prefixes = _prefix_pattern(self._pattern or [])
        return _hidden(text, [match.span() for match in self._prefixes.finditer(text)])

    def violation(self, violation: Violation) -> Violation:
        return replace(
            violation,
            title=self.cut(violation.title),
            message=self.cut(violation.message),
            expected=self.cut(violation.expected)
            if isinstance(violation.expected, str)
            else self.value(violation.expected),
            actual=self.cut(violation.actual)
            if isinstance(violation.actual, str)
            else self.value(violation.actual),
        )

    def step(self, step: Step) -> Step:
        return replace(
            step,
            target=self.text(step.target),
            data=self.value(step.data),
            title=self.text(step.title) if step.title is not None else None,
        )

    def event(self, event: RunEvent) -> RunEvent:
        """A run event as reporters get it. Frames are redacted where they are recorded (the connection), so
        here only their summary is."""
        if isinstance(event, StepStarted):
            return StepStarted(self.step(event.step), self.text(event.title))
        if isinstance(event, StepFinished):
            return StepFinished(
                self.step(event.step), event.verdict, tuple(self.violation(v) for v in event.violations)
            )
        if isinstance(event, Note):
            return Note(self.text(event.text))
        if isinstance(event, FrameSent | FrameReceived):
            return replace(event, summary=self.text(event.summary))
        return event

    def listener(self, listener: Listener) -> Listener:
        def redacting(event: RunEvent) -> None:
            listener(self.event(event))

        return redacting

    def result(self, result: FlowResult) -> None:
        """Redact a flow's result in place, once the flow has ended (with every value its session learned: the
        requests first, so that everything after them hides what they sent)."""
        for step in result.steps:
            step.request = self.value(step.request, learn=True)
        for step in result.steps:
            step.step = self.step(step.step)
            step.title = self.text(step.title)
            step.violations = [self.violation(v) for v in step.violations]
            if step.response is not None:
                step.response = replace(step.response, raw=self.value(step.response.raw))
        result.violations = [(self.text(title), self.violation(v)) for title, v in result.violations]
        result.reason = self.cut(result.reason)
        result.not_run = [self.text(text) for text in result.not_run]
        result.transcript = self.text(result.transcript)


def _prefix_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """What matches a proper prefix (at least ``MIN_CUT_PREFIX`` characters, the longest first) of any value,
    right before the mark of a cut."""
    alternatives = []
    for value in values:
        if len(value) > MIN_CUT_PREFIX:
            tail = value[MIN_CUT_PREFIX:-1]
            nested = "".join(f"(?:{re.escape(char)}" for char in tail) + ")?" * len(tail)
            alternatives.append(re.escape(value[:MIN_CUT_PREFIX]) + nested)
    if not alternatives:
        return re.compile(r"(?!)")  # matches nothing
    marks = "|".join(re.escape(mark) for mark in CUT_MARKS)
    return re.compile(f"(?:{'|'.join(alternatives)})(?={marks})")


def _hidden(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by :data:`REDACTED` (overlapping spans as one)."""
    if not spans:
        return text
    pieces = []
    at = 0
    for start, end in sorted(spans):
        if end <= at:
            continue  # inside a span already hidden
        if start >= at:
            pieces.append(text[at:start])
            pieces.append(REDACTED)
        at = end  # an overlapping span widens the hidden one
    pieces.append(text[at:])
    return "".join(pieces)


def _unescaped(text: str) -> str:
    """The text with its backslash escapes decoded (JSON's spelling of a field name)."""
    if "\\" not in text:
        return text
    pieces = read(text, READINGS[0])
    return text if pieces is None else "".join(pieces[1])


def _encoded(data: Any) -> str:
    """A redacted frame encoded again: readable, unless that would write a character that is not printable
    (a lone surrogate, a control character JSON leaves raw); then in ASCII."""
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (ValueError, RecursionError):
        return REDACTED
    return text if text.isprintable() else json.dumps(data)


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: its userinfo's password (or a lone token), and the values of its query
    parameters whose names look secret, each as written (percent-encoded) and decoded."""
    parts = urlsplit(url)
    found = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        secret = userinfo.split(":", 1)[1] if ":" in userinfo else userinfo
        found += [secret, unquote(secret)]
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        if looks_secret(unquote_plus(key)):
            found += [value, unquote_plus(value)]
    return [value for value in found if value]


def header_secrets(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Every header value given for the connection or a stimulus is treated as a secret, and so is the
    credential after an ``Authorization`` scheme ("Bearer abc": also "abc")."""
    found = []
    for _, value in headers:
        found.append(value)
        scheme, _, credential = value.partition(" ")
        if credential.strip() and scheme.isalpha():
            found.append(credential.strip())
    return found


def data_secrets(data: Any, is_secret: Callable[[str], bool] = looks_secret) -> list[str]:
    """The values of fields with secret-looking names in JSON data (a profile's start-up requests)."""
    found: list[str] = []
    if isinstance(data, Mapping):
        for key, value in data.items():
            if is_secret(str(key)) and isinstance(value, str | int | float) and not isinstance(value, bool):
                found.append(value if isinstance(value, str) else json.dumps(value))
            else:
                found += data_secrets(value, is_secret)
    elif isinstance(data, list):
        for item in data:
            found += data_secrets(item, is_secret)
    return found
