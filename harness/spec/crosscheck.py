"""Checks between spec files: names, levels and states that one file uses and another defines."""

from __future__ import annotations

from collections.abc import Iterator

from ..jsonpaths import MISSING, find
from .catalogue import Catalogue, Condition, EachAbout, EventList, SpecRef, with_facts
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

        for key in sorted(set(event.sets) - {"state"}):
            if not any(key in levels[level].facets for level in event.levels & set(levels)):
                problem(event.ref, f"event {event.name}: sets {key!r}, which is a facet of none of its levels")

    for owner, level, conditions, ref in _conditions(catalogue):
        if level not in levels:
            problem(ref, f"{owner}: level {level!r} is not in the state model")
            continue
        for condition in conditions:
            for message in _check_condition(catalogue, level, condition):
                problem(ref, f"{owner}: {message}")

    for command in catalogue.commands.values():
        for outcome in command.outcomes:
            owner = f"command {command.name}, outcome {outcome.name}"
            if outcome.result not in command.results:
                problem(outcome.ref, f"{owner}: result {outcome.result!r} is not among the command's results")
            if outcome.failure is not None and outcome.failure not in catalogue.protocol.failure_codes:
                problem(
                    outcome.ref, f"{owner}: failure {outcome.failure!r} is not in protocol.yaml's failure_codes"
                )
            for follow in outcome.then:
                if follow.stimulus is not None and follow.stimulus not in catalogue.stimuli:
                    problem(outcome.ref, f"{owner}: the stimulus {follow.stimulus!r} is not defined")
                for platform in sorted(command.platforms & set(catalogue.platforms)):
                    if follow.data is None or not outcome.when.platform or platform not in outcome.when.platform:
                        continue
                    data = with_facts(follow.data, catalogue.platforms[platform].facts)
                    for message in command.request_errors(platform, data):
                        problem(outcome.ref, f"{owner}: follow-up data on {platform} {data}: {message}")
        for platform in command.platforms - set(catalogue.platforms):
            problem(command.ref, f"command {command.name}: platform {platform!r} is not in platforms.yaml")

    for owner, level, event_list in _event_lists(catalogue):
        problems.extend(_check_list(catalogue, owner, level, event_list))

    ready = catalogue.events.get(catalogue.startup.ready_event)
    if ready is None:
        problem(catalogue.startup.ref, f"the ready event {catalogue.startup.ready_event!r} is not defined")
    elif "session" not in ready.levels:
        problem(catalogue.startup.ref, f"the ready event {ready.name!r} is not a session-level event")
    group = catalogue.startup.per_group
    if group is not None:
        spec = catalogue.commands.get(group)
        if spec is None:
            problem(catalogue.startup.ref, f"per_group: {group!r} is not a command of the catalogue")
        elif spec.level != "session":
            problem(catalogue.startup.ref, f"per_group: {group} is a {spec.level} command, not a session one")
    activation = catalogue.startup.activation
    if activation is not None:
        spec = catalogue.commands.get(activation)
        if spec is None:
            problem(catalogue.startup.ref, f"activation: {activation!r} is not a command of the catalogue")
        else:
            announced = {
                catalogue.events[e.event].creates_level
                for e in catalogue.startup.per_channel.entries
                if e.event in catalogue.events and catalogue.events[e.event].creates_level
            }
            if spec.level not in announced:
                problem(
                    catalogue.startup.ref,
                    f"activation: {activation} is a {spec.level} command; the start-up announces "
                    f"{', '.join(sorted(str(level) for level in announced)) or 'nothing'}",
                )
    return problems


def _conditions(catalogue: Catalogue) -> Iterator[tuple[str, str, tuple[Condition, ...], SpecRef]]:
    for command in catalogue.commands.values():
        yield f"command {command.name}", command.level, command.when, command.ref
        for outcome in command.outcomes:
            yield f"command {command.name}, outcome {outcome.name}", command.level, (outcome.when,), outcome.ref
    for stimulus in catalogue.stimuli.values():
        yield f"stimulus {stimulus.name}", stimulus.level, stimulus.when, stimulus.ref
    for event in catalogue.events.values():
        if event.requires:
            for level in sorted(event.levels):
                yield f"event {event.name}, requires", level, event.requires, event.ref
    for owner, level, event_list in _event_lists(catalogue):
        for entry in event_list.entries:
            if entry.only_if is not None:
                yield f"{owner}, {entry.event}", level, (entry.only_if,), entry.ref


def _check_condition(catalogue: Catalogue, level: str, condition: Condition) -> list[str]:
    """Names a condition uses that the state model, the platforms or the facts do not define."""
    levels = catalogue.levels
    spec = levels[level]
    problems = [
        f"state {state!r} is not a state of {level} (states.yaml)"
        for state in sorted((condition.state or set()) - spec.states)
    ]
    for facet, values in condition.facets.items():
        facet_spec = spec.facets.get(facet)
        if facet_spec is None:
            problems.append(f"{facet!r} is no facet of {level} (states.yaml)")
        elif facet_spec.values is not None:
            problems += [
                f"{value!r} is not a value of {level}'s {facet}"
                for value in values
                if value not in facet_spec.values
            ]
    for child, counts in condition.count.items():
        if child not in levels:
            problems.append(f"count: {child!r} is not a level")
            continue
        problems += [
            f"count: {state!r} is not a state of {child}"
            for count in counts
            for state in sorted((count.states or set()) - levels[child].states)
        ]
        if any(count.initialized is not None for count in counts) and child not in catalogue.initialized_levels:
            problems.append(f"count: no event initializes a {child}, so none is ever initialized")
    problems += [
        f"platform {name!r} is not in platforms.yaml"
        for name in sorted((condition.platform or set()) - set(catalogue.platforms))
    ]
    problems += [
        f"fact {name!r} is not declared in platforms.yaml"
        for name in sorted(set(condition.facts) - set(catalogue.facts))
    ]
    if condition.parent is not None:
        if not spec.parents:
            problems.append(f"a {level} has no parent")
        else:
            problems += _check_condition(catalogue, spec.parents[-1], condition.parent)
    return problems


def _event_lists(catalogue: Catalogue) -> Iterator[tuple[str, str, EventList]]:
    for command in catalogue.commands.values():
        yield f"command {command.name}", command.level, command.events
        for outcome in command.outcomes:
            if outcome.events is not None:
                yield f"command {command.name}, outcome {outcome.name}", command.level, outcome.events
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
        if about_level is not None and about_level in levels:
            for key, path in spec.sets.items():
                value = find(dict(entry.data), path)
                if value is MISSING:
                    continue
                if key == "state" and value not in levels[about_level].states:
                    problem(f"state {value!r} is not a state of {about_level} (states.yaml)")
                facet = levels[about_level].facets.get(key)
                if key != "state" and facet is None:
                    problem(f"{key!r} is no facet of {about_level} (states.yaml)")
                if facet is not None and facet.values is not None and value not in facet.values:
                    problem(f"{value!r} is not a value of {about_level}'s {key} (states.yaml)")
            for before, after in entry.swap.items():
                for state in (before, after):
                    if state not in levels[about_level].states:
                        problem(f"swap: {state!r} is not a state of {about_level} (states.yaml)")
            if entry.swap and not spec.sets_state_path:
                problem(f"swap needs an event that sets a state; {entry.event} does not")
        for name in entry.refer.values():
            if " in " in name:
                level, state = name.split(" in ", 1)
                if level not in levels or state not in levels[level].states:
                    problem(f"refer: {name!r} names no level and state of states.yaml")
            elif name not in bound:
                problem(f"refer: {name!r} is not bound by an earlier entry")
        merged = {**spec.example, **entry.data}
        for message in spec.data.errors(merged):
            problem(f"{entry.event} data {dict(entry.data)} does not fit the event's schema: {message}")
    return problems
