"""Conditions evaluated: does an object (with a request's data, on a platform with its facts) satisfy one?

Preconditions of commands and stimuli, the outcomes that change a command's result, and the entries of
an event list that apply only sometimes are all :class:`~harness.spec.catalogue.Condition` data; this is
the one place that evaluates them, for the reference adapter, the planner and the checks alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..jsonpaths import MISSING
from ..spec.catalogue import Condition, Schema, with_facts
from .objects import MbObject, ObjectModel


@dataclass(frozen=True)
class Context:
    """What a condition may look at besides the object: the platform, its facts, the request's data."""

    platform: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    data: Any = MISSING


def unmet(condition: Condition, model: ObjectModel, obj: MbObject, context: Context) -> list[str]:
    """The parts of ``condition`` that do not hold, each as a short phrase (empty: it holds)."""
    problems = []
    if condition.state is not None and obj.state not in condition.state:
        problems.append(f"the {obj.level} is {obj.state}, not {' or '.join(sorted(condition.state))}")
    for facet, values in condition.facets.items():
        value = obj.facets.get(facet)
        if value not in values:
            problems.append(f"its {facet} is {value!r}, not {' or '.join(repr(v) for v in values)}")
    if condition.media is not None:
        media = model.media_of(obj)
        # a channel whose media the adapter does not name: that it is of this media is a guess that holds
        # (the runner's model only; decisions that read it are conventions: simulate.py)
        if media not in condition.media and not (media is None and model.guess_media):
            problems.append(f"it is a {media or 'unknown'} {obj.level}, not {'/'.join(sorted(condition.media))}")
    for level, counts in condition.count.items():
        for count in counts:
            number = sum(
                1
                for child in model.descendants(obj.address, level)
                if (count.states is None or child.state in count.states)
                and (count.initialized is None or child.initialized == count.initialized)
            )
            if (count.min is not None and number < count.min) or (count.max is not None and number > count.max):
                problems.append(f"it has {number}, not {count.describe(level)}")
    if condition.parent is not None:
        parent = model.parent_of(obj)
        if parent is None:
            problems.append("it has no parent")
        else:
            problems += [f"its {parent.level}: {p}" for p in unmet(condition.parent, model, parent, context)]
    if condition.platform is not None and context.platform not in condition.platform:
        problems.append(f"the platform is {context.platform}, not {'/'.join(sorted(condition.platform))}")
    for fact, schema in condition.facts.items():
        if fact not in context.facts or schema.errors(context.facts[fact]):
            problems.append(f"the platform's {fact} is not {dict(schema.document)}")
    if condition.data is not None:
        schema = _with_facts(condition.data, context.facts)
        if context.data is MISSING or schema.errors(context.data):
            problems.append(f"the data is not {dict(schema.document)}")
    return problems


_FACT_SCHEMAS: dict[tuple[str, str], Schema] = {}


def _with_facts(schema: Schema, facts: Mapping[str, Any]) -> Schema:
    """A data schema that names facts (``$fact:NAME``), with their values; compiled once per fact set."""
    if not schema.names_facts:
        return schema
    key = (repr(schema.document), repr(sorted(facts.items())))
    if key not in _FACT_SCHEMAS:
        if len(_FACT_SCHEMAS) > 256:
            _FACT_SCHEMAS.clear()
        _FACT_SCHEMAS[key] = Schema.of(with_facts(schema.document, facts))
    return _FACT_SCHEMAS[key]


def holds(condition: Condition, model: ObjectModel, obj: MbObject, context: Context) -> bool:
    return not unmet(condition, model, obj, context)


def legal(when: tuple[Condition, ...], model: ObjectModel, obj: MbObject, context: Context) -> list[str]:
    """Why a precondition (alternatives) does not hold; empty if one alternative holds (or there is none)."""
    if not when:
        return []
    reasons = []
    for condition in when:
        problems = unmet(condition, model, obj, context)
        if not problems:
            return []
        reasons.append(" and ".join(problems))
    return reasons
