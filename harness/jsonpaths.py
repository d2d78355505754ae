"""JSONPath look-ups used by spec files (``$.interaction.id``), parsed once and cached."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext import parse as _parse  # type: ignore[attr-defined]

MISSING: Any = object()


@lru_cache(maxsize=512)
def _compiled(path: str) -> Any:
    return _parse(path)


SIMPLE = re.compile(r"\$(?:\.[A-Za-z_][A-Za-z0-9_]*)+")  # $.a.b.c: a walk through objects


@lru_cache(maxsize=512)
def _keys(path: str) -> tuple[str, ...] | None:
    return tuple(path.split(".")[1:]) if SIMPLE.fullmatch(path) else None


def find(document: Any, path: str) -> Any:
    """The first value at ``path`` in ``document``, or :data:`MISSING`. ``$`` is the whole document."""
    if path == "$":
        return document
    keys = _keys(path)
    if keys is not None:  # the common case, without the JSONPath engine (the simulator's hot path)
        for key in keys:
            if not isinstance(document, Mapping) or key not in document:
                return MISSING
            document = document[key]
        return document
    try:
        matches = _compiled(path).find(document)
    except (TypeError, AttributeError, KeyError, IndexError):
        return MISSING
    return matches[0].value if matches else MISSING


def with_value(document: Any, path: str, value: Any) -> Any:
    """A deep copy of ``document`` with ``value`` at ``path`` (created if missing)."""
    result = copy.deepcopy(document)
    return _compiled(path).update_or_create(result, value)


def without(document: Any, path: str) -> Any:
    """A deep copy of ``document`` without the value at ``path`` (unchanged if there is none)."""
    result = copy.deepcopy(document)
    return _compiled(path).filter(lambda _: True, result)
