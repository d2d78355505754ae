"""Safe, line-aware YAML loading.

Spec, suite and profile files are YAML, but everything in them must be plain JSON data (mappings with
string keys, sequences, strings, numbers, booleans, null). This module composes the YAML node tree with
PyYAML's *safe* loader (no tags that build Python objects), converts it to JSON data itself, and remembers
the line of every value, so that any later check can report ``file:line: message``.

Problems are collected, never raised one at a time: a duplicate key, a non-string key, a date or binary
scalar, or a YAML syntax error each become a :class:`SpecProblem`.

A file is read within the limits of :mod:`harness.spec.inputfile` (size, UTF-8, no NUL), and its node
graph is measured before it is converted (an alias is one shared node there, so a "billion laughs" costs
what its text costs): nesting deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` values once aliases are
expanded, or an alias inside its own anchor refuse the file at the line where the limit is crossed, as
does a number longer than ``MAX_NUMBER_CHARS``. A refusal is a problem with ``refused`` set.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .inputfile import (
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    MAX_VALUES,
    InputRefused,
    number_too_long,
    read_input_text,
    too_deep,
)

try:  # the C composer is much faster; both are safe loaders
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

JsonPath = tuple[str | int, ...]

_JSON_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


@dataclass(frozen=True)
class SpecProblem:
    """One problem in one input file, located by line (1-based)."""

    file: str
    line: int
    message: str
    refused: bool = False  # the file was not read as data: over a limit of harness/spec/inputfile.py

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class LoadedYaml:
    """The JSON data of one YAML document, with the line of every value in it."""

    file: str
    data: Any
    lines: dict[JsonPath, int] = field(default_factory=dict)
    problems: list[SpecProblem] = field(default_factory=list)
    key_lines: dict[JsonPath, int] = field(default_factory=dict)  # the line of a mapping's key

    def line_of(self, path: JsonPath | list[str | int] | tuple[Any, ...]) -> int:
        """The line of the key (or the value) at ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.key_lines:
                return self.key_lines[key]
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def problem(self, path: JsonPath | tuple[Any, ...], message: str) -> SpecProblem:
        return SpecProblem(self.file, self.line_of(path), message)


def error_path(error: Any) -> tuple[Any, ...]:
    """Where a JSON Schema error (``jsonschema.ValidationError``) points: a key the schema does not allow
    (``additionalProperties``, ``unevaluatedProperties``) is located at the key itself, not at its parent."""
    path = tuple(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        extra = [key for key in error.instance if repr(key) in str(error.message)]
        if extra:
            return (*path, extra[0])
    return path


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as a user reads it: relative to ``root`` (or the working folder) when inside it."""
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def load_yaml_file(path: Path, shown_as: str | None = None) -> LoadedYaml:
    name = shown_as or display_path(path)
    try:
        text = read_input_text(path)
    except InputRefused as exc:
        return LoadedYaml(name, None, {}, [SpecProblem(name, exc.line, exc.message, refused=True)])
    except OSError as exc:
        return LoadedYaml(name, None, {}, [SpecProblem(name, 1, f"cannot read: {exc.strerror}")])
    return load_yaml_text(text, name)


def load_yaml_text(text: str, name: str = "<text>") -> LoadedYaml:
    """Load exactly one YAML document as JSON data, collecting every problem."""
    result = LoadedYaml(name, None)
    try:
        nodes = list(_compose_all(text))
        if "&" in text:  # an anchor, so maybe aliases: measure the graph before expanding anything
            for node in nodes:
                check_limits(node)
    except InputRefused as exc:
        result.problems.append(SpecProblem(name, exc.line, exc.message, refused=True))
        return result
    except RecursionError:  # PyYAML's pure-Python composer recurses (libyaml stops at 1000 levels itself)
        message = f"nested too deep for the parser, over the limit of {MAX_DEPTH} for an input file"
        result.problems.append(SpecProblem(name, 1, message, refused=True))
        return result
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit (1000), met while scanning ahead
            message = f"nested more than 1,000 deep, over the limit of {MAX_DEPTH} for an input file"
            result.problems.append(SpecProblem(name, line, message, refused=True))
        else:
            result.problems.append(SpecProblem(name, line, f"YAML syntax: {exc.problem or exc.context}"))
        return result
    except yaml.YAMLError as exc:
        result.problems.append(SpecProblem(name, 1, f"YAML: {exc}"))
        return result
    if not nodes:
        result.problems.append(SpecProblem(name, 1, "the file is empty: expected one YAML document"))
        return result
    if len(nodes) > 1:
        second = nodes[1].start_mark.line + 1
        result.problems.append(SpecProblem(name, second, "expected one YAML document, found more ('---')"))
    try:
        result.data = _to_json(nodes[0], (), result)
    except InputRefused as exc:
        result.problems.append(SpecProblem(name, exc.line, exc.message, refused=True))
    return result


def check_limits(root: yaml.Node) -> None:
    """Walk the composed node graph of one document (iteratively, each node once: an alias is the node it
    names, so nothing is expanded) and raise :class:`InputRefused` at the first node that nests deeper than
    ``MAX_DEPTH`` collections, counted with aliases expanded, at a collection that would hold more than
    ``MAX_VALUES`` values once expanded, and at an alias to the collection it is in (a recursive anchor,
    which would expand forever)."""
    expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height) of the node once expanded
    path: set[int] = set()  # the collections being walked: the ancestors of what is on top of the stack
    # a node, its parent's depth and line (where an alias to the node is), and whether it is finished
    stack: list[tuple[yaml.Node, int, int, bool]] = [(root, 0, 1, False)]
    while stack:
        node, above, at, finished = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        children = _children(node)
        if finished:
            path.discard(key)
            values = 1 + sum(expanded[id(child)][0] for child in children)
            expanded[key] = (values, 1 + max((expanded[id(child)][1] for child in children), default=0))
            if values > MAX_VALUES:
                raise InputRefused(line, f"more than {MAX_VALUES:,} values with its aliases expanded (the limit)")
            continue
        if key in expanded:  # an alias to a node already walked (or a scalar seen twice)
            if above + expanded[key][1] > MAX_DEPTH:
                raise InputRefused(at, too_deep(above + expanded[key][1]) + ", counted with its aliases expanded")
            continue
        if key in path:
            raise InputRefused(at, "an alias inside the value of its own anchor: it would expand forever")
        if isinstance(node, yaml.ScalarNode):
            expanded[key] = (1, 0)
            continue
        if above + 1 > MAX_DEPTH:
            raise InputRefused(line, too_deep(above + 1))
        path.add(key)
        stack.append((node, above, at, True))
        stack.extend((child, above + 1, line, False) for child in reversed(children))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _compose_all(text: str) -> Iterator[yaml.Node]:
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node
    finally:
        loader.dispose()


_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _to_json(node: yaml.Node, path: JsonPath, out: LoadedYaml) -> Any:
    line = out.lines[path] = node.start_mark.line + 1
    # the limits of a document without anchors (with them, check_limits has measured it already)
    if len(out.lines) > MAX_VALUES:
        raise InputRefused(line, f"more than {MAX_VALUES:,} values (the limit)")
    if len(path) >= MAX_DEPTH and not isinstance(node, yaml.ScalarNode):
        raise InputRefused(line, too_deep(len(path) + 1))
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _COLLECTION_TAGS:
        out.problems.append(
            SpecProblem(out.file, node.start_mark.line + 1, f"YAML tag {node.tag} is not allowed: plain data only")
        )
        return None
    if isinstance(node, yaml.MappingNode):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                out.problems.append(
                    SpecProblem(out.file, key_node.start_mark.line + 1, "mapping keys must be strings")
                )
                continue
            key = str(key_node.value)
            if key == "<<":
                out.problems.append(
                    SpecProblem(out.file, key_node.start_mark.line + 1, "YAML merge keys ('<<') are not allowed")
                )
                continue
            if key in mapping:
                out.problems.append(
                    SpecProblem(out.file, key_node.start_mark.line + 1, f"duplicate key {_quoted(key)}")
                )
                continue
            out.key_lines[(*path, key)] = key_node.start_mark.line + 1
            mapping[key] = _to_json(value_node, (*path, key), out)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_to_json(item, (*path, index), out) for index, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag not in _JSON_SCALAR_TAGS:
        out.problems.append(
            SpecProblem(
                out.file,
                node.start_mark.line + 1,
                f"value {_quoted(str(node.value))} is not plain JSON data (YAML tag {node.tag[:100]}); quote it",
            )
        )
        return node.value
    return _construct_scalar(node)


def _quoted(text: str, limit: int = 80) -> str:
    """A value from the file as a problem shows it: escaped (repr) and cut, whatever its size."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


_SAFE = yaml.constructor.SafeConstructor()


def _construct_scalar(node: yaml.ScalarNode) -> Any:
    constructors = {
        "tag:yaml.org,2002:str": _SAFE.construct_yaml_str,
        "tag:yaml.org,2002:int": _SAFE.construct_yaml_int,
        "tag:yaml.org,2002:float": _SAFE.construct_yaml_float,
        "tag:yaml.org,2002:bool": _SAFE.construct_yaml_bool,
        "tag:yaml.org,2002:null": _SAFE.construct_yaml_null,
    }
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and len(node.value) > MAX_NUMBER_CHARS:
        raise InputRefused(node.start_mark.line + 1, number_too_long(str(node.value)))
    value = constructors[node.tag](node)
    if isinstance(value, float) and not math.isfinite(value):
        return str(node.value)  # JSON has no NaN or infinity: keep the text
    return value
