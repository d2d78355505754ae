"""Commands and stimuli of the adapter's own that the catalogue lacks (``conventions.extra_commands`` and
``conventions.extra_stimuli``; issue 14 B).

A vendor's adapter may have commands the catalogue does not know (agent ready or not ready, a channel
deactivated, a log-out), and its lab may produce stimuli the catalogue has no file for (a channel made
inactive by the platform). A profile declares each in the catalogue's own words::

    extra_stimuli:
      channel.inactive:
        level: channel
        from: [ACTIVE]             # the catalogue states it is legal from
        to: INACTIVE               # optional: the state its target goes to (its events must set it)
        events:                    # ordered, entries exactly as a spec file's event list (specs/meta)
          - {event: state.updated, about: target, data: {state: INACTIVE}}

(a command also takes ``data``, the request data it is sent with). Each declaration becomes a
:class:`CommandSpec` or :class:`StimulusSpec` built by the catalogue's own loader and checked by its own
cross-checks, so the planner and the simulation use it like any other; :func:`extended` is the catalogue
with them. Their provenance is ``declared``: what the profile says they bring is the vendor's statement,
so a deviation fails; a refusal they lead to is judged by its own provenance, as always.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path as FilePath
from typing import Any

from jsonschema import Draft202012Validator

from ..jsonpaths import find
from ..spec.catalogue import Catalogue, CommandSpec, EventList, Schema, SpecRef, StimulusSpec, describe_error
from ..spec.crosscheck import _check_list
from ..spec.loader import _Builder, load_meta_schema
from ..spec.yamlfile import LoadedYaml

KINDS = ("extra_commands", "extra_stimuli")
FIELDS = {
    "extra_commands": ("level", "from", "to", "data", "events", "summary"),
    "extra_stimuli": ("level", "from", "to", "events", "summary"),
}
DECLARED = "declared"  # the provenance of what a profile declares: the vendor's statement, binding
MAX_NAME = 200
Path = tuple[str | int, ...]
Where = Callable[[Path], tuple[str, int]]  # a path inside the conventions section -> (file, line)


@dataclass(frozen=True)
class Extras:
    """The declared extra commands and stimuli, built as catalogue specs; ``raw``: the declarations as given
    (for the reference adapter's ``?conventions=``)."""

    commands: Mapping[str, CommandSpec] = field(default_factory=dict)
    stimuli: Mapping[str, StimulusSpec] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.commands or self.stimuli)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Extras) and self.raw == other.raw

    def __hash__(self) -> int:
        return hash(repr(sorted(self.raw.items())))

    def summaries(self) -> list[tuple[str, str, str]]:
        """(kind, name, what it does) of each extra, for the certificate."""
        commands = [("command", name, spec.summary) for name, spec in sorted(self.commands.items())]
        return commands + [("stimulus", name, spec.summary) for name, spec in sorted(self.stimuli.items())]


@functools.lru_cache(maxsize=4)
def _entry_validator(root: str) -> Draft202012Validator:
    meta = load_meta_schema(FilePath(root))
    return Draft202012Validator({"$ref": "#/$defs/entry", "$defs": meta["$defs"]})


def problems(catalogue: Catalogue, data: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """Every problem of the ``extra_commands`` and ``extra_stimuli`` of a conventions section."""
    found: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for kind in KINDS:
        section = data.get(kind, {})
        if not isinstance(section, Mapping):
            found.append(((kind,), "a mapping of the adapter's name -> its declaration"))
            continue
        for name, declaration in section.items():
            at: Path = (kind, name)
            if not (isinstance(name, str) and 0 < len(name) <= MAX_NAME and name.strip() == name):
                found.append((at, f"a name is a non-empty string, not {name!r}"))
            elif name in catalogue.commands or name in catalogue.stimuli:
                found.append((at, f"{name} is a command or stimulus of the catalogue, not the adapter's own"))
            elif name in seen:
                found.append((at, f"{name} is declared both as an extra command and as an extra stimulus"))
            seen.add(str(name))
            found += _declaration_problems(catalogue, kind, at, declaration)
    return found


def _declaration_problems(catalogue: Catalogue, kind: str, at: Path, node: Any) -> list[tuple[Path, str]]:
    if not isinstance(node, Mapping):
        return [(at, f"a mapping of {', '.join(FIELDS[kind])}")]
    found: list[tuple[Path, str]] = [
        ((*at, key), f"unknown field {key!r} (known: {', '.join(FIELDS[kind])})")
        for key in node
        if key not in FIELDS[kind]
    ]
    level = node.get("level")
    spec = catalogue.levels.get(level) if isinstance(level, str) else None
    if spec is None or not spec.states:
        known = ", ".join(sorted(name for name, s in catalogue.levels.items() if s.states))
        return [*found, ((*at, "level"), f"{level!r}: a level with states ({known})")]
    states = ", ".join(spec.states_in_order)
    origin = node.get("from")
    if not isinstance(origin, list) or not origin:
        found.append(((*at, "from"), f"a non-empty list of the {level} states it is legal from"))
    else:
        for index, state in enumerate(origin):
            if not isinstance(state, str) or state not in spec.states:
                found.append(((*at, "from", index), f"{state!r} is not a {level} state ({states})"))
    if "to" in node and (not isinstance(node["to"], str) or node["to"] not in spec.states):
        found.append(((*at, "to"), f"{node['to']!r} is not a {level} state ({states})"))
    if "data" in node and not isinstance(node["data"], Mapping):
        found.append(((*at, "data"), "the request data: a mapping"))
    if "summary" in node and not isinstance(node["summary"], str):
        found.append(((*at, "summary"), "a line of text"))
    events = node.get("events")
    if not isinstance(events, list):
        return [*found, ((*at, "events"), "a list of event entries, as in a spec file's event list")]
    validator = _entry_validator(str(catalogue.root))
    shape = False
    for index, entry in enumerate(events):
        for error in validator.iter_errors(entry):
            shape = True
            found.append(((*at, "events", index, *error.absolute_path), describe_error(error)))
    if shape:
        return found
    event_list = _event_list(catalogue, events, lambda path: ("", int(path[-1]) + 1 if path else 0))
    owner = f"{'command' if kind == 'extra_commands' else 'stimulus'} {at[1]}"
    for problem in _check_list(catalogue, owner, str(level), event_list):
        found.append(((*at, "events", max(problem.line - 1, 0)), problem.message))
    if "to" in node and not _sets(catalogue, event_list, str(node["to"])):
        found.append(((*at, "to"), f"no event of the list sets the target's state to {node['to']}"))
    return found


def _sets(catalogue: Catalogue, event_list: EventList, state: str) -> bool:
    """The last entry about the target that sets a state sets ``state``."""
    last = None
    for entry in event_list.entries:
        spec = catalogue.events.get(entry.event)  # an event the catalogue lacks is a problem of its own
        path = spec.sets_state_path if spec is not None else None
        if entry.about == "target" and path is not None:
            last = find(dict(entry.data), path)
    return last == state


def _event_list(catalogue: Catalogue, events: list[Any], where: Callable[[Path], tuple[str, int]]) -> EventList:
    """The declared events as the loader builds a spec file's list (each entry's line from ``where``)."""
    file = where(())[0]
    lines: dict[tuple[str | int, ...], int] = {("sequence", i): where((i,))[1] for i in range(len(events))}
    lines[()] = where(())[1]
    doc = LoadedYaml(file, {}, lines)
    node = {"provenance": DECLARED, "complete": True, "interleave": "forbid", "sequence": events}
    built = _Builder(catalogue.root).event_list(doc, (), node)
    return replace(built, reason=None)


def build(catalogue: Catalogue, data: Mapping[str, Any], where: Where | None = None) -> Extras:
    """The checked declarations (see :func:`problems`) as catalogue specs; ``where``: the file and line of a
    path inside the conventions section (a profile's), for what a violation cites."""
    place: Where = where or (lambda path: ("profile conventions." + ".".join(map(str, path)), 0))
    commands: dict[str, CommandSpec] = {}
    stimuli: dict[str, StimulusSpec] = {}
    for kind in KINDS:
        for name, node in data.get(kind, {}).items():
            at: Path = (kind, name)
            file, line = place(at)
            ref = SpecRef(file, line)
            events = _event_list(
                catalogue,
                node["events"],
                lambda path, at=at: place((*at, "events", *path)),  # type: ignore[misc]
            )
            builder = _Builder(catalogue.root)
            when = (builder.condition(LoadedYaml(file, {}), (), {"state": list(node["from"])}),)
            summary = str(node.get("summary", f"the adapter's own {name}, declared by its profile"))
            if kind == "extra_commands":
                commands[name] = CommandSpec(
                    name=name,
                    level=node["level"],
                    platforms=frozenset(catalogue.platforms),
                    media=frozenset(),
                    provenance=DECLARED,
                    summary=summary,
                    when=when,
                    request=Schema.of({}),  # the profile gives the data it is sent with, not its schema
                    example=dict(node.get("data", {})),
                    results=frozenset({"success", "failure"}),
                    events=events,
                    ref=ref,
                )
            else:
                stimuli[name] = StimulusSpec(
                    name=name,
                    level=node["level"],
                    media=frozenset(),
                    provenance=DECLARED,
                    summary=summary,
                    when=when,
                    events=events,
                    ref=ref,
                )
    raw = {kind: dict(data[kind]) for kind in KINDS if data.get(kind)}
    return Extras(commands, stimuli, raw)


def extended(catalogue: Catalogue, extras: Extras) -> Catalogue:
    """The catalogue with the declared extra commands and stimuli (the catalogue itself without any)."""
    if not extras:
        return catalogue
    key = (id(catalogue), extras)
    cached = _EXTENDED.get(key)
    if cached is not None and cached[0] is catalogue:
        return cached[1]
    bigger = replace(
        catalogue,
        commands={**catalogue.commands, **extras.commands},
        stimuli={**catalogue.stimuli, **extras.stimuli},
    )
    if len(_EXTENDED) >= 16:
        _EXTENDED.clear()
    _EXTENDED[key] = (catalogue, bigger)
    return bigger


_EXTENDED: dict[tuple[int, Extras], tuple[Catalogue, Catalogue]] = {}
