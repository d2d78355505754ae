"""What a named fault of the reference adapter does to one answer: the actions, as data.

Each action transforms what the catalogue-driven simulation answered and emitted (see :mod:`.misbehave`,
which applies them); none names an event list or a state transition.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Swap:
    """The first ``first`` and the first ``second`` event trade places (the first two, if the names match)."""

    first: str
    second: str


@dataclass(frozen=True)
class Duplicate:
    """The first ``event`` is sent twice in a row."""

    event: str


@dataclass(frozen=True)
class Extra:
    """An ``event`` about the target (the event's example data) comes before the list."""

    event: str


@dataclass(frozen=True)
class Retarget:
    """The first ``event`` about the target is addressed to the target's parent instead."""

    event: str


@dataclass(frozen=True)
class Stale:
    """The first ``event`` carries the ``key`` (state or facet) its object had before the request."""

    event: str
    key: str


@dataclass(frozen=True)
class ShortEcho:
    """The response echoes only the last dotted segment of the request's ``member`` (command or target)."""

    member: str


@dataclass(frozen=True)
class Strip:
    """``result`` responses (None: every response) lack ``member``, a dotted path."""

    member: str
    result: str | None = None


@dataclass(frozen=True)
class Refuse:
    """A legal request fails with ``reason`` (a failure code name of specs/protocol.yaml); nothing happens."""

    reason: str


@dataclass(frozen=True)
class Ignore:
    """A legal request is answered success, but nothing happens and nothing is announced."""


@dataclass(frozen=True)
class Silent:
    """The frame gets no answer at all (the connection stays open)."""


@dataclass(frozen=True)
class Deaf:
    """The frame is answered, but nothing after it is: the session stops answering."""


@dataclass(frozen=True)
class Forget:
    """Everything is announced, but the platform keeps ``key`` (state or facet) of the target or its parent
    (``whom``) as it was; ``key`` None: the platform keeps everything as it was."""

    whom: str = "target"
    key: str | None = "state"


@dataclass(frozen=True)
class Reset:
    """After the request, the target's facet ``key`` is back at its initial value, unannounced."""

    key: str


@dataclass(frozen=True)
class Unreported:
    """Everything happens on the platform, but none of the events is sent."""


@dataclass(frozen=True)
class Ghost:
    """After an object is disposed, the last event about it comes again: at once, or with the next answer
    (``later``) whatever that answers."""

    later: bool


@dataclass(frozen=True)
class Replay:
    """The last event of the answer is sent again at the start of the next answer."""


@dataclass(frozen=True)
class RepeatNeedinfo:
    """Once a command was answered needinfo, every later legal request of it gets that needinfo again."""


@dataclass(frozen=True)
class ReuseId:
    """What the request creates gets the id of the target's first child of ``level``."""

    level: str


Action = (
    Swap
    | Duplicate
    | Extra
    | Retarget
    | Stale
    | ShortEcho
    | Strip
    | Refuse
    | Ignore
    | Silent
    | Deaf
    | Forget
    | Reset
    | Unreported
    | Ghost
    | Replay
    | RepeatNeedinfo
    | ReuseId
)
