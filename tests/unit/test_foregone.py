"""When what arrived already decides a step (issue 16): an entry overtaken in a list that forbids reordering
can only come in the wrong order or never, and the step ends at once where the profile weighs both as a
failure. Pure: the expectation and the profile's adopted areas, no session."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.core.expect import LATE_REASON, EventExpectation, certain
from harness.core.messages import Event
from harness.core.simulate import Platform
from harness.core.violations import Category, Verdict
from harness.spec.catalogue import EventList

NONE: frozenset[str] = frozenset()


def as_event(raw: dict[str, Any]) -> Event:
    return Event(raw["name"], raw["target"], raw["data"], raw)


def dial(platform: Platform, event_list: EventList | None = None) -> tuple[EventExpectation, list[Event]]:
    """channel.dial's expectation (its printed list, or ``event_list``) and a conforming adapter's events."""
    channel = platform.model.session.address + ".chan1"  # type: ignore[union-attr]
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    spec = platform.catalogue.commands["channel.dial"]
    expectation = EventExpectation.start(
        "channel.dial",
        platform.catalogue,
        event_list or spec.events,
        channel,
        platform.model.copy(),
        platform.context(),
    )
    outcome = platform.handle({"command": "channel.dial", "target": channel, "data": {"destination": "1"}})
    return expectation, [as_event(e) for e in outcome.events]


def test_an_overtaken_entry_of_a_printed_ordered_list_decides_the_step(platform: Platform) -> None:
    expectation, events = dial(platform)
    preview = events.pop(9)  # dial-without-preview: entry 10 never comes
    for event in events[:-1]:
        expectation.offer(event)
        assert not certain(expectation, NONE)  # still open: entry 10 may come in order
    expectation.offer(events[-1])  # entry 11 came without it
    assert certain(expectation, NONE)
    [(order, missing)] = expectation.foregone()
    assert order.category is Category.WRONG_ORDER and missing.category is Category.MISSING_EVENT
    assert order.verdict is missing.verdict is Verdict.FAIL
    [violation] = expectation.finish("", decided=True)
    assert violation.category is Category.MISSING_EVENT
    assert preview.name in violation.message and "entry 10 of 11" in violation.message
    assert LATE_REASON in violation.message and "(entry 11) came without it" in violation.message


def test_the_late_entry_arriving_afterwards_is_the_wrong_order_foreseen(platform: Platform) -> None:
    expectation, events = dial(platform)
    events[9], events[10] = events[10], events[9]
    for event in events[:10]:
        expectation.offer(event)
    [(order, _)] = expectation.foregone()
    expectation.offer(events[10])
    [violation] = expectation.finish("x")
    assert violation.category is order.category is Category.WRONG_ORDER
    assert violation.verdict is order.verdict


def test_only_the_overtaken_entries_are_missing_when_the_step_ends_early(platform: Platform) -> None:
    expectation, events = dial(platform)
    del events[10]  # entry 11 has not come yet: not waited for, not reported
    del events[8]  # entry 9 overtaken by entry 10
    for event in events:
        expectation.offer(event)
    assert certain(expectation, NONE)
    [violation] = expectation.finish("", decided=True)
    assert "entry 9 of 11" in violation.message
    fresh = Platform(platform.catalogue)
    fresh.startup([{}], "S1")
    full, full_events = dial(fresh)
    del full_events[10]
    del full_events[8]
    for event in full_events:
        full.offer(event)
    assert len(full.finish("did not arrive")) == 2  # waiting to the end: both are missing


def test_a_list_that_allows_interleaving_is_never_decided_early(platform: Platform) -> None:
    spec = platform.catalogue.commands["channel.dial"].events
    assert spec is not None
    expectation, events = dial(platform, replace(spec, interleave_allowed=True))
    events[9], events[10] = events[10], events[9]
    for event in events[:10]:
        expectation.offer(event)
    assert expectation.late and expectation.foregone() == [] and not certain(expectation, NONE)


def test_an_inferred_list_only_warns_so_it_decides_only_where_the_profile_adopts_its_events(
    platform: Platform,
) -> None:
    spec = platform.catalogue.commands["channel.dial"].events
    assert spec is not None
    inferred = replace(spec, provenance="inferred", reason="a convention for the test")
    expectation, events = dial(platform, inferred)
    del events[9]
    for event in events:
        expectation.offer(event)
    [(order, missing)] = expectation.foregone()
    assert order.verdict is missing.verdict is Verdict.WARN
    assert not certain(expectation, NONE)  # a warning: the step waits, something else may still fail it
    assert certain(expectation, frozenset({"events"}))  # adopted: a failure either way


def test_an_optional_entry_passed_over_is_no_verdict(platform: Platform) -> None:
    spec = platform.catalogue.commands["channel.dial"].events
    assert spec is not None
    entries = list(spec.entries)
    entries[9] = replace(entries[9], optional=True)
    expectation, events = dial(platform, replace(spec, entries=tuple(entries)))
    del events[9]
    for event in events:
        expectation.offer(event)
    assert expectation.done and expectation.foregone() == [] and not certain(expectation, NONE)
