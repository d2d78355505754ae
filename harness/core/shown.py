"""How a value the adapter (or a file) controls is shown: bounded, and escaped for where it goes.

An adapter under certification is untrusted (issue 15): whatever it sends may be quoted in a violation, a
console line, JUnit, an Allure step or attachment, the certificate. Every such quote goes through this module:

- :func:`shown` bounds a quoted value and escapes every character a terminal or a writer would act on or
  choke on: control characters (``\\x1b``, ``\\r``, ``\\n`` ...), lone surrogates (``\\ud800``, valid JSON
  but no Unicode text), bidirectional overrides. The escapes are printed as text, so a reader sees them;
- :func:`printable` does the same to a whole multi-line text (a failure report), keeping its line breaks;
- :func:`markdown` and :func:`code` make a text safe inside a Markdown table cell that may be rendered as
  HTML (the certificate): no tag, no link or image, no cell or table boundary of the adapter's making.
"""

from __future__ import annotations

import json
import re
from typing import Any

SHOWN_CHARS = 200  # a value quoted inline
TEXT_CHARS = 4000  # a whole text quoted from the adapter (a reason, a message)

# C0 and C1 controls, DEL, lone surrogates, and the Unicode format characters that reorder or hide text
# (bidi overrides and isolates, zero-width joiners, the BOM, line and paragraph separators).
_FORMAT = "\x7f-\x9f\ud800-\udfff\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
UNSAFE = re.compile(f"[\x00-\x1f{_FORMAT}]")
UNSAFE_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_FORMAT}]")  # keeps tab and line feed
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return repr(bytes(value[: SHOWN_CHARS * 4]))
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text)} chars)"


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value as one line of text: JSON unless a string, cut to ``limit`` characters (before escaping, so the
    result is at most a few times ``limit``), every control character, lone surrogate and bidi override
    written as its escape (``\\x1b``, ``\\ud800``)."""
    text = _text(value)
    head = text[: limit + 1]  # escape only what is shown: a megabyte value costs no more than its head
    escaped = UNSAFE.sub(_escape, head[:limit])
    return escaped if len(text) <= limit else escaped + f"… ({len(text)} chars)"


def printable(text: str, limit: int | None = None) -> str:
    """A whole text for a terminal or a file: line breaks and tabs kept, every other control character, lone
    surrogate and bidi override escaped; cut to ``limit`` characters if given."""
    if limit is not None:
        text = cut(text, limit)
    return UNSAFE_BUT_LINES.sub(_escape, text)


CUT_SLACK = 40  # room for the "… (N chars)" a cut adds: a text that bounded() gave is kept as it is


def bounded(text: str, limit: int) -> str:
    """Like :func:`printable`, cut to ``limit`` characters *after* escaping, so that bounding its own result
    again changes nothing (a violation copied with ``dataclasses.replace`` is not cut twice)."""
    if len(text) <= limit + CUT_SLACK and not UNSAFE_BUT_LINES.search(text):
        return text
    escaped = printable(text[: limit + CUT_SLACK + 1])
    if len(text) <= limit + CUT_SLACK and len(escaped) <= limit + CUT_SLACK:
        return escaped
    return escaped[:limit] + f"… ({len(text)} chars)"


# Markdown's punctuation that can start or end inline markup inside a table cell (emphasis, code span, link,
# image, strikethrough, the cell's end), backslash-escaped; ``<``, ``>``, ``&`` and ``"`` become HTML entities
# so that no renderer sees a tag or an entity of the adapter's. (``#``, ``-``, ``+``, ``.`` start a block only
# at the start of a line, which a cell never is.)
_MARKDOWN = re.compile(r"([\\`*_\[\]!|~])")


def markdown(value: Any, limit: int = TEXT_CHARS) -> str:
    """Text for a Markdown table cell, rendered as Markdown or as HTML: bounded, escaped like :func:`shown`,
    HTML special characters as entities, Markdown punctuation backslash-escaped (no link, image, emphasis,
    code span or cell boundary)."""
    text = shown(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return _MARKDOWN.sub(r"\\\1", text)


def code(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A code span for a Markdown table (an address, a profile name): inside one, nothing is markup, and HTML
    shows as text; only a backtick (which would end it) and ``|`` (which ends the cell in a table) are
    special, so a backtick is shown as ``'`` and ``|`` escaped."""
    text = shown(value, limit).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"
