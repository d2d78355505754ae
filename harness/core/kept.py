"""What the object model keeps of the data that created an object: a bounded copy (issue 15).

An adapter chooses what a creation event carries (500 KB of data per object is valid JSON); the model keeps
every live object, so what it keeps of each is bounded here (README "Hostile adapters"). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INFO_VALUES = 64  # values (fields, items) kept of the data that created an object
INFO_CHARS = 2048  # characters of strings (keys too) kept of it, together; the rest is replaced by a marker
INFO_DEPTH = 8  # nesting kept of it


def kept(data: dict[str, Any]) -> dict[str, Any]:
    """What the model keeps of the data that created an object: a bounded copy (``INFO_VALUES`` values,
    ``INFO_CHARS`` characters of strings, ``INFO_DEPTH`` levels); whatever is left out is replaced by a marker
    that says what it was, so the copy never passes for the adapter's data. The model reads what it needs (the
    id, the media, the state) from the event itself, before this copy is made."""
    budget = _Budget(INFO_VALUES, INFO_CHARS)
    copy = budget.copy(data, 0)
    return copy if isinstance(copy, dict) else {}


def kept_value(value: Any) -> Any:
    """A bounded copy of any value of the adapter's (a facet's), as :func:`kept` bounds an object's data."""
    return _Budget(INFO_VALUES, INFO_CHARS).copy(value, 0)


@dataclass
class _Budget:
    values: int
    chars: int

    def copy(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            if len(value) > self.chars:
                return f"«not kept: {len(value)} characters»"
            self.chars -= len(value)
            return value
        if isinstance(value, dict | list):
            if depth >= INFO_DEPTH:
                return f"«not kept: nested deeper than {INFO_DEPTH}»"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            kept_items: list[tuple[Any, Any]] = []
            for key, item in items:
                if self.values <= 0 or (isinstance(key, str) and len(key) > self.chars):
                    left = len(value) - len(kept_items)
                    kept_items.append(
                        ("…", f"«not kept: {left} more {'fields' if isinstance(value, dict) else 'items'}»")
                    )
                    break
                self.values -= 1
                if isinstance(key, str):
                    self.chars -= len(key)
                kept_items.append((key, self.copy(item, depth + 1)))
            if isinstance(value, dict):
                return dict(kept_items)
            return [item for _, item in kept_items]
        return value  # a number, a boolean, null: small (json's integers are bounded in digits)
