from __future__ import annotations

from typing import Any

from harness.core.expect import EventExpectation, check_response, contains
from harness.core.messages import Event, Response
from harness.core.simulate import Platform
from harness.core.violations import Category, Verdict
from harness.spec.catalogue import Catalogue


def as_event(raw: dict[str, Any]) -> Event:
    return Event(raw["name"], raw["target"], raw["data"], raw)


def dial(platform: Platform) -> tuple[EventExpectation, list[Event]]:
    """Start an expectation for channel.dial, and the events a conforming adapter sends for it."""
    channel = platform.model.session.address + ".chan1"  # type: ignore[union-attr]
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    spec = platform.catalogue.commands["channel.dial"]
    expectation = EventExpectation.start(
        "channel.dial", platform.catalogue, spec.events, channel, platform.model.copy(), platform.context()
    )
    outcome = platform.handle({"command": "channel.dial", "target": channel, "data": {"destination": "1"}})
    return expectation, [as_event(e) for e in outcome.events]


def test_the_events_of_a_conforming_adapter_satisfy_the_list(platform: Platform) -> None:
    expectation, events = dial(platform)
    for event in events:
        assert expectation.offer(event)
    assert expectation.done
    assert expectation.finish("not seen") == []
    assert set(expectation.bindings()) == {"interaction", "conversation"}


def test_a_dropped_event_is_missing_and_names_its_entry_and_spec_line(platform: Platform) -> None:
    expectation, events = dial(platform)
    dropped = events.pop(9)
    for event in events:
        expectation.offer(event)
    assert not expectation.done
    [violation] = expectation.finish("did not arrive")
    assert violation.category is Category.MISSING_EVENT
    assert dropped.name in violation.message and "entry 10 of 11" in violation.message
    assert violation.ref is not None and violation.ref.file.endswith("channel.dial.yaml")


def test_a_late_event_is_a_wrong_order_not_a_missing_one(platform: Platform) -> None:
    expectation, events = dial(platform)
    events[9], events[10] = events[10], events[9]
    for event in events:
        expectation.offer(event)
    assert expectation.done
    [violation] = expectation.finish("x")
    assert violation.category is Category.WRONG_ORDER
    assert "(entry 10) arrived after" in violation.message


def test_an_extra_event_in_a_complete_list_is_unexpected(platform: Platform) -> None:
    expectation, events = dial(platform)
    events.insert(3, events[0])
    for event in events:
        expectation.offer(event)
    [violation] = expectation.finish("x")
    assert violation.category is Category.UNEXPECTED_EVENT
    assert "a second channel.infochanged" in violation.message


def test_events_about_other_objects_are_out_of_scope(platform: Platform) -> None:
    expectation, events = dial(platform)
    stranger = Event("channel.infochanged", "S9.other", {}, {})
    assert not expectation.offer(stranger)
    for event in events:
        expectation.offer(event)
    assert expectation.finish("x") == []


def test_wrong_event_data_of_an_inferred_payload_is_a_convention_shape_mismatch(platform: Platform) -> None:
    expectation, events = dial(platform)
    events[1] = Event(events[1].name, events[1].target, {"state": "ACTIVE"}, {})  # the channel stays ACTIVE
    for event in events:
        expectation.offer(event)
    [violation] = expectation.finish("x")
    assert violation.category is Category.CONVENTION and violation.kind is Category.SHAPE_MISMATCH
    assert violation.verdict is Verdict.WARN
    assert violation.expected == {"state": "BUSY"}


def test_an_incomplete_list_does_not_judge_extra_events(catalogue: Catalogue, platform: Platform) -> None:
    hold = catalogue.commands["conversation.hold"].events
    assert not hold.complete
    expectation = EventExpectation.start(
        "conversation.hold", catalogue, hold, "S1.chan1.i.c", platform.model, platform.context()
    )
    expectation.offer(Event("channel.infochanged", "S1.chan1", {}, {}))
    expectation.offer(Event("state.updated", "S1.chan1.i.c", {"state": "HELD"}, {}))
    assert expectation.done and expectation.finish("x") == []


def test_optional_and_repeatable_entries(catalogue: Catalogue, platform: Platform) -> None:
    per_channel = catalogue.startup.per_channel
    expectation = EventExpectation.start(
        "start-up", catalogue, per_channel, "S1", platform.model, platform.context()
    )
    feed = [
        Event("channel.created", "S1", {"channel": {"id": "c9", "media": "chat"}}, {}),
        Event("channel.infochanged", "S1.c9", {}, {}),
        Event("channel.infochanged", "S1.c9", {}, {}),
        Event("channel.initialized", "S1.c9", {}, {}),
    ]
    for event in feed:
        expectation.offer(event)
    assert expectation.done and expectation.finish("x") == []
    without = EventExpectation.start("start-up", catalogue, per_channel, "S1", platform.model, platform.context())
    for event in (feed[0], feed[3]):
        without.offer(event)
    assert without.done and without.finish("x") == []


def test_success_must_echo_the_request_data(catalogue: Catalogue) -> None:
    request = {"command": "channel.dial", "target": "S1.c", "data": {"destination": "1"}}
    good = Response("channel.dial", "S1.c", "success", {**request, "result": "success"})
    assert check_response(catalogue, request, good, frozenset({"success"}), None) == []
    bad = Response("channel.dial", "S1.c", "success", {**request, "result": "success", "data": {}})
    [violation] = check_response(catalogue, request, bad, frozenset({"success"}), None)
    assert violation.title == "wrong echo" and violation.expected == {"destination": "1"}


def test_a_failure_needs_code_message_and_the_original_request(catalogue: Catalogue) -> None:
    request = {"command": "conversation.hold", "target": "S1.x", "data": {}}
    raw = {"command": "conversation.hold", "target": "S1.x", "result": "failure", "failure": {"message": "no"}}
    violations = check_response(
        catalogue, request, Response("conversation.hold", "S1.x", "failure", raw), frozenset({"failure"}), None
    )
    messages = " | ".join(v.message for v in violations)
    assert "'original' is a required property" in messages and "'code' is a required property" in messages
    assert all(v.category is Category.SHAPE_MISMATCH for v in violations)


def test_an_unexpected_result_is_a_wrong_result(catalogue: Catalogue) -> None:
    request = {"command": "conversation.hold", "target": "S1.x", "data": {}}
    raw = {**request, "result": "success"}
    [violation] = check_response(
        catalogue, request, Response("conversation.hold", "S1.x", "success", raw), frozenset({"failure"}), None
    )
    assert violation.category is Category.WRONG_RESULT


def test_contains_compares_mappings_member_by_member() -> None:
    assert contains({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3})
    assert not contains({"a": {"b": 1}}, {"a": {"b": 2}})
    assert not contains({"a": 1}, [1])


def _consulting(platform: Platform) -> tuple[str, str]:
    channel = "S1.chan1"
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    platform.stimulate("call.inbound", channel)
    interaction, caller = platform.last_bound["interaction"], platform.last_bound["conversation"]
    platform.handle({"command": "interaction.accept", "target": interaction, "data": {}})
    return interaction, caller


def test_a_focus_on_the_wrong_call_is_the_printed_focus_event_with_other_data(platform: Platform) -> None:
    """000 prints interaction.focuschanged in consult's list but not its data: the focus on the new call is
    the catalogue's reading, so another focus is a convention (a warning of kind shape mismatch), not a
    missing event."""
    interaction, caller = _consulting(platform)
    consult = platform.catalogue.commands["interaction.consult"]
    request = {"command": consult.name, "target": interaction, "data": {"destination": "2"}}
    expectation = EventExpectation.start(
        consult.name, platform.catalogue, consult.events, interaction, platform.model.copy(), platform.context()
    )
    events = [as_event(e) for e in platform.handle(request).events]
    focus = events[-1]
    assert focus.name == "interaction.focuschanged"
    wrong = {**focus.raw, "data": {"conversation": {"id": caller.rsplit(".", 1)[1]}}}
    for event in [*events[:-1], as_event(wrong)]:
        expectation.offer(event)
    [violation] = expectation.finish("did not arrive")
    consult_id = platform.last_bound["consult"].rsplit(".", 1)[1]
    assert violation.kind is Category.SHAPE_MISMATCH and "interaction.focuschanged" in violation.message
    assert violation.verdict is Verdict.WARN
    assert violation.expected == {"conversation": {"id": consult_id}}


def test_entries_with_if_are_expected_only_where_they_apply(platform: Platform) -> None:
    interaction, caller = _consulting(platform)
    release = platform.catalogue.commands["conversation.release"]
    last = EventExpectation.start(
        release.name, platform.catalogue, release.events, caller, platform.model, platform.context()
    )
    assert [slot.entry.event for slot in last.slots] == ["state.updated", "interaction.ended", "state.updated"]
    platform.handle({"command": "interaction.consult", "target": interaction, "data": {"destination": "2"}})
    one_of_two = EventExpectation.start(
        release.name, platform.catalogue, release.events, caller, platform.model, platform.context()
    )
    assert [slot.entry.event for slot in one_of_two.slots] == ["state.updated"]


def test_a_needinfo_response_is_checked_against_its_outcome(catalogue: Catalogue) -> None:
    outcome = next(o for o in catalogue.commands["channel.dial"].outcomes if o.name == "outbound-skill")
    assert outcome.response is not None
    request = {"command": "channel.dial", "target": "S1.c", "data": {"destination": "1"}}
    raw = {**request, "result": "needinfo", "original": request, "uiExtension": {"id": "inContact.outboundskill"}}
    response = Response(raw["command"], raw["target"], "needinfo", raw)
    extra = ("needinfo", outcome.response, outcome.ref)
    [violation] = check_response(catalogue, request, response, frozenset({"needinfo"}), None, extra)
    assert "'skills' is a required property" in violation.message and violation.ref == outcome.ref


def _answered(platform: Platform, named: str | None) -> tuple[EventExpectation, list[Event], str]:
    """The far end answers an outbound call: the expectation of remote.answered on the dialled call, and the
    events of a conforming adapter; ``named``: the adapter's name for the interaction's state (DIALING)."""
    expectation, events = dial(platform)
    for event in events:
        expectation.offer(event)
    model = expectation.model
    assert model is not None
    model.shared_states = {"interaction": {"active": ("DIALING", "ACTIVE")}}
    interaction, conversation = expectation.bindings()["interaction"], expectation.bindings()["conversation"]
    for event in events:
        model.apply(event)
    model.objects[interaction].named = named
    stimulus = platform.catalogue.stimuli["remote.answered"]
    answered = EventExpectation.start(
        "remote.answered", platform.catalogue, stimulus.events, conversation, model, platform.context()
    )
    return answered, [as_event(e) for e in platform.stimulate("remote.answered", conversation)], interaction


def test_a_change_the_adapters_state_name_cannot_show_is_owed_no_event(platform: Platform) -> None:
    """An adapter that calls a dialled interaction ``active`` from the start (``states: {interaction: {active:
    [DIALING, ACTIVE]}}``) has no event to send when the far end answers and the catalogue reads the
    interaction going ACTIVE: that entry is not missing, and the interaction is ACTIVE from then on. Without
    the declaration, the same silence is a missing event (a convention)."""
    answered, events, interaction = _answered(platform, "active")
    assert [e.name for e in events] == ["state.updated", "state.updated"]
    answered.offer(events[0])  # the call is connected; the interaction's change is not sent
    assert answered.done  # nothing more is waited for
    assert answered.model is not None and answered.model.objects[interaction].state == "DIALING"
    answered.take_hidden()  # the step ends with the list done: the change the name hides is taken
    assert answered.model.objects[interaction].state == "ACTIVE"
    assert answered.finish("not seen") == []
    undeclared, events, _ = _answered(_fresh(platform), None)
    undeclared.offer(events[0])
    assert not undeclared.done
    [missing] = undeclared.finish("not seen")
    assert missing.category is Category.CONVENTION and "state.updated" in missing.message


def _fresh(platform: Platform) -> Platform:
    fresh = Platform(platform.catalogue)
    fresh.startup([{}], "S1")
    return fresh
