"""Events of the adapter's own that carry a facet of an object: a convention (issue 14).

The seeds print no payload for a mute or a recording (ERRATA R9, R26): the catalogue reads a facet change
(``muted``, ``recording``...) as the event whose effect ``sets`` that facet (``state.updated {muted: true}``).
An adapter may announce it with an event of its own instead (``conversation.infochanged {"muted": true}``,
``interaction.infochanged {"recording": true}``). A profile's ``conventions.facet_events`` declares, per event
of the adapter's own, which facet it carries, where in its data, and, where the adapter's values differ from
the catalogue's (``values`` of the facet in ``specs/states.yaml``), which value stands for which:

    facet_events:
      conversation.infochanged: {muted: $.muted}
      interaction.infochanged:
        recording: {path: $.recording, values: {RECORDING: true, STOPPED: false}}

``values`` maps the catalogue's value, as ``specs/states.yaml`` writes it (``RECORDING``; a boolean facet's
``true`` and ``false`` as those words), to the adapter's.

Such an event is read as the catalogue's event about the same object (translated at the frame boundary like
the other conventions); one that carries none of its declared facets is an event of the adapter's own, shown
and never judged. The reference adapter plays it in reverse. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..jsonpaths import MISSING, SIMPLE, find, with_value
from ..spec.catalogue import Catalogue

MAX_NAME = 200  # characters of an event name a profile may give
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Carried:
    """One facet an event of the adapter's carries: where, and the catalogue's value -> the adapter's."""

    path: str
    values: Mapping[Any, Any] = field(default_factory=dict)  # catalogue value -> adapter value (none: same)

    def to_catalogue(self, value: Any) -> Any:
        """The catalogue's value for the adapter's ``value`` (MISSING if the declaration has none for it)."""
        if not self.values:
            return value
        return next((ours for ours, theirs in self.values.items() if _same(theirs, value)), MISSING)

    def to_adapter(self, value: Any) -> Any:
        return next((theirs for ours, theirs in self.values.items() if _same(ours, value)), value)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (``true`` is not ``1``)."""
    return type(a) is type(b) and a == b


def spelled(value: Any) -> str:
    """A catalogue value as a profile's mapping key writes it (``RECORDING``, ``true``)."""
    return value if isinstance(value, str) else json.dumps(value)


FacetEvents = Mapping[str, Mapping[str, Carried]]  # the adapter's event -> facet -> how it carries it


def carriers(catalogue: Catalogue) -> dict[str, str]:
    """Facet -> the catalogue event that carries a change of it (the one whose effect sets it), for the facets
    an event of the adapter's may carry instead: those with values (not a child's id, such as the focus,
    whose event the seeds print) carried by an event whose payload is the catalogue's reading."""
    with_values = {name for level in catalogue.levels.values() for name, f in level.facets.items() if f.values}
    found: dict[str, str] = {}
    for name, spec in sorted(catalogue.events.items()):
        for facet in spec.sets:
            if facet in with_values and spec.provenance == "inferred":
                found.setdefault(facet, name)
    return found


def _facet_values(catalogue: Catalogue) -> dict[str, tuple[Any, ...] | None]:
    values: dict[str, tuple[Any, ...] | None] = {}
    for level in catalogue.levels.values():
        for name, facet in level.facets.items():
            values[name] = facet.values
    return values


def problems(catalogue: Catalogue, data: Any) -> list[tuple[Path, str]]:
    """Every problem of a ``facet_events`` section, at its path inside ``conventions``."""
    here: Path = ("facet_events",)
    if not isinstance(data, Mapping):
        return [(here, "a mapping of the adapter's event -> {facet: path or {path, values}}")]
    carried_by = carriers(catalogue)
    values = _facet_values(catalogue)
    found: list[tuple[Path, str]] = []
    for event, facets in data.items():
        at: Path = (*here, str(event))
        if not isinstance(event, str) or not event or len(event) > MAX_NAME or event.strip() != event:
            found.append((at, f"an event name (a non-empty string), not {event!r}"))
            continue
        if event in catalogue.events:
            found.append((at, f"{event} is an event of the catalogue, not the adapter's own"))
            continue
        if not isinstance(facets, Mapping) or not facets:
            found.append((at, "a mapping of facet -> where the event's data carries it ($.muted)"))
            continue
        for facet, how in facets.items():
            where: Path = (*at, str(facet))
            if facet not in carried_by:
                found.append(
                    (where, f"{facet!r} is not a facet of the catalogue ({', '.join(sorted(carried_by))})")
                )
                continue
            path = how.get("path") if isinstance(how, Mapping) else how
            if not isinstance(path, str) or not SIMPLE.fullmatch(path):
                found.append((where, f"a path of object keys such as $.{facet}, not {path!r}"))
            if isinstance(how, Mapping):
                unknown = sorted(str(key) for key in how if key not in ("path", "values"))
                if unknown:
                    found.append((where, f"unknown field(s) {', '.join(unknown)} (known: path, values)"))
                own = how.get("values", {})
                allowed = values.get(str(facet))
                if not isinstance(own, Mapping):
                    found.append(((*where, "values"), "a mapping of the catalogue's value -> the adapter's"))
                elif allowed is not None:
                    names = [spelled(known) for known in allowed]
                    for value in own:
                        if value not in names:
                            found.append(
                                (
                                    (*where, "values", str(value)),
                                    f"{value!r} is not a value of {facet} ({', '.join(names)})",
                                )
                            )
    return found


def parse(catalogue: Catalogue, data: Any) -> dict[str, dict[str, Carried]]:
    """A checked ``facet_events`` section (see :func:`problems`)."""
    values = _facet_values(catalogue)
    out: dict[str, dict[str, Carried]] = {}
    for event, facets in (data or {}).items():
        out[str(event)] = {}
        for facet, how in facets.items():
            if not isinstance(how, Mapping):
                out[str(event)][str(facet)] = Carried(str(how))
                continue
            known = {spelled(value): value for value in values.get(str(facet)) or ()}
            own = {known[name]: theirs for name, theirs in how.get("values", {}).items() if name in known}
            out[str(event)][str(facet)] = Carried(how["path"], own)
    return out


def to_json(declared: FacetEvents) -> dict[str, Any]:
    return {
        event: {
            facet: {"path": how.path, "values": {spelled(ours): theirs for ours, theirs in how.values.items()}}
            if how.values
            else how.path
            for facet, how in facets.items()
        }
        for event, facets in declared.items()
    }


def incoming(declared: FacetEvents, catalogue: Catalogue, raw: dict[str, Any]) -> dict[str, Any] | None:
    """An event of the adapter's that carries a declared facet, as the catalogue's event about the same object
    (``raw`` itself if it is not such an event; None if it is, but carries none of its facets: the adapter's
    own, never judged)."""
    facets = declared.get(str(raw.get("name")))
    if facets is None:
        return raw
    carried_by = carriers(catalogue)
    data = raw.get("data")
    translated: dict[str, dict[str, Any]] = {}
    for facet, how in facets.items():
        value = find(data, how.path)
        if value is MISSING:
            continue
        ours = how.to_catalogue(value)
        event = carried_by[facet]
        translated.setdefault(event, {})[facet] = value if ours is MISSING else ours  # unknown: as it came
    if not translated:
        return None
    event, values = next(iter(translated.items()))
    return {**raw, "name": event, "data": values}


def outgoing(declared: FacetEvents, catalogue: Catalogue, raw: dict[str, Any]) -> dict[str, Any]:
    """The reverse (the reference adapter): a catalogue event that carries only facets one declared event of the
    adapter's carries, as that event."""
    data = raw.get("data")
    if not declared or not isinstance(data, Mapping) or not data:
        return raw
    carried_by = carriers(catalogue)
    if any(carried_by.get(key) != raw.get("name") for key in data):
        return raw  # a state, or something no facet event carries
    for event, facets in declared.items():
        if set(data) <= set(facets):
            out: Any = {}
            for facet, value in data.items():
                out = with_value(out, facets[facet].path, facets[facet].to_adapter(value))
            return {**raw, "name": event, "data": out}
    return raw


def undeclared(declared: FacetEvents, catalogue: Catalogue, raw: Mapping[str, Any]) -> str | None:
    """Where the profile declares an event of the adapter's that carries a facet: why this catalogue event,
    which carries that facet itself, breaks the declaration (a MUST); None otherwise."""
    data = raw.get("data")
    if not declared or not isinstance(data, Mapping):
        return None
    carried_by = carriers(catalogue)
    for event, facets in declared.items():
        for facet in facets:
            if facet in data and carried_by.get(facet) == raw.get("name"):
                return f"the profile declares {facet} carried by {event}; this {raw.get('name')} carries it"
    return None
