"""The JSONPath look-up's fast walk through objects agrees with the JSONPath engine, and remembered schema
errors are the errors of the instance asked about."""

from __future__ import annotations

from typing import Any

import pytest

from harness.jsonpaths import MISSING, _compiled, find
from harness.spec.catalogue import Schema

DOCUMENTS: list[Any] = [
    {"a": {"b": {"c": 2}}},
    {"a": {"b": None}},
    {"a": [{"b": 1}]},
    {"a": "text"},
    {"a": {"b": 0, "c": False}},
    [{"a": 1}],
    5,
    None,
    {},
]
PATHS = ["$.a", "$.a.b", "$.a.b.c", "$.a.c", "$.b"]


def engine(document: Any, path: str) -> Any:
    matches = _compiled(path).find(document)
    return matches[0].value if matches else MISSING


@pytest.mark.parametrize("document", DOCUMENTS, ids=repr)
@pytest.mark.parametrize("path", PATHS)
def test_the_fast_walk_agrees_with_the_engine(document: Any, path: str) -> None:
    assert find(document, path) == engine(document, path) or find(document, path) is engine(document, path)


def test_other_paths_still_go_to_the_engine() -> None:
    assert find({"a": [{"b": 1}, {"b": 2}]}, "$.a[1].b") == 2
    assert find({"a": {"b": 1}}, "$") == {"a": {"b": 1}}


def test_remembered_errors_belong_to_the_instance_asked_about() -> None:
    schema = Schema.of({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    assert schema.errors({"n": 1}) == []
    assert schema.errors({"n": "1"}) != []
    assert schema.errors({"n": True}) != []  # true is not 1, though Python says True == 1
    assert schema.errors({"n": 1.5}) != []
    first = schema.errors({})
    first.append("changed by the caller")
    assert schema.errors({}) == ["'n' is a required property"]  # a copy each time


def test_instances_that_are_not_json_are_checked_every_time() -> None:
    schema = Schema.of({"type": "object"})
    assert schema.errors(MISSING) != []
    assert schema.errors({"x": float("nan")}) == []
    array = Schema.of({"type": "array"})
    assert array.errors((1, 2)) != []  # a tuple is no JSON array
    assert array.errors([1, 2]) == []  # though its JSON text is the same
    keyed = Schema.of({"type": "object", "required": ["1"]})
    assert keyed.errors({1: "x"}) != []  # an int key is not the string "1"
    assert keyed.errors({"1": "x"}) == []


def test_the_fast_walk_reads_any_mapping() -> None:
    from types import MappingProxyType

    assert find(MappingProxyType({"a": {"b": 1}}), "$.a.b") == 1
