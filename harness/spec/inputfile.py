"""Input files are read with limits: the one place that bounds what a file given to mbconform may cost.

A profile, a scenario, a spec file, a fuzz reproducer, a baseline or a catalogue's JSON schema is passed
around between labs, so it is untrusted input like the adapter itself (issue 15). Before any of it is
parsed, a file is refused as a ``file:line`` problem when it is

- bigger than :data:`MAX_FILE_BYTES` (checked before it is read, and again while reading, for a file that
  grows or a device with no size), or a pipe (which could keep the reader waiting forever),
- not UTF-8 text, or holds a NUL character;

and while it is parsed, when

- its collections nest deeper than :data:`MAX_DEPTH` (Python's parsers recurse: a deep file would end in
  a RecursionError, or a C stack overflow),
- it holds more than :data:`MAX_VALUES` values once YAML aliases are expanded (a "billion laughs" of a
  few hundred bytes would otherwise expand to gigabytes),
- a number is written with more than :data:`MAX_NUMBER_CHARS` characters (Python refuses to convert an
  integer of more than 4,300 digits, and converting one is quadratic below that).

YAML files are checked by :mod:`harness.spec.yamlfile`; JSON files by :func:`load_json_file` here.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_NUMBER_CHARS = 100


class InputRefused(Exception):
    """The file cannot be read as data within the limits; ``line`` is where the limit was crossed."""

    def __init__(self, line: int, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.column = column

    @property
    def where(self) -> str:
        """``line`` or ``line:column``: what follows the file's name and a colon."""
        return f"{self.line}:{self.column}" if self.column is not None else str(self.line)


def _line_at(data: bytes | str, index: int) -> int:
    newline: Any = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, index) + 1


def read_input_text(path: Path) -> str:
    """The text of ``path``; :class:`InputRefused` when it is too big, not UTF-8 or holds a NUL, and
    :class:`OSError` when it cannot be read at all."""
    status = path.stat()
    if stat.S_ISFIFO(status.st_mode) or stat.S_ISSOCK(status.st_mode):  # opening or reading it could wait forever
        raise InputRefused(1, "a pipe or a socket, not a file: reading it could wait forever")
    size = status.st_size
    if size > MAX_FILE_BYTES:
        raise InputRefused(1, f"the file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} for input files")
    with path.open("rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputRefused(1, f"the file holds more than {MAX_FILE_BYTES:,} bytes, the limit for an input file")
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputRefused(_line_at(data, nul), f"a NUL character (byte {nul}): not a text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRefused(
            _line_at(data, exc.start), f"not UTF-8 text: byte {exc.start} ({data[exc.start]:#04x}) {exc.reason}"
        ) from None


def too_deep(depth: int) -> str:
    return f"nested {depth} deep, over the limit of {MAX_DEPTH} for an input file"


def number_too_long(text: str) -> str:
    return (
        f"a number written with {len(text):,} characters ({text[:20]}...), "
        f"over the limit of {MAX_NUMBER_CHARS} for an input file"
    )


# The JSON tokens that matter for the limits: a string (whole), a bracket, a number, a literal, a newline.
_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[{]|[\]}]|-?[0-9][0-9.eE+-]*|true|false|null|\n')


def check_json_text(text: str) -> None:
    """Refuse JSON text that nests deeper than :data:`MAX_DEPTH`, holds more than :data:`MAX_VALUES`
    values (keys included), or a number longer than :data:`MAX_NUMBER_CHARS`; iterative, never raises
    anything but :class:`InputRefused` (a syntax error is left to the JSON parser)."""
    depth = values = 0
    line = 1
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == "\n":
            line += 1
        elif first in "[{":
            depth += 1
            values += 1
            if depth > MAX_DEPTH:
                raise InputRefused(line, too_deep(depth))
        elif first in "]}":
            depth -= 1
        else:
            values += 1
            if first not in '"tfn' and len(token) > MAX_NUMBER_CHARS:
                raise InputRefused(line, number_too_long(token))
        if values > MAX_VALUES:
            raise InputRefused(line, f"more than {MAX_VALUES:,} values, the limit for an input file")


def load_json_text(text: str) -> Any:
    """JSON data from text within the limits: :class:`InputRefused` for a limit or a syntax error."""
    check_json_text(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputRefused(exc.lineno, f"not JSON: {exc.msg}", exc.colno) from None
    except (RecursionError, ValueError) as exc:  # not reached within the limits; a problem all the same
        raise InputRefused(1, f"not JSON within the limits: {exc}") from None


def load_json_file(path: Path) -> Any:
    """JSON data from a file within the limits: :class:`InputRefused` or :class:`OSError`."""
    return load_json_text(read_input_text(path))
