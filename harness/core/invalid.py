"""Invalid request data derived from a command's request schema (for "fails for invalid data" tests).

The first mutation that the schema rejects wins: drop a required member, else give a typed member a value
of another JSON type. A schema that accepts any object yields nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..spec.catalogue import Schema

_WRONG_VALUE = {
    "string": 12345,
    "number": "not a number",
    "integer": "not an integer",
    "boolean": "yes",
    "object": "not an object",
    "array": "not an array",
}


def invalid_data(schema: Schema, example: Mapping[str, Any]) -> tuple[dict[str, Any], str] | None:
    """Data the schema rejects, made from the example, and what was done to it."""
    document = schema.document
    candidates: list[tuple[dict[str, Any], str]] = []
    for key in document.get("required", []):
        data = {k: v for k, v in example.items() if k != key}
        candidates.append((data, f"without the required {key!r}"))
    for key, member in sorted(document.get("properties", {}).items()):
        kind = member.get("type") if isinstance(member, Mapping) else None
        if isinstance(kind, str) and kind in _WRONG_VALUE:
            wrong = _WRONG_VALUE[kind]
            candidates.append(({**example, key: wrong}, f"with {key!r} = {wrong!r} (not a {kind})"))
    for data, how in candidates:
        if schema.errors(data):
            return data, how
    return None
