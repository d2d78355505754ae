"""The object model: sessions, channel groups, channels, interactions and conversations, as events say.

One class serves three users: the reference adapter keeps its platform in it, the harness learns the IUT's
objects with it (the shadow model), and the planner simulates call flows on a copy of it. What an event
does to the model (create a child, set a state, initialize, dispose) is read from the event's spec
(``effect``); which states a level has comes from ``specs/states.yaml``.

Addressing (ERRATA R7): a target is ``<session-id>[.<channel-group-id>].<channel-id>...``, ids never
contain ``.``, and the level of a target is never guessed from its length: an address is looked up among
the objects the model knows, each of which was created with its level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..jsonpaths import MISSING, find
from ..spec.catalogue import Catalogue, EventSpec
from .kept import kept, kept_value
from .media import media_created, named_later
from .messages import Event

SEPARATOR = "."
# What the model keeps is bounded whatever the adapter sends (issue 15; README "Hostile adapters"):
DISPOSED_REMEMBERED = 4096  # addresses of disposed objects remembered (to name a late event precisely)...
DISPOSED_CHARS = 1 << 20  # ...and their characters together; the oldest is forgotten first
MAX_OBJECTS = 4096  # live objects followed; a creation beyond them is not followed (a problem says so)
MAX_ID_CHARS = 1024  # of a created object's id; a longer one is not followed (a problem says so)
MAX_STATE_CHARS = 64  # of a state name of the adapter's own, kept
MAX_LEARNED = 32  # state names of the adapter's own learned per level


def _a(level: str) -> str:
    """``a channel``, ``an interaction``."""
    return f"{'an' if level[:1] in 'aeiou' else 'a'} {level}"


@dataclass
class MbObject:
    level: str
    address: str
    state: str | None = None
    initialized: bool = False
    # the data of the event that created it, a bounded copy (core/kept.py); never mutated
    info: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)  # mute, recording, focus... (states.yaml facets)
    media: str | None = None  # for a level whose creating event names its media (a channel)
    guessed: bool = False  # its state is the adapter's own name, or a catalogue state learned for it
    media_guessed: bool = False  # its media was found under a field the profile does not declare (a guess)
    # why its state or facets may not be what the model says (None: they are what the adapter said): the
    # adapter did not send an inferred event that would have changed them
    doubted: str | None = None
    # the adapter's name for its state, where the profile declares that name stands for several catalogue
    # states (conventions.states, a list): a change between those the name cannot show
    named: str | None = None

    @property
    def id(self) -> str:
        return self.address.rsplit(SEPARATOR, 1)[-1]

    def copy(self) -> MbObject:
        """A copy that shares nothing mutable but ``info`` (never mutated); the planner copies models a lot."""
        return MbObject(
            self.level,
            self.address,
            self.state,
            self.initialized,
            self.info,
            list(self.children),
            dict(self.facets),
            self.media,
            self.guessed,
            self.media_guessed,
            self.doubted,
            self.named,
        )

    @property
    def parent_address(self) -> str | None:
        return self.address.rsplit(SEPARATOR, 1)[0] if SEPARATOR in self.address else None


class Problem(str):
    """A problem an event revealed, as text; ``inferred`` says why the rule it breaks is the catalogue's
    reading rather than the seeds' (None: the seeds say so), which makes it a convention (issue 14) of the
    ``area`` named (violations.AREAS)."""

    inferred: str | None = None
    area: str | None = None

    def __new__(cls, text: str, inferred: str | None = None, area: str = "payloads") -> Problem:
        problem = super().__new__(cls, text)
        problem.inferred = inferred
        problem.area = area if inferred else None
        return problem


# Why the model's own rules are conventions (the ERRATA rulings that infer them)
UNKNOWN_EVENT = (
    "the catalogue knows the seeds' events and its own readings; an adapter may have events of its own "
    "(a profile declares them: conventions.extra_events)"
)
STATE_NAMES = "state names are the catalogue's reading (ERRATA R9); a profile declares the adapter's own"
TRANSITIONS = "which state may follow which is the catalogue's reading (ERRATA R34)"
HARNESS_BOUND = (
    "the seeds set no limit here; mbconform follows at most this much so that a hostile adapter cannot fill its "
    "memory (README 'Hostile adapters')"
)
FACET_VALUES = "facet values are the catalogue's reading (ERRATA R26)"
MOST_CHILDREN = "how many live children an object may have is the catalogue's reading (ERRATA R24)"
CREATION_TARGET = (
    "a creation event is about the object it is created in by the catalogue's reading; this adapter sends it "
    "about the new object"
)


@dataclass(frozen=True)
class Applied:
    """What applying one event did: the object it created (if any) and problems it revealed."""

    created: MbObject | None = None
    problems: tuple[Problem, ...] = ()


class ObjectModel:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.objects: dict[str, MbObject] = {}
        self.session: MbObject | None = None
        # Addresses of disposed objects, remembered (boundedly) so a late event can be named precisely.
        self.disposed: dict[str, None] = {}
        self.disposed_chars = 0
        # told of every state an object enters: (level, state before or None when created, state) (coverage)
        self.on_state: Callable[[str, str | None, str], None] | None = None
        # level -> the adapter's own state name -> the catalogue state it was seen standing for (learned
        # where a list's entry expected that state): followed, so set-ups go on (issue 14)
        self.learned: dict[str, dict[str, str]] = {}
        # a channel whose media the adapter does not name where the catalogue reads it (core/media.py): the
        # profile's only media, if it has one; else, with guessing on, a media value found elsewhere in its
        # creation data, or none, and then conditions on media are guesses that hold (the runner's model only)
        self.only_media: str | None = None
        self.guess_media: frozenset[str] = frozenset()  # the catalogue's media, when guessing is on
        # level -> an adapter state name the profile declares for several catalogue states -> those states
        self.shared_states: Mapping[str, Mapping[str, tuple[str, ...]]] = {}

    def copy(self) -> ObjectModel:
        clone = ObjectModel(self.catalogue)
        clone.objects = {address: obj.copy() for address, obj in self.objects.items()}
        clone.session = clone.objects.get(self.session.address) if self.session else None
        clone.disposed = dict(self.disposed)
        clone.disposed_chars = self.disposed_chars
        clone.learned = {level: dict(names) for level, names in self.learned.items()}
        clone.only_media, clone.guess_media = self.only_media, self.guess_media
        clone.shared_states = self.shared_states
        return clone

    # -- look-ups -------------------------------------------------------------------------------

    def get(self, address: str) -> MbObject | None:
        return self.objects.get(address)

    def find_target(self, address: str, level: str) -> tuple[MbObject | None, str]:
        """The live object at ``address`` if it is at ``level``; else None and why not."""
        obj = self.objects.get(address)
        if obj is None:
            if address in self.disposed:
                return None, f"{address!r} was disposed"
            return None, f"no {level} {address!r} is known"
        if obj.level != level:
            return None, f"{address!r} is {_a(obj.level)}, not {_a(level)}"
        return obj, ""

    def of_level(self, level: str) -> Iterator[MbObject]:
        return (obj for obj in self.objects.values() if obj.level == level)

    def descendants(self, address: str, level: str | None = None) -> Iterator[MbObject]:
        prefix = address + SEPARATOR
        for obj in self.objects.values():
            if obj.address.startswith(prefix) and (level is None or obj.level == level):
                yield obj

    def children_of(self, obj: MbObject, level: str | None = None) -> Iterator[MbObject]:
        for address in obj.children:
            child = self.objects.get(address)
            if child is not None and (level is None or child.level == level):
                yield child

    def parent_of(self, obj: MbObject) -> MbObject | None:
        return self.objects.get(obj.parent_address or "")

    def media_of(self, obj: MbObject | None) -> str | None:
        """The media of the channel an object lives in (from the data that created the channel)."""
        while obj is not None:
            level = self.catalogue.levels.get(obj.level)
            if level is not None and level.media_path is not None:
                return obj.media
            obj = self.parent_of(obj)
        return None

    def media_unsure(self, obj: MbObject | None) -> bool:
        """With guessing on, the media of ``obj``'s channel is a guess or unknown."""
        while self.guess_media and obj is not None:
            level = self.catalogue.levels.get(obj.level)
            if level is not None and level.media_path is not None:
                return obj.media is None or obj.media_guessed
            obj = self.parent_of(obj)
        return False

    def is_live(self, obj: MbObject) -> bool:
        level = self.catalogue.levels.get(obj.level)
        return level is None or level.live is None or obj.state is None or obj.state in level.live

    def uninitialized(self) -> list[Problem]:
        """Objects created but not (yet) initialized, at levels the catalogue has an initializing event for
        (a convention where every event that initializes that level is the catalogue's reading)."""
        levels = self.catalogue.initialized_levels
        return [
            Problem(
                f"{obj.level} {obj.address} was created but never initialized",
                self._initialized_by(obj.level),
                "events",
            )
            for obj in self.objects.values()
            if obj.level in levels and not obj.initialized
        ]

    def _initialized_by(self, level: str) -> str | None:
        reasons = [
            spec.inferred for spec in self.catalogue.events.values() if spec.initializes and level in spec.levels
        ]
        return None if any(reason is None for reason in reasons) else "; ".join(r for r in reasons if r)

    def unknown_address(self, level: str) -> str:
        """An address at ``level`` that names no object, under a live parent where there is one."""
        missing = "mbconform-missing"
        parents = self.catalogue.levels[level].parents if level in self.catalogue.levels else ()
        for parent_level in parents:
            for obj in self.of_level(parent_level):
                return obj.address + SEPARATOR + missing
        for parent_level in parents:
            return self.unknown_address(parent_level) + SEPARATOR + missing
        return missing

    # -- changes --------------------------------------------------------------------------------

    def start_session(self, session_id: str) -> MbObject:
        session = MbObject("session", session_id, initialized=False)
        self.objects[session_id] = session
        self.session = session
        return session

    def apply(self, event: Event) -> Applied:
        """Apply one event's effect (from its spec). Never raises; problems are returned."""
        if self.session is None and event.target and SEPARATOR not in event.target:
            self.start_session(event.target)  # ERRATA R10: the first event names the session
        elif self.session is None:
            self.start_session(event.target.split(SEPARATOR, 1)[0])
        spec = self.catalogue.events.get(event.name)
        if spec is None:
            return Applied(
                problems=(Problem(f"{event.name!r} is not an event of the catalogue", UNKNOWN_EVENT, "events"),)
            )
        data = event.data if isinstance(event.data, dict) else {}
        problems: list[Problem] = []
        obj = self.objects.get(event.target)
        if obj is None and self._about_new_object(spec, event.target, data):
            # the adapter's convention: a creation event about the object it creates; followed, not refused
            obj = self.objects[event.target.rsplit(SEPARATOR, 1)[0]]
            problems.append(
                Problem(f"{event.name} is about the new object {event.target!r}", CREATION_TARGET, "targets")
            )
        if obj is None:
            why = "a disposed object" if event.target in self.disposed else "an unknown object"
            return Applied(problems=(Problem(f"{event.name} for {why} {event.target!r}"),))
        if spec.requires:
            from .conditions import Context, legal  # conditions look at the model: imported late (a cycle)

            reasons = legal(spec.requires, self, obj, Context(platform=""))
            if reasons:
                basis = next((c.inferred for c in spec.requires if c.inferred), None) or spec.inferred
                problems.append(
                    Problem(f"{event.name} for {obj.address}, but {'; or '.join(reasons)}", basis, "transitions")
                )
        if obj.level not in spec.levels:
            problems.append(
                Problem(
                    f"{event.name} cannot be about a {obj.level} (its levels: {sorted(spec.levels)})",
                    spec.inferred,
                )
            )
        created = None
        if spec.creates_level and spec.creates_id_path:
            new_id = find(data, spec.creates_id_path)
            if not isinstance(new_id, str) or not new_id or SEPARATOR in new_id:
                problems.append(
                    Problem(
                        f"{event.name} carries no usable id at {spec.creates_id_path} (got {new_id!r})",
                        spec.inferred,
                    )
                )
            elif len(new_id) > MAX_ID_CHARS or len(self.objects) >= MAX_OBJECTS:
                what = f"an id of {len(new_id)} characters" if len(new_id) > MAX_ID_CHARS else "a new object"
                problems.append(
                    Problem(
                        f"{event.name} carries {what}: not followed (mbconform follows ids of at most "
                        f"{MAX_ID_CHARS} characters and at most {MAX_OBJECTS} live objects)",
                        HARNESS_BOUND,
                        "transitions",
                    )
                )
            else:
                created, problem = self._create(obj, spec.creates_level, new_id, data)
                if problem:
                    problems.append(problem)
        if spec.sets:
            problems.extend(self._set(obj, event.name, spec.sets, data, spec.inferred))
        named_later(self, obj, data)
        if spec.initializes:
            obj.initialized = True
        if spec.disposes:
            self._dispose(obj)
        return Applied(created, tuple(problems))

    def learn(self, address: str, name: str, state: str) -> Problem | None:
        """The adapter's own state ``name`` stood where a list expected ``state`` of the object at ``address``:
        from now on that name is that state at its level (a guess, so what depends on it is a convention)."""
        obj = self.objects.get(address)
        level = self.catalogue.levels.get(obj.level) if obj is not None else None
        if obj is None or level is None or name in level.states or state not in level.states:
            return None
        names = self.learned.setdefault(obj.level, {})
        if name in names or len(names) >= MAX_LEARNED or len(name) > MAX_STATE_CHARS:
            return None
        names[name] = state
        if obj.state == name[:MAX_STATE_CHARS]:
            obj.state, obj.guessed = state, True
        return Problem(f"the adapter's {obj.level} state {name!r} is taken for {state}", STATE_NAMES, "states")

    def doubt(self, address: str, why: str) -> None:
        """The adapter carried out a request without an event the catalogue infers would change this object:
        whether its state or facets changed is unknown (a call the adapter muted with an event of its own is
        muted; a call it left ringing still rings), so what the catalogue predicts from them is a convention
        from now on. The model keeps the state it has: the planner follows it, the verdicts do not rest on it."""
        obj = self.objects.get(address)
        if obj is not None and obj.doubted is None:
            obj.doubted = why

    @property
    def guesses(self) -> bool:
        """Some object's state is a guess (the adapter's own name, one learned for it, or doubted)."""
        return bool(self.learned) or any(obj.guessed or obj.doubted for obj in self.objects.values())

    def guessed_near(self, obj: MbObject) -> MbObject | None:
        """An object whose state a condition about ``obj`` may read (itself, its ancestors, its descendants)
        and that is a guess; None if there is none."""
        near = [obj, *self.descendants(obj.address)]
        parent = self.parent_of(obj)
        while parent is not None:
            near.append(parent)
            parent = self.parent_of(parent)
        return next((other for other in near if other.guessed), None)

    def _about_new_object(self, spec: EventSpec, target: str, data: Mapping[str, Any]) -> bool:
        """A creation event whose target is the object it creates (its id is the target's last segment) in a
        known object where that level may live."""
        if not spec.creates_level or not spec.creates_id_path or SEPARATOR not in target:
            return False
        parent_address, new_id = target.rsplit(SEPARATOR, 1)
        parent = self.objects.get(parent_address)
        level = self.catalogue.levels.get(spec.creates_level)
        return (
            parent is not None
            and level is not None
            and parent.level in level.parents
            and find(data, spec.creates_id_path) == new_id
        )

    def _set(
        self, obj: MbObject, name: str, sets: Mapping[str, str], data: dict[str, Any], inferred: str | None
    ) -> list[Problem]:
        """Apply the state and facets an event carries; an event that carries none of them is a problem.
        ``inferred``: why the event's payload is the catalogue's reading, if it is."""
        level = self.catalogue.levels.get(obj.level)
        problems: list[Problem] = []
        carried = False
        for key, path in sets.items():
            value = find(data, path)
            if value is MISSING:
                continue
            carried = True
            if key == "state":
                if isinstance(value, str) and level is not None and value not in level.states:
                    spelled = _spelled_like(value, level.states)
                    if spelled is not None:  # followed: "connected" is CONNECTED, spelled the adapter's way
                        problems.append(
                            Problem(
                                f"{name}: the {obj.level} state {spelled} is spelled {value!r}",
                                STATE_NAMES,
                                "states",
                            )
                        )
                        value = spelled
                guessed = False
                if isinstance(value, str) and value in self.learned.get(obj.level, {}):
                    value, guessed = self.learned[obj.level][value], True
                if not isinstance(value, str) or (level is not None and value not in level.states):
                    problems.append(
                        Problem(f"{name}: {value!r} is not a state of {_a(obj.level)}", STATE_NAMES, "states")
                    )
                    if isinstance(value, str) and value:  # followed: the adapter's own state, whatever it means
                        obj.state, obj.guessed = value[:MAX_STATE_CHARS], True
                    continue
                if obj.guessed or guessed:  # no transition is known from or to a state the adapter named
                    obj.state, obj.guessed = value, guessed
                    continue
                allowed = level.transitions if level is not None else None
                if (
                    allowed is not None
                    and obj.state is not None
                    and obj.state != value
                    and value not in allowed.get(obj.state, ())
                ):
                    after = sorted(allowed.get(obj.state, ()))
                    problems.append(
                        Problem(
                            f"{name}: a {obj.level} cannot go from {obj.state} to {value} (states.yaml: from "
                            f"{obj.state} only to {' or '.join(after) if after else 'nothing, it is final'})",
                            TRANSITIONS,
                            "transitions",
                        )
                    )
                if self.on_state is not None and value != obj.state:
                    self.on_state(obj.level, obj.state, value)
                obj.state, obj.guessed = value, False
                continue
            facet = level.facets.get(key) if level is not None else None
            if facet is None:
                continue  # not a facet of this level: the data schema judges it
            if facet.values is not None and value not in facet.values:
                problems.append(
                    Problem(
                        f"{name}: {value!r} is not a value of {_a(obj.level)}'s {key} ({list(facet.values)})",
                        FACET_VALUES,
                    )
                )
            elif facet.child is not None and not any(
                child.id == value for child in self.children_of(obj, facet.child)
            ):
                problems.append(
                    Problem(f"{name}: {key} {value!r} names no {facet.child} of {obj.address}", inferred)
                )
            else:
                obj.facets[key] = kept_value(value)
        if not carried:
            problems.append(
                Problem(f"{name} for {obj.address} carries none of {', '.join(sets.values())}", inferred)
            )
        return problems

    def _create(
        self, parent: MbObject, level: str, new_id: str, data: dict[str, Any]
    ) -> tuple[MbObject, Problem | None]:
        address = parent.address + SEPARATOR + new_id
        level_spec = self.catalogue.levels.get(level)
        problem: Problem | None = None
        if level_spec is not None and parent.level not in level_spec.parents:
            problem = Problem(f"a {level} cannot be created in a {parent.level} ({parent.address})")
        if address in self.objects:
            problem = Problem(f"{address!r} is created a second time")
        most = (
            self.catalogue.levels[parent.level].most.get(level) if parent.level in self.catalogue.levels else None
        )
        if most is not None and sum(1 for c in self.children_of(parent, level) if self.is_live(c)) >= most:
            problem = Problem(
                f"a {level} is created in {parent.address}, which already has {most} live {level}s (the most)",
                MOST_CHILDREN,
                "transitions",
            )
        facets = {name: facet.initial for name, facet in level_spec.facets.items()} if level_spec else {}
        media, guessed = media_created(self, level_spec, data)
        obj = MbObject(
            level,
            address,
            state=level_spec.initial if level_spec else None,
            info=kept(data),
            facets=facets,
            media=media,
            media_guessed=guessed,
        )
        self.objects[address] = obj
        if self.on_state is not None and obj.state is not None:
            self.on_state(level, None, obj.state)
        if address not in parent.children:
            parent.children.append(address)
        return obj, problem

    def _dispose(self, obj: MbObject) -> None:
        for gone in [*self.descendants(obj.address), obj]:
            self.objects.pop(gone.address, None)
            if gone.address not in self.disposed:
                self.disposed[gone.address] = None
                self.disposed_chars += len(gone.address)
            while len(self.disposed) > DISPOSED_REMEMBERED or self.disposed_chars > DISPOSED_CHARS:
                forgotten = next(iter(self.disposed))
                del self.disposed[forgotten]
                self.disposed_chars -= len(forgotten)
        parent = self.objects.get(obj.parent_address or "")
        if parent is not None and obj.address in parent.children:
            parent.children.remove(obj.address)


def catalogue_spelling(value: str) -> str:
    """How the catalogue would spell a name the adapter wrote in another case or with other separators
    (``connected``, ``on-hold``): the one place that says which spellings are the same name (ERRATA R9)."""
    return value.strip().upper().replace("-", "_").replace(" ", "_")


def _spelled_like(value: str, states: frozenset[str]) -> str | None:
    """The catalogue's state that ``value`` names in another case or with other separators, if one does."""
    key = catalogue_spelling(value)
    return key if key in states else None
