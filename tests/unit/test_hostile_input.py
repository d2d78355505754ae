"""Input from the IUT never crashes the core: regression tests for values a hostile adapter can send."""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core.expect import EventExpectation, check_response
from harness.core.messages import Event, Malformed, Response, classify
from harness.core.plan import Goal, find_plan
from harness.core.simulate import Platform
from harness.core.violations import Category
from harness.spec.catalogue import Catalogue, EventList


def test_a_result_that_is_not_a_string_is_a_shape_mismatch(catalogue: Catalogue) -> None:
    request = {"command": "conversation.hold", "target": "S1.x", "data": {}}
    for result in ([], {}, None, 3):
        raw = {**request, "result": result}
        [violation] = check_response(
            catalogue, request, Response("conversation.hold", "S1.x", result, raw), frozenset({"success"}), None
        )
        assert violation.category is Category.SHAPE_MISMATCH


def test_a_state_that_is_not_a_string_is_a_problem_not_a_crash(platform: Platform) -> None:
    for state in ([], {}, None, 1.5):
        applied = platform.model.apply(Event("state.updated", "S1.chan1", {"state": state}, {}))
        assert applied.problems


def test_deeply_nested_json_is_malformed() -> None:
    deep: object = {}
    for _ in range(100):
        deep = {"a": deep}
    message = classify(json.dumps({"messageType": "objectEvent", "target": "S1", "name": "x", "data": deep}))
    assert isinstance(message, Malformed) and "nested deeper" in message.reason


def test_the_planner_stays_small_however_many_channels_are_announced(catalogue: Catalogue) -> None:
    platform = Platform(catalogue)
    platform.startup([{} for _ in range(300)], "S1")
    plan = find_plan(platform, Goal("conversation", state="HELD"))
    assert plan is not None and len(plan.steps) == 4


def test_an_entry_whose_data_fits_is_preferred_to_an_optional_one_that_does_not(
    catalogue: Catalogue, platform: Platform
) -> None:
    base = catalogue.commands["channel.activate"].events
    [entry] = base.entries
    optional_busy = replace(entry, data={"state": "BUSY"}, optional=True)
    listed = EventList(base.provenance, True, False, (optional_busy, entry), base.ref)
    expectation = EventExpectation.start("test", catalogue, listed, "S1.chan1", platform.model, platform.context())
    expectation.offer(Event("state.updated", "S1.chan1", {"state": "ACTIVE"}, {}))
    assert expectation.done and expectation.finish("x") == []


def test_a_step_wants_only_events_its_list_expects_next(catalogue: Catalogue, platform: Platform) -> None:
    hold = catalogue.commands["conversation.hold"].events
    expectation = EventExpectation.start(
        "conversation.hold", catalogue, hold, "S1.chan1.i.c", platform.model, platform.context()
    )
    assert expectation.wants(Event("state.updated", "S1.chan1.i.c", {"state": "HELD"}, {}))
    assert not expectation.wants(Event("channel.infochanged", "S1.chan1", {}, {}))
