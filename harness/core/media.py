"""How an adapter names a channel's media: a convention (issue 14).

The seeds call requests "Telephony and Multimedia" or "Telephony only" but print no channel data (ERRATA
R23): the catalogue reads a channel's media at the path ``states.yaml`` names (``media:`` of the level,
``$.channel.media``) in the data of the event that creates it, with the catalogue's values (``telephony``,
``chat``). A profile's ``conventions.media`` declares the adapter's own: ``path``, where its creating event's
data names the media (default: the catalogue's), and ``names``, the adapter's value -> the catalogue's media
(default: the catalogue's values). The harness translates at the frame boundary, like the other conventions
(:mod:`harness.core.conventions`); the reference adapter plays it in reverse. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..jsonpaths import MISSING, SIMPLE, find, with_value, without
from ..spec.catalogue import Catalogue, Condition, LevelSpec

if TYPE_CHECKING:  # the model calls these (no cycle at run time)
    from .objects import MbObject, ObjectModel

FIELDS = ("path", "names")
MAX_NAME = 200  # characters of a media name a profile may give
MAX_MEDIA_CHARS = 1024  # of a media value the model keeps (as long as an id)
WALK_NODES = 200  # values looked at when searching creation data for a media value (bounded)
WALK_DEPTH = 4
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class MediaNaming:
    """Where (``path``, None: the catalogue's) and how (``names``: the adapter's value -> the catalogue's
    media) the adapter names a channel's media."""

    path: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.path is None and not self.names

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.path is not None:
            out["path"] = self.path
        if self.names:
            out["names"] = dict(self.names)
        return out

    def adapter_name(self, media: str) -> str:
        """The adapter's value for a catalogue media (the catalogue's own if it declares none)."""
        return next((adapter for adapter, kind in self.names.items() if kind == media), media)


def catalogue_media(catalogue: Catalogue) -> frozenset[str]:
    """Every media the catalogue names (in commands, stimuli and their conditions)."""
    found: set[str] = set()
    for command in catalogue.commands.values():
        found |= command.media
        for condition in [*command.when, *(outcome.when for outcome in command.outcomes)]:
            found |= _condition_media(condition)
    for stimulus in catalogue.stimuli.values():
        found |= stimulus.media
        for condition in stimulus.when:
            found |= _condition_media(condition)
    return frozenset(found)


def _condition_media(condition: Condition | None) -> frozenset[str]:
    if condition is None:
        return frozenset()
    return (condition.media or frozenset()) | _condition_media(condition.parent)


def mentions_media(conditions: Iterable[Condition | None]) -> bool:
    """Some condition (or a parent condition of one) reads the media of the object's channel."""
    return any(_condition_media(condition) for condition in conditions)


def media_level(catalogue: Catalogue) -> tuple[str, str] | None:
    """The level whose creating event names its media, and the catalogue's path (None: none does)."""
    return next(
        ((name, level.media_path) for name, level in catalogue.levels.items() if level.media_path is not None),
        None,
    )


def problems(catalogue: Catalogue, data: Any) -> list[tuple[Path, str]]:
    """Every problem of a ``conventions.media`` section, at its path inside ``conventions``."""
    if not isinstance(data, Mapping):
        return [(("media",), "a mapping with path (where the creating event names the media) and names")]
    found: list[tuple[Path, str]] = [
        (("media", key), f"unknown field {key!r} (known: {', '.join(FIELDS)})")
        for key in data
        if key not in FIELDS
    ]
    level = media_level(catalogue)
    if level is None:
        return [*found, (("media",), "the catalogue reads no media from any level (states.yaml media:)")]
    path = data.get("path")
    if path is not None and (not isinstance(path, str) or not SIMPLE.fullmatch(path)):
        found.append((("media", "path"), f"a path of object keys such as {level[1]}, not {path!r}"))
    names = data.get("names", {})
    known = catalogue_media(catalogue)
    if not isinstance(names, Mapping):
        return [*found, (("media", "names"), "a mapping of the adapter's media value -> the catalogue's media")]
    taken: dict[str, str] = {}
    for adapter, kind in names.items():
        at: Path = ("media", "names", adapter)
        if not isinstance(adapter, str) or not adapter or len(adapter) > MAX_NAME or adapter.strip() != adapter:
            found.append((at, f"the adapter's media value is a non-empty string, not {adapter!r}"))
        elif kind not in known:
            found.append((at, f"{kind!r} is not a media of the catalogue ({', '.join(sorted(known))})"))
        elif kind in taken:
            found.append((at, f"{kind} already has the adapter's value {taken[kind]!r}"))
        elif adapter in known and adapter != kind and adapter not in names.values():
            found.append((at, f"{adapter} is a catalogue media the adapter does not rename: ambiguous"))
        else:
            taken[kind] = adapter
    return found


def parse(data: Any) -> MediaNaming:
    """A ``conventions.media`` section already checked by :func:`problems`."""
    if not isinstance(data, Mapping):
        return MediaNaming()
    names = {adapter: kind for adapter, kind in data.get("names", {}).items() if adapter != kind}
    return MediaNaming(path=data.get("path"), names=names)


def _media_target(catalogue: Catalogue, raw: Mapping[str, Any], level_of: Any) -> str | None:
    """The catalogue's media path when this event names a channel's media: it creates a level that has one,
    or it is about an object of that level (a later ``channel.infochanged``)."""
    spec = catalogue.events.get(str(raw.get("name")))
    if spec is None:
        return None
    if spec.creates_level is not None:
        level = catalogue.levels.get(spec.creates_level)
        return level.media_path if level is not None else None
    target = raw.get("target")
    name = level_of(target) if isinstance(target, str) else None
    level = catalogue.levels.get(name or "")
    return level.media_path if level is not None else None


def _named(
    naming: MediaNaming, catalogue: Catalogue, raw: dict[str, Any], level_of: Any, adapters: bool
) -> tuple[str, Mapping[str, Any], str] | None:
    """The catalogue's media path of an event that names a channel's media, its data, and the media it names
    (where the adapter puts it if ``adapters``, else where the catalogue does); None if there is nothing to
    translate."""
    if naming.is_default:
        return None
    path = _media_target(catalogue, raw, level_of)
    data = raw.get("data")
    if path is None or not isinstance(data, Mapping):
        return None
    value = find(data, (naming.path or path) if adapters else path)
    return (path, data, value) if isinstance(value, str) else None


def incoming(naming: MediaNaming, catalogue: Catalogue, raw: dict[str, Any], level_of: Any) -> dict[str, Any]:
    """An event from the adapter with the media it names (at the declared path, by the declared names) at the
    catalogue's path with the catalogue's value; ``raw`` itself if nothing is translated."""
    found = _named(naming, catalogue, raw, level_of, adapters=True)
    if found is None:
        return raw
    path, data, value = found
    kind = naming.names.get(value, value)
    if naming.path is None and kind == value:
        return raw
    return {**raw, "data": with_value(data, path, kind)}


def outgoing(naming: MediaNaming, catalogue: Catalogue, raw: dict[str, Any], level_of: Any) -> dict[str, Any]:
    """An event of the simulation as the adapter names the media (the reference adapter's side)."""
    found = _named(naming, catalogue, raw, level_of, adapters=False)
    if found is None:
        return raw
    path, data, value = found
    moved = data if naming.path is None or naming.path == path else without(data, path)
    return {**raw, "data": with_value(moved, naming.path or path, naming.adapter_name(value))}


def undeclared(naming: MediaNaming, catalogue: Catalogue, raw: Mapping[str, Any]) -> str | None:
    """Where the profile declares how the adapter names media: why this creating event breaks it (no value
    at the declared path, or a value it does not declare); None if it does not, or nothing is declared."""
    spec = catalogue.events.get(str(raw.get("name")))
    level = catalogue.levels.get(spec.creates_level or "") if spec is not None else None
    if naming.is_default or spec is None or level is None or level.media_path is None:
        return None
    path = naming.path or level.media_path
    value = find(raw.get("data"), path)
    allowed = set(naming.names) | (catalogue_media(catalogue) - set(naming.names.values()))
    if value is MISSING:
        return f"the profile declares that the adapter names a {spec.creates_level}'s media at {path}; none is"
    if value not in allowed:
        return (
            f"the profile declares the adapter's media values ({', '.join(sorted(allowed))}) at {path}; "
            f"{str(value)[:MAX_NAME]!r} is none of them"
        )
    return None


def named_in(data: Any, known: frozenset[str]) -> list[tuple[str, str]]:
    """Where creation data names a media of the catalogue under some field: (path, value) pairs, in document
    order, each a simple path (bounded: at most :data:`WALK_NODES` values, :data:`WALK_DEPTH` deep)."""
    return [(path, value) for path, value in _walk(data, "$", WALK_DEPTH, [WALK_NODES]) if value in known]


def _walk(value: Any, path: str, depth: int, budget: list[int]) -> Iterator[tuple[str, str]]:
    if budget[0] <= 0:
        return
    budget[0] -= 1
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping) and depth > 0:
        for key, item in value.items():
            if isinstance(key, str) and SIMPLE.fullmatch(f"{path}.{key}"):
                yield from _walk(item, f"{path}.{key}", depth - 1, budget)


# -- the model's reading ---------------------------------------------------------------------------


def media_created(model: ObjectModel, level: LevelSpec | None, data: Any) -> tuple[str | None, bool]:
    """The media of a new object of ``level`` and whether it is a guess: the value at the catalogue's path
    (after the profile's translation); else the profile's only media; else, with guessing on, the one media
    of the catalogue that its creation data names under another field (a guess); else unknown."""
    if level is None or level.media_path is None:
        return None, False
    value = find(data, level.media_path)
    if isinstance(value, str) and len(value) <= MAX_MEDIA_CHARS:
        return value, False
    if model.only_media is not None:
        return model.only_media, False
    if model.guess_media:
        found = {kind for _, kind in named_in(data, model.guess_media)}
        if len(found) == 1:
            return found.pop(), True
    return None, False


def named_later(model: ObjectModel, obj: MbObject, data: Any) -> None:
    """A later event about an object of a level with a media (``channel.infochanged``) that names the media at
    the catalogue's path, where it was unknown or a guess: taken."""
    level = model.catalogue.levels.get(obj.level)
    if level is None or level.media_path is None or (obj.media is not None and not obj.media_guessed):
        return
    value = find(data, level.media_path)
    if isinstance(value, str) and len(value) <= MAX_MEDIA_CHARS:
        obj.media, obj.media_guessed = value, False
