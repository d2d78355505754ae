"""The adapter's own conventions where the seeds leave a point open, and translation at the frame boundary.

The seeds lose the DTMF command's name (ERRATA R16), name no states (R9), say nothing of how a session starts
or how a channel becomes usable (R10). The catalogue fills each gap with a default (``provenance:
inferred``); a profile's ``conventions:`` section declares what the adapter does instead:

- ``commands``: the adapter's name for a catalogue command (catalogue name -> adapter name);
- ``states``: per level, the adapter's state names (adapter name -> catalogue state of ``specs/states.yaml``);
  one name may stand for several states the catalogue tells apart (``active: [DIALING, ACTIVE]``: an outbound
  call the adapter calls active from the start): which one is what the catalogue expects there, and a change
  between them that the name cannot show is no missing event (:func:`resolve_shared`);
- ``extra_events``: events of the adapter's own the catalogue does not know (shown, never judged);
- ``media``: where the data of a channel's creating event names its media and with which values
  (:mod:`harness.core.media`, ERRATA R23);
- ``activation``: ``command`` (the catalogue's activation command, ``activation:`` in
  ``specs/session/startup.yaml``, which the profile declares) or ``self`` (each channel becomes usable by
  itself during start-up, with the events that command's list brings, and the adapter has no such command);
- ``facet_events``: events of the adapter's own that carry a facet of an object (a mute, a recording), read
  as the catalogue's event that carries it (:mod:`harness.core.facet_events`);
- ``creation_targets``: per creation event, which object it is about: ``parent`` (the object it is created
  in, the catalogue's reading) or ``new`` (the object it creates, its id the target's last segment).
- ``extra_commands``, ``extra_stimuli``: the adapter's own commands and its lab's stimuli, declared in the
  catalogue's words (:mod:`harness.core.extras`): set-ups use them like the catalogue's.

Everything inside the harness speaks the catalogue's names; frames are translated where they cross the
wire: :func:`outgoing` and :func:`incoming` on the harness's side, :func:`request_from_adapter` and
:func:`to_adapter` on the reference adapter's (which plays any combination of conventions). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..jsonpaths import find, with_value
from ..spec.catalogue import Catalogue
from ..spec.inputfile import InputRefused, load_json_text
from . import extras as extra_specs
from . import facet_events as facet_naming
from . import media as media_naming
from .extras import Extras
from .media import MediaNaming
from .messages import Event, Message, Response, sent
from .objects import SEPARATOR

if TYPE_CHECKING:  # the simulation is only driven here, never imported at run time (no cycle)
    from .simulate import Platform

ACTIVATION = ("command", "self")
CREATION_TARGETS = ("parent", "new")  # a creation event about the object it is created in, or the new one
# adopt: read by the profile (suite.py)
FIELDS = (
    "commands",
    "states",
    "extra_events",
    "activation",
    "media",
    "creation_targets",
    "facet_events",
    "extra_commands",
    "extra_stimuli",
    "adopt",
)
MAX_NAME = 200  # characters of a name a conventions section may give
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Conventions:
    """What an adapter does where the seeds are silent; the default is the catalogue's own conventions."""

    commands: Mapping[str, str] = field(default_factory=dict)  # catalogue command -> the adapter's name
    states: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # level -> adapter name -> catalogue
    # level -> an adapter name that stands for several catalogue states -> those states
    shared_states: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    extra_events: frozenset[str] = frozenset()  # events of the adapter's own: shown, never judged
    activation: str = "command"  # or "self": channels become usable by themselves during start-up
    media: MediaNaming = field(default_factory=MediaNaming)  # where and how a channel's media is named
    creation_targets: Mapping[str, str] = field(default_factory=dict)  # creation event -> "parent" | "new"
    facet_events: facet_naming.FacetEvents = field(default_factory=dict)  # the adapter's event -> its facets
    extras: Extras = field(default_factory=Extras)  # the adapter's own commands and stimuli (declared)

    @property
    def is_default(self) -> bool:
        return self == Conventions()

    @property
    def catalogue_commands(self) -> dict[str, str]:
        """The adapter's command name -> the catalogue's."""
        return {adapter: name for name, adapter in self.commands.items()}

    def adapter_states(self, level: str) -> dict[str, str]:
        """At ``level``: the catalogue's state name -> the adapter's."""
        names = {
            state: adapter for adapter, states in self.shared_states.get(level, {}).items() for state in states
        }
        return {**names, **{catalogue: adapter for adapter, catalogue in self.states.get(level, {}).items()}}

    def to_json(self) -> dict[str, Any]:
        return {
            "commands": dict(self.commands),
            "states": {
                level: {
                    **self.states.get(level, {}),
                    **{name: list(states) for name, states in self.shared_states.get(level, {}).items()},
                }
                for level in dict.fromkeys([*self.states, *self.shared_states])
            },
            "extra_events": sorted(self.extra_events),
            "activation": self.activation,
            **({"media": self.media.to_json()} if not self.media.is_default else {}),
            **({"creation_targets": dict(self.creation_targets)} if self.creation_targets else {}),
            **({"facet_events": facet_naming.to_json(self.facet_events)} if self.facet_events else {}),
            **{kind: dict(value) for kind, value in self.extras.raw.items()},
        }

    def to_query(self) -> str:
        """The value of the reference adapter's ``?conventions=`` session option: URL-safe base64 of the JSON."""
        text = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


class ConventionError(ValueError):
    """A conventions section that cannot be used; ``problems`` are (path inside the section, message)."""

    def __init__(self, problems: Sequence[tuple[Path, str]]) -> None:
        super().__init__(
            "; ".join(f"conventions.{'.'.join(map(str, path))}: {m}" if path else m for path, m in problems)
        )
        self.problems = list(problems)


# -- reading a conventions section -------------------------------------------------------------------


def problems(catalogue: Catalogue, data: Any) -> list[tuple[Path, str]]:
    """Every problem of a ``conventions:`` section, each at its path inside the section (all at once)."""
    if not isinstance(data, Mapping):
        return [((), f"conventions is a mapping of {', '.join(FIELDS)}")]
    found: list[tuple[Path, str]] = [
        ((key,), f"unknown field {key!r} (known: {', '.join(FIELDS)})") for key in data if key not in FIELDS
    ]
    found += _command_problems(catalogue, data.get("commands", {}))
    found += _state_problems(catalogue, data.get("states", {}))
    found += extra_specs.problems(catalogue, data)
    found += [
        (("commands", name), f"{adapter} is the name of a declared extra command")
        for name, adapter in (data.get("commands") or {}).items()
        if isinstance(data.get("commands"), Mapping)
        and isinstance(data.get("extra_commands"), Mapping)
        and adapter in data["extra_commands"]
    ]
    extra = data.get("extra_events", [])
    if not isinstance(extra, list):
        found.append((("extra_events",), "a list of event names"))
    else:
        for index, name in enumerate(extra):
            if not _name(name):
                found.append((("extra_events", index), f"an event name (a non-empty string), not {name!r}"))
            elif name in catalogue.events:
                found.append(
                    (("extra_events", index), f"{name} is an event of the catalogue, not the adapter's own")
                )
            elif extra.index(name) != index:
                found.append((("extra_events", index), f"{name} is listed twice"))
    if "media" in data:
        found += media_naming.problems(catalogue, data["media"])
    found += _creation_problems(catalogue, data.get("creation_targets", {}))
    if "facet_events" in data:
        found += facet_naming.problems(catalogue, data["facet_events"])
    activation = data.get("activation", "command")
    if activation not in ACTIVATION:
        found.append((("activation",), f"{activation!r}: one of {', '.join(ACTIVATION)}"))
    elif activation == "self" and catalogue.startup.activation is None:
        found.append((("activation",), "the catalogue's start-up names no activation command to do by itself"))
    return found


def _name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and value.strip() == value


def _command_problems(catalogue: Catalogue, commands: Any) -> list[tuple[Path, str]]:
    if not isinstance(commands, Mapping):
        return [(("commands",), "a mapping of catalogue command -> the adapter's name for it")]
    found: list[tuple[Path, str]] = []
    taken: dict[str, str] = {}
    for name, adapter in commands.items():
        at: Path = ("commands", name)
        if name not in catalogue.commands:
            found.append((at, f"{name!r} is not a command of the catalogue"))
        elif not _name(adapter):
            found.append((at, f"the adapter's name for {name} is a non-empty string, not {adapter!r}"))
        elif adapter != name and adapter in catalogue.commands:
            found.append(
                (at, f"{adapter} is another command of the catalogue; the adapter's name must not collide")
            )
        elif adapter in taken:
            found.append((at, f"{adapter} is already the adapter's name for {taken[adapter]}"))
        else:
            taken[adapter] = name
    return found


def _creation_problems(catalogue: Catalogue, targets: Any) -> list[tuple[Path, str]]:
    creating = sorted(
        name for name, spec in catalogue.events.items() if spec.creates_level and spec.creates_id_path
    )
    if not isinstance(targets, Mapping):
        return [(("creation_targets",), f"a mapping of creation event -> {' or '.join(CREATION_TARGETS)}")]
    found: list[tuple[Path, str]] = []
    for name, about in targets.items():
        at: Path = ("creation_targets", name)
        if name not in creating:
            found.append((at, f"{name!r} is not a creation event of the catalogue ({', '.join(creating)})"))
        elif about not in CREATION_TARGETS:
            found.append(
                (at, f"{about!r}: parent (about the object it is created in) or new (about the object it creates)")
            )
    return found


def _state_problems(catalogue: Catalogue, states: Any) -> list[tuple[Path, str]]:
    if not isinstance(states, Mapping):
        return [(("states",), "a mapping of level -> {the adapter's state name: the catalogue's}")]
    found: list[tuple[Path, str]] = []
    for level, names in states.items():
        spec = catalogue.levels.get(level)
        if spec is None or not spec.states:
            known = ", ".join(sorted(name for name, s in catalogue.levels.items() if s.states))
            found.append((("states", level), f"{level!r} is not a level with states (levels: {known})"))
            continue
        if not isinstance(names, Mapping):
            found.append((("states", level), "a mapping of the adapter's state name -> the catalogue's"))
            continue
        renamed = {
            adapter: state for adapter, state in names.items() if adapter != state and isinstance(state, str)
        }
        covered = {one for state in names.values() if isinstance(state, list) for one in state}
        for adapter, state in names.items():
            at: Path = ("states", level, adapter)
            if not _name(adapter):
                found.append((at, f"the adapter's state name is a non-empty string, not {adapter!r}"))
            elif isinstance(state, list):
                found += _shared_problems(at, level, spec.states, state)
                if adapter in spec.states and adapter not in state:
                    found.append((at, f"{adapter} is a catalogue {level} state it does not stand for: ambiguous"))
            elif state not in spec.states:
                found.append(
                    (
                        at,
                        f"{state!r} is not a {level} state ({', '.join(sorted(spec.states))})",
                    )
                )
            elif adapter in spec.states and adapter != state and adapter not in {*renamed.values(), *covered}:
                found.append(
                    (
                        at,
                        f"{adapter} is a catalogue {level} state the adapter does not rename: ambiguous",
                    )
                )
    return found


def _shared_problems(at: Path, level: str, states: frozenset[str], shared: list[Any]) -> list[tuple[Path, str]]:
    """An adapter name that stands for several catalogue states: at least two, each a state of the level once."""
    if len(shared) < 2:
        return [(at, "a list of at least two catalogue states (one state is written without a list)")]
    found: list[tuple[Path, str]] = []
    for index, state in enumerate(shared):
        if state not in states:
            found.append(((*at, index), f"{state!r} is not a {level} state ({', '.join(sorted(states))})"))
        elif shared.index(state) != index:
            found.append(((*at, index), f"{state} is listed twice"))
    return found


def parse(catalogue: Catalogue, data: Any, where: extra_specs.Where | None = None) -> Conventions:
    """A checked ``conventions:`` section; :class:`ConventionError` with every problem otherwise. ``where``:
    the file and line of a path inside the section (what the declared extras cite)."""
    found = problems(catalogue, data)
    if found:
        raise ConventionError(found)
    activation = str(data.get("activation", "command"))
    commands = {name: adapter for name, adapter in data.get("commands", {}).items() if name != adapter}
    if activation == "self" and catalogue.startup.activation in commands:
        del commands[catalogue.startup.activation]  # the adapter has no such command
    return Conventions(
        commands=commands,
        states={
            level: {
                adapter: state for adapter, state in names.items() if adapter != state and isinstance(state, str)
            }
            for level, names in data.get("states", {}).items()
            if any(adapter != state and isinstance(state, str) for adapter, state in names.items())
        },
        shared_states={
            level: {adapter: tuple(state) for adapter, state in names.items() if isinstance(state, list)}
            for level, names in data.get("states", {}).items()
            if any(isinstance(state, list) for state in names.values())
        },
        extra_events=frozenset(data.get("extra_events", [])),
        activation=activation,
        media=media_naming.parse(data.get("media")),
        creation_targets={str(name): str(about) for name, about in data.get("creation_targets", {}).items()},
        facet_events=facet_naming.parse(catalogue, data.get("facet_events")),
        extras=extra_specs.build(catalogue, data, where),
    )


def from_query(catalogue: Catalogue, text: str) -> Conventions:
    """The reference adapter's ``?conventions=`` session option (see :meth:`Conventions.to_query`)."""
    try:
        data = load_json_text(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except InputRefused as exc:  # not JSON, or over the input limits (a deep nesting, a huge number)
        raise ConventionError(
            [((), f"conventions=: URL-safe base64 of JSON, line {exc.where}: {exc.message}")]
        ) from None
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ConventionError([((), f"conventions=: not URL-safe base64 of a JSON object ({exc})")]) from None
    return parse(catalogue, data)


# -- the harness's side ----------------------------------------------------------------------------


def outgoing(conventions: Conventions, request: Mapping[str, Any]) -> dict[str, Any]:
    """A request as the adapter names its command (the harness thinks in the catalogue's names)."""
    command = request.get("command")
    if isinstance(command, str) and command in conventions.commands:
        return {**request, "command": conventions.commands[command]}
    return dict(request)


def incoming(
    conventions: Conventions, catalogue: Catalogue, message: Message, level_of: Callable[[str], str | None]
) -> Message | None:
    """A frame from the adapter in the catalogue's names; None for an event of the adapter's own
    (``extra_events``), which is shown and never judged. ``level_of``: the level of a known address."""
    if isinstance(message, Response):
        names = conventions.catalogue_commands
        raw = _renamed_response(message.raw, names)
        if raw is message.raw:
            return message
        return Response(str(raw["command"]), message.target, message.result, raw, wire=sent(message))
    if isinstance(message, Event):
        carried = facet_naming.incoming(conventions.facet_events, catalogue, message.raw)
        if carried is None or (carried is message.raw and message.name in conventions.extra_events):
            return None  # the adapter's own: shown, never judged
        raw = _retargeted_creation(catalogue, carried, conventions.creation_targets, level_of, to_parent=True)
        raw = _state_renamed(catalogue, raw, level_of, lambda level: dict(conventions.states.get(level, {})))
        raw = media_naming.incoming(conventions.media, catalogue, raw, level_of)
        if raw is message.raw:
            return message
        return Event(str(raw.get("name")), str(raw.get("target")), raw.get("data"), raw, wire=sent(message))
    return message


def _new_id(catalogue: Catalogue, raw: Mapping[str, Any]) -> str | None:
    """The id of the object a creation event creates (None: not a creation event, or no usable id)."""
    spec = catalogue.events.get(str(raw.get("name")))
    if spec is None or spec.creates_level is None or spec.creates_id_path is None:
        return None
    new_id = find(raw.get("data"), spec.creates_id_path)
    return new_id if isinstance(new_id, str) and new_id and SEPARATOR not in new_id else None


def about_new_object(
    catalogue: Catalogue, raw: Mapping[str, Any], level_of: Callable[[str], str | None] | None = None
) -> bool:
    """A creation event whose target is the object it creates (its id is the target's last segment; with
    ``level_of``, the level of a known address, also: the target is no known object, its parent is)."""
    new_id = _new_id(catalogue, raw)
    target = raw.get("target")
    if new_id is None or not isinstance(target, str) or not target.endswith(SEPARATOR + new_id):
        return False
    parent = target[: -len(SEPARATOR + new_id)]
    # a parent that is a session address may not be known yet: the first event names the session (ERRATA R10)
    return level_of is None or (
        level_of(target) is None and (level_of(parent) is not None or SEPARATOR not in parent)
    )


def _retargeted_creation(
    catalogue: Catalogue,
    raw: dict[str, Any],
    declared: Mapping[str, str],
    level_of: Callable[[str], str | None],
    *,
    to_parent: bool,
) -> dict[str, Any]:
    """A creation event the profile declares in ``creation_targets``, moved to the catalogue's target (the
    object it is created in; ``to_parent``) or to the adapter's (``new``: the object it creates). ``raw``
    itself if the event is not declared, or not in the form to move."""
    name = raw.get("name")
    if not isinstance(name, str) or name not in declared:
        return raw
    target = raw.get("target")
    new_id = _new_id(catalogue, raw)
    if new_id is None or not isinstance(target, str):
        return raw
    if to_parent and about_new_object(catalogue, raw, level_of):
        return {**raw, "target": target[: -len(SEPARATOR + new_id)]}
    if not to_parent and declared[name] == "new":
        return {**raw, "target": target + SEPARATOR + new_id}
    return raw


def undeclared_creation_target(
    conventions: Conventions, catalogue: Catalogue, event: Event, level_of: Callable[[str], str | None]
) -> str | None:
    """Where the profile declares which object a creation event is about: why this one is about the other
    (a declared convention broken: a MUST); None if it is as declared, or nothing is declared for it."""
    declared = conventions.creation_targets.get(event.name)
    if declared is None or _new_id(catalogue, event.raw) is None:
        return None
    about_new = about_new_object(catalogue, event.raw, level_of)
    if about_new == (declared == "new"):
        return None
    said = "the object it creates" if declared == "new" else "the object it is created in"
    return f"the profile declares {event.name} about {said}; this one is about {event.target!r}"


def _renamed_response(raw: dict[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """``raw`` with its ``command`` and its ``original.command`` renamed by ``names`` (``raw`` itself if
    nothing is renamed)."""
    if not names:
        return raw
    out = raw
    command = raw.get("command")
    if isinstance(command, str) and command in names:
        out = {**raw, "command": names[command]}
    original = raw.get("original")
    if isinstance(original, Mapping) and isinstance(original.get("command"), str) and original["command"] in names:
        out = {**out, "original": {**original, "command": names[original["command"]]}}
    return out


def _state_renamed(
    catalogue: Catalogue,
    raw: dict[str, Any],
    level_of: Callable[[str], str | None],
    names_at: Callable[[str], Mapping[str, str]],
) -> dict[str, Any]:
    """An event whose spec sets a state (at the path its ``sets`` gives), with the state renamed by the names
    of the level of its target (``raw`` itself if nothing is renamed)."""
    spec = catalogue.events.get(str(raw.get("name")))
    path = spec.sets_state_path if spec is not None else None
    target = raw.get("target")
    if path is None or not isinstance(target, str):
        return raw
    data = raw.get("data")
    value = find(data, path)
    if not isinstance(value, str):
        return raw
    level = level_of(target)
    names = names_at(level) if level is not None else {}
    if value not in names:
        return raw
    return {**raw, "data": with_value(data, path, names[value])}


def undeclared_state(
    conventions: Conventions, catalogue: Catalogue, event: Event, level: str | None
) -> str | None:
    """Where the profile declares the adapter's state names of ``level``: why the state this event sets is
    none of them (a declared convention broken: a MUST); None if it is one, or nothing is declared there."""
    names = conventions.states.get(level or "", {})
    shared = conventions.shared_states.get(level or "", {})
    spec = catalogue.events.get(event.name)
    path = spec.sets_state_path if spec is not None else None
    level_spec = catalogue.levels.get(level or "")
    if not (names or shared) or path is None or level_spec is None:
        return None
    states = level_spec.states
    value = find(event.data, path)
    covered = {*names.values(), *(state for several in shared.values() for state in several)}
    allowed = set(names) | set(shared) | (states - covered)
    if not isinstance(value, str) or value in allowed:
        return None
    return (
        f"the profile declares the adapter's {level} states ({', '.join(sorted(allowed))}); "
        f"{value[:MAX_NAME]!r} is none of them"
    )


# -- the reference adapter's side (the reverse) -----------------------------------------------------


def unknown_to_adapter(conventions: Conventions, catalogue: Catalogue, command: Any) -> bool:
    """The adapter has no command of this name: a catalogue command it names otherwise, or the activation
    command of an adapter whose channels activate themselves."""
    if not isinstance(command, str) or command in conventions.catalogue_commands:
        return False
    if conventions.activation == "self" and command == catalogue.startup.activation:
        return True
    return command in conventions.commands


def request_from_adapter(conventions: Conventions, request: dict[str, Any]) -> dict[str, Any]:
    """A request the adapter received, in the catalogue's names."""
    command = request.get("command")
    names = conventions.catalogue_commands
    if isinstance(command, str) and command in names:
        return {**request, "command": names[command]}
    return request


def to_adapter(
    conventions: Conventions,
    catalogue: Catalogue,
    messages: Iterable[dict[str, Any]],
    level_of: Callable[[str], str | None],
) -> list[dict[str, Any]]:
    """What the simulation answers, as the adapter names it: a response's command (and its original's),
    an event's state."""
    if conventions.is_default:
        return list(messages)
    out = []
    for message in messages:
        if "result" in message:
            out.append(_renamed_response(message, conventions.commands))
        elif "messageType" in message:
            renamed = _state_renamed(catalogue, message, level_of, conventions.adapter_states)
            renamed = media_naming.outgoing(conventions.media, catalogue, renamed, level_of)
            renamed = facet_naming.outgoing(conventions.facet_events, catalogue, renamed)
            out.append(
                _retargeted_creation(catalogue, renamed, conventions.creation_targets, level_of, to_parent=False)
            )
        else:
            out.append(message)
    return out


def levels_created(catalogue: Catalogue, events: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The address and level of each object the events create (to name the level of an object that a later
    event of the same batch disposes)."""
    created = {}
    for event in events:
        spec = catalogue.events.get(str(event.get("name")))
        if spec is None or spec.creates_level is None or spec.creates_id_path is None:
            continue
        new_id = find(event.get("data"), spec.creates_id_path)
        if isinstance(new_id, str):
            created[f"{event.get('target')}{SEPARATOR}{new_id}"] = spec.creates_level
    return created


def extra_startup_events(conventions: Conventions, platform: Platform, session_id: str) -> list[dict[str, Any]]:
    """The adapter's own start-up announcements (``extra_events``), about the session (ERRATA R10: the first
    event names the session)."""
    return [platform.event(name, session_id, {}) for name in sorted(conventions.extra_events)]


def self_activation(conventions: Conventions, platform: Platform) -> list[dict[str, Any]]:
    """With activation ``self``: what the catalogue's activation command brings, done on each channel that
    command is legal on (the events are applied to ``platform``'s model); nothing otherwise."""
    name = platform.catalogue.startup.activation
    if conventions.activation != "self" or name is None:
        return []
    spec = platform.catalogue.commands[name]
    data = dict(spec.example_for(platform.platform))
    events: list[dict[str, Any]] = []
    for obj in list(platform.model.of_level(spec.level)):
        request = {"command": name, "target": obj.address, "data": data}
        if platform.decide(request).result == "success":
            events.extend(platform.handle(request).events)
    return events


def shared_name(conventions: Conventions, catalogue: Catalogue, event: Event, level: str | None) -> str | None:
    """The adapter's state name this event sets, where the profile declares it stands for several catalogue
    states of ``level``; None otherwise."""
    shared = conventions.shared_states.get(level or "")
    spec = catalogue.events.get(event.name)
    path = spec.sets_state_path if spec is not None else None
    if not shared or path is None:
        return None
    value = find(event.data, path)
    return value if isinstance(value, str) and value in shared else None


def resolve_shared(
    conventions: Conventions,
    catalogue: Catalogue,
    event: Event,
    level: str,
    current: str | None,
    expected: Sequence[str],
) -> Event:
    """An event that sets a state by a name standing for several catalogue states (``shared_states``), with the
    one it stands for here: the first the catalogue ``expected`` of its object now (the open entries of the
    list being matched); else the object's ``current`` state if the name covers it (nothing changed); else the
    first the object may change to (``transitions`` of states.yaml); else the first declared."""
    name = shared_name(conventions, catalogue, event, level)
    spec = catalogue.events.get(event.name)
    path = spec.sets_state_path if spec is not None else None
    level_spec = catalogue.levels.get(level)
    if name is None or path is None or level_spec is None:
        return event
    states = conventions.shared_states[level][name]
    allowed = level_spec.transitions.get(current, frozenset()) if level_spec.transitions and current else None
    state = next(
        (s for s in expected if s in states),
        current if current in states else next((s for s in states if allowed is None or s in allowed), states[0]),
    )
    raw = {**event.raw, "data": with_value(event.data, path, state)}
    return Event(event.name, event.target, raw["data"], raw)
