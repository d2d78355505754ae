"""Checks between spec files: names, levels and states that one file uses and another defines."""

from __future__ import annotations

from collections.abc import Iterator

from ..jsonpaths import MISSING, find
from .catalogue import Catalogue, EachAbout, EventList, SpecRef
from .yamlfile import SpecProblem


def cross_check(catalogue: Catalogue) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    levels = catalogue.levels

    def problem(ref: SpecRef, message: str) -> None:
        problems.append(SpecProblem(ref.file, ref.line, message))

    for event in catalogue.events.values():
        for level in sorted(event.levels - set(levels)):
            problem(event.ref, f"event {event.name}: level {level!r} is not in the state model")
        if event.creates_level is not None and event.creates_level not in levels:
            problem(event.ref, f"event {event.name}: creates unknown level {event.creates_level!r}")

    for owner, level, states, ref in _preconditions(catalogue):
        if level not in levels:
            problem(ref, f"{owner}: level {level!r} is not in the state model")
            continue
        for state in sorted(states - levels[level].states):
            problem(ref, f"{owner}: state {state!r} is not a state of {level} (states.yaml)")

    for owner, level, event_list in _event_lists(catalogue):
        problems.extend(_check_list(catalogue, owner, level, event_list))

    ready = catalogue.events.get(catalogue.startup.ready_event)
    if ready is None:
        problem(catalogue.startup.ref, f"the ready event {catalogue.startup.ready_event!r} is not defined")
    elif "session" not in ready.levels:
        problem(catalogue.startup.ref, f"the ready event {ready.name!r} is not a session-level event")
    return problems


def _preconditions(catalogue: Catalogue) -> Iterator[tuple[str, str, frozenset[str], SpecRef]]:
    for command in catalogue.commands.values():
        yield f"command {command.name}", command.level, command.when_states, command.ref
    for stimulus in catalogue.stimuli.values():
        yield f"stimulus {stimulus.name}", stimulus.level, stimulus.when_states, stimulus.ref


def _event_lists(catalogue: Catalogue) -> Iterator[tuple[str, str, EventList]]:
    for command in catalogue.commands.values():
        yield f"command {command.name}", command.level, command.events
    for stimulus in catalogue.stimuli.values():
        yield f"stimulus {stimulus.name}", stimulus.level, stimulus.events
    yield "the session start-up", "session", catalogue.startup.per_channel


def _check_list(catalogue: Catalogue, owner: str, target_level: str, event_list: EventList) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    levels = catalogue.levels
    bound: dict[str, str] = {"target": target_level, "session": "session"}
    parents = levels[target_level].parents if target_level in levels else ()
    if len(parents) == 1:
        bound["parent"] = parents[0]
    for entry in event_list.entries:

        def problem(message: str, ref: SpecRef = entry.ref) -> None:
            problems.append(SpecProblem(ref.file, ref.line, f"{owner}: {message}"))

        spec = catalogue.events.get(entry.event)
        if spec is None:
            problem(f"event {entry.event!r} is not defined in specs/events/")
            continue
        if isinstance(entry.about, EachAbout):
            about_level: str | None = entry.about.level
            for state in sorted((entry.about.in_state or frozenset()) - levels[entry.about.level].states):
                problem(f"state {state!r} is not a state of {entry.about.level}")
        else:
            about_level = bound.get(entry.about)
            if about_level is None:
                problem(
                    f"{entry.event} is about {entry.about!r}, which no earlier entry binds "
                    f"(use target, parent, session, or a name given by 'as': {sorted(bound)})"
                )
                continue
        if about_level not in spec.levels:
            problem(f"{entry.event} cannot be about a {about_level} (its levels: {sorted(spec.levels)})")
        if entry.binds is not None:
            if spec.creates_level is None:
                problem(f"'as: {entry.binds}' needs an event that creates an object; {entry.event} does not")
            else:
                created = levels.get(spec.creates_level)
                if created is not None and about_level not in created.parents:
                    problem(f"{entry.event} creates a {spec.creates_level}, which cannot live in a {about_level}")
                bound[entry.binds] = spec.creates_level
        if spec.sets_state_path and about_level is not None and about_level in levels:
            state = find(dict(entry.data), spec.sets_state_path)
            if state is not MISSING and state not in levels[about_level].states:
                problem(f"state {state!r} is not a state of {about_level} (states.yaml)")
        merged = {**spec.example, **entry.data}
        for message in spec.data.errors(merged):
            problem(f"{entry.event} data {dict(entry.data)} does not fit the event's schema: {message}")
    return problems
