"""Refusals beyond the state: a command's target is in a state its precondition allows, but another clause
of it fails (a count of children in given states, the parent's state, a facet).

The precondition (``when:`` of a command spec) is alternatives of clauses. An alternative is *in reach* of an
object when its state clause holds and so do the clauses no set-up can change (the media of the channel, the
platform, its facts, the request's data); its other clauses (counts, parent, facets) are what a situation
changes. A *situation* is what the precondition looks at of an object, said in the protocol's words (its
state, how many children of a counted level it has in each state, its parent's situation, the facets named):
the cases generate one refusal per distinct situation they can reach, preferring situations where other
clauses fail. Nothing here knows a state, an event or a command: everything comes from the conditions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..spec.catalogue import CommandSpec, Condition, with_facts
from .conditions import Context, unmet
from .objects import MbObject, ObjectModel

if TYPE_CHECKING:
    from .simulate import Platform

INVALID_STATE = "invalid_state"  # the refusal reason of a precondition that does not hold (simulate.py)


def situation_of(
    when: tuple[Condition, ...], model: ObjectModel, obj: MbObject, who: str | None = None
) -> tuple[str, ...]:
    """What the precondition ``when`` looks at of ``obj``, in the protocol's words: its state, its children of
    each counted level by state, the facets named, and its parent's situation for the parent's clauses."""
    subject = who or f"the {obj.level}"
    parts = [f"{subject} is {obj.state}"]
    who = who or "it"
    for level in sorted({level for condition in when for level in condition.count}):
        initialized = any(count.initialized is not None for c in when for count in c.count.get(level, ()))
        children = Counter(
            f"{child.state}{'' if not initialized else ' initialized' if child.initialized else ' uninitialized'}"
            for child in model.descendants(obj.address, level)
        )
        total = sum(children.values())
        listed = " and ".join(f"{number} {state}" for state, number in sorted(children.items())) or "no"
        parts.append(f"{who} has {listed} {level}{'' if total == 1 else 's'}")
    for facet in sorted({name for condition in when for name in condition.facets}):
        parts.append(f"{'its' if who == 'it' else who + chr(39) + 's'} {facet} is {obj.facets.get(facet)!r}")
    parents = tuple(condition.parent for condition in when if condition.parent is not None)
    if parents:
        parent = model.parent_of(obj)
        if parent is None:
            parts.append(f"{who} has no parent")
        else:
            parts += situation_of(parents, model, parent, f"its {parent.level}")
    return tuple(parts)


def _fixed(condition: Condition) -> Condition:
    """The clauses of ``condition`` no set-up changes: state, media, platform, facts, data."""
    return Condition(
        state=condition.state,
        media=condition.media,
        platform=condition.platform,
        facts=condition.facts,
        data=condition.data,
    )


def _clauses(condition: Condition) -> Iterator[Condition]:
    """The clauses of ``condition`` a situation changes, each as a condition of its own."""
    for level, counts in condition.count.items():
        for count in counts:
            yield Condition(count={level: (count,)})
    for facet, values in condition.facets.items():
        yield Condition(facets={facet: values})
    if condition.parent is not None:
        yield Condition(parent=condition.parent)


def failing_clauses(
    when: tuple[Condition, ...], model: ObjectModel, obj: MbObject, context: Context
) -> list[list[tuple[str, str]]]:
    """For each alternative of ``when`` in reach of ``obj`` (its state and fixed clauses hold), the clauses that
    fail: (the clause as the spec says it, what is wrong in the protocol's words). Empty: no alternative is
    in reach (a refusal for the state or the media only) or one holds."""
    failing: list[list[tuple[str, str]]] = []
    for condition in when:
        if unmet(_fixed(condition), model, obj, context):
            continue
        clause_problems = [
            (clause.describe(), "; ".join(problems))
            for clause in _clauses(condition)
            if (problems := unmet(clause, model, obj, context))
        ]
        if not clause_problems:
            return []  # this alternative holds
        failing.append(clause_problems)
    return failing


@dataclass(frozen=True)
class BeyondState:
    """A reachable situation in which the command is refused although its target's state allows it."""

    situation: tuple[str, ...]
    clauses: tuple[str, ...]  # the clauses that fail, as the spec says them
    why: str  # what is wrong, in the protocol's words
    inferred: str | None = None  # why the refusal there is the catalogue's reading (None: the seeds say it)

    def describe(self) -> str:
        return ", ".join(self.situation)

    @property
    def failing(self) -> str:
        """The failing clauses as the spec says them."""
        return " and ".join(self.clauses)


def refusals_beyond_state(command: CommandSpec, situations: Iterable[Platform], limit: int) -> list[BeyondState]:
    """Up to ``limit`` distinct situations of ``situations`` (simulated platforms, in the order a plan would
    reach them) where ``command`` is refused on an object whose state its precondition allows: first one per
    distinct set of failing clauses, in order of appearance, then the next situations in order."""
    found: dict[tuple[str, ...], BeyondState] = {}
    for platform in situations:
        data: Any = dict(command.example_for(platform.platform))
        for obj in platform.model.of_level(command.level):
            if not any(condition.state is None or obj.state in condition.state for condition in command.when):
                continue
            situation = situation_of(command.when, platform.model, obj)
            if situation in found:
                continue
            request = {"command": command.name, "target": obj.address, "data": with_facts(data, platform.facts)}
            decision = platform.decide(request)
            if decision.refusal is None or decision.refusal.reason != INVALID_STATE:
                continue
            failing = failing_clauses(command.when, platform.model, obj, platform.context(request["data"]))
            if failing:
                clauses = tuple(sorted({clause for alternative in failing for clause, _ in alternative}))
                why = "; or ".join(" and ".join(what for _, what in alternative) for alternative in failing)
                found[situation] = BeyondState(situation, clauses, why, decision.inferred)
    return _choose(list(found.values()), limit)


def _choose(candidates: list[BeyondState], limit: int) -> list[BeyondState]:
    chosen: list[BeyondState] = []
    seen: set[tuple[str, ...]] = set()
    for candidate in candidates:
        if candidate.clauses not in seen:
            seen.add(candidate.clauses)
            chosen.append(candidate)
    chosen += [candidate for candidate in candidates if candidate not in chosen]
    return chosen[:limit]


def beyond_state(condition: Condition) -> bool:
    """``condition`` has clauses beyond the state that a situation changes."""
    return bool(condition.count or condition.facets or condition.parent is not None)
