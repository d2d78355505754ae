"""An event list resolved against the object model before a request: which entries apply, about which
objects, with which data. The reference adapter emits what this yields and the checks expect it, so both
read a list the same way.

Resolution happens on the model as it is before the request (the target's state, its children): an
entry's ``if`` is a condition on the target; ``each`` expands to the objects that exist; ``swap`` picks
the state an entry sets from the state its object is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..jsonpaths import with_value
from ..spec.catalogue import Catalogue, EachAbout, EventEntry, EventList
from .conditions import Context, holds
from .objects import SEPARATOR, ObjectModel

IN_STATE = " in "
SCOPE = ("target", "parent", "session")  # the names every list starts with (base_env)


@dataclass(frozen=True)
class Resolved:
    entry: EventEntry
    about: str  # an address, or a name that an earlier entry of the list binds
    data: Mapping[str, Any]  # what the event's data must contain


def base_env(model: ObjectModel, target: str) -> dict[str, str]:
    env = {"target": target}
    if SEPARATOR in target:
        env["parent"] = target.rsplit(SEPARATOR, 1)[0]
    if model.session is not None:
        env["session"] = model.session.address
    return env


def bound_names(env: Mapping[str, str]) -> dict[str, str]:
    """The names a list bound (``as``), without the scope names :func:`base_env` starts with."""
    return {name: address for name, address in env.items() if name not in SCOPE}


def resolve(
    catalogue: Catalogue, event_list: EventList, target: str, model: ObjectModel, context: Context
) -> list[Resolved]:
    env = base_env(model, target)
    target_obj = model.get(target)
    out: list[Resolved] = []
    for entry in event_list.entries:
        if entry.only_if is not None and (
            target_obj is None or not holds(entry.only_if, model, target_obj, context)
        ):
            continue
        if isinstance(entry.about, EachAbout):
            each = entry.about
            addresses = [
                obj.address
                for obj in model.descendants(target, each.level)
                if each.in_state is None or obj.state in each.in_state
            ]
        else:
            addresses = [env.get(entry.about, entry.about)]
        for address in addresses:
            data: Mapping[str, Any] = entry.data
            if entry.swap:
                obj = model.get(address)
                path = catalogue.events[entry.event].sets_state_path
                if obj is None or obj.state is None or obj.state not in entry.swap or path is None:
                    continue
                data = with_value(dict(data), path, entry.swap[obj.state])
            for path, name in entry.refer.items():
                if IN_STATE in name:  # "<level> in <STATE>": an object that exists now, resolved now
                    level, state = name.split(IN_STATE, 1)
                    found = next((o for o in model.descendants(target, level) if o.state == state), None)
                    if found is not None:
                        data = with_value(dict(data), path, found.id)
            out.append(Resolved(entry, address, data))
    return out
