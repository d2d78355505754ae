"""Refusals beyond the state (harness/core/refusals.py): situations found from the specs, distinct, bounded,
preferring other failing clauses, and a goal that names one accepts only an object in it."""

from __future__ import annotations

from dataclasses import replace

from harness.core.plan import REFUSED_STATE, Explorer, Goal
from harness.core.refusals import failing_clauses, refusals_beyond_state, situation_of
from harness.core.simulate import Platform
from harness.spec.catalogue import Catalogue

ALTERNATE = "interaction.alternate"


def _explorer(platform: Platform) -> Explorer:
    return Explorer(platform, stimuli=["call.inbound", "remote.answered", "remote.hangup"])


def test_alternate_is_refused_beyond_its_state_where_the_consult_call_still_dials(
    catalogue: Catalogue, platform: Platform
) -> None:
    command = catalogue.commands[ALTERNATE]
    found = refusals_beyond_state(command, _explorer(platform).walk(300), limit=10)
    situations = [refused.situation for refused in found]
    assert len(set(situations)) == len(situations) and found
    [dialing] = [r for r in found if "1 DIALING and 1 HELD" in r.describe()]
    assert dialing.clauses == ("with 1 conversations in CONNECTED",)
    assert "it has 0, not 1 conversations in CONNECTED" in dialing.why
    # distinct failing clauses come first, then the rest in the order a plan reaches them
    first = [r.clauses for r in found[: len({r.clauses for r in found})]]
    assert len(set(first)) == len(first)
    assert refusals_beyond_state(command, _explorer(platform).walk(300), limit=2) == found[:2]
    assert [r.situation for r in refusals_beyond_state(command, _explorer(platform).walk(300), 10)] == situations


def test_a_goal_naming_a_situation_accepts_only_an_object_in_it(catalogue: Catalogue, platform: Platform) -> None:
    command = catalogue.commands[ALTERNATE]
    found = refusals_beyond_state(command, _explorer(platform).walk(300), 10)
    [dialing] = [r for r in found if "1 DIALING and 1 HELD" in r.describe()]
    goal = Goal("interaction", ALTERNATE, decision=REFUSED_STATE, situation=dialing.situation)
    plan = _explorer(platform).plan(goal)
    assert plan is not None and "interaction.consult" in [step.name for step in plan.steps]
    other = next(r for r in found if r is not dialing)
    elsewhere = _explorer(platform).plan(replace(goal, situation=other.situation))
    assert elsewhere is not None and elsewhere.steps != plan.steps
    other = Goal("interaction", ALTERNATE, decision=REFUSED_STATE, situation=("the interaction is ACTIVE",))
    assert _explorer(platform).plan(other, limit=300) is None
    assert goal.key != Goal("interaction", ALTERNATE, decision=REFUSED_STATE).key


def test_no_clause_beyond_the_state_fails_where_the_state_alone_forbids_it(
    catalogue: Catalogue, platform: Platform
) -> None:
    command = catalogue.commands[ALTERNATE]
    for situation in _explorer(platform).walk(100):
        for obj in situation.model.of_level("interaction"):
            in_state = any(c.state is None or obj.state in c.state for c in command.when)
            failing = failing_clauses(command.when, situation.model, obj, situation.context())
            assert in_state or failing == []
            assert situation_of(command.when, situation.model, obj)[0] == f"the interaction is {obj.state}"
