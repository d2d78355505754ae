"""Provenance decides the verdict (issue 14): what the seeds print is a MUST, what the catalogue infers is a
convention, and a deviation from a convention the profile did not declare is a warning, never a failure.

Each rule is shown twice: an adapter that breaks what the seeds print is still failed, and an adapter with
another legal convention is only warned.
"""

from __future__ import annotations

import json
from typing import Any

from harness.core.expect import EventExpectation, check_response, contains
from harness.core.messages import Event, Response
from harness.core.simulate import Platform, command_basis
from harness.core.violations import AREAS, Category, Severity, Verdict, Violation, adopted
from harness.spec.catalogue import Catalogue


def as_event(raw: dict[str, Any]) -> Event:
    return Event(raw["name"], raw["target"], raw["data"], raw)


def expect(platform: Platform, command: str, target: str, data: dict[str, Any] | None = None) -> EventExpectation:
    decision = platform.decide({"command": command, "target": target, "data": data or {}})
    assert decision.events is not None, decision
    return EventExpectation.start(
        command, platform.catalogue, decision.events, target, platform.model.copy(), platform.context()
    )


def inbound_call(platform: Platform) -> tuple[str, str]:
    """An inbound call offered on S1.chan1: (interaction, conversation)."""
    channel = "S1.chan1"
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    platform.stimulate("call.inbound", channel)
    interaction = next(o.address for o in platform.model.of_level("interaction"))
    conversation = next(o.address for o in platform.model.of_level("conversation"))
    return interaction, conversation


def active_call(platform: Platform) -> tuple[str, str]:
    """An inbound call on S1.chan1, accepted: (interaction, conversation)."""
    interaction, conversation = inbound_call(platform)
    platform.handle({"command": "interaction.accept", "target": interaction, "data": {}})
    return interaction, conversation


def test_an_inferred_violation_is_a_convention_warning_that_keeps_its_kind() -> None:
    violation = Violation(Category.MISSING_EVENT, "missing event", "x", inferred="the seeds do not print it")
    assert violation.category is Category.CONVENTION and violation.kind is Category.MISSING_EVENT
    assert violation.severity is Severity.SHOULD and violation.verdict is Verdict.WARN
    assert "convention:" in str(violation) and "conventions.adopt" in str(violation)
    named = Violation(Category.UNEXPECTED_EVENT, "state", "x", inferred="names", area="states")
    assert "conventions.states" in str(named) and "conventions.adopt: [states]" in str(named)


def test_a_declared_convention_is_a_must() -> None:
    violation = Violation(Category.MISSING_EVENT, "missing event", "x", inferred="the states", declared=True)
    assert violation.category is Category.MISSING_EVENT and violation.verdict is Verdict.FAIL
    assert "declared convention" in str(violation)


def test_a_lost_connection_is_never_a_convention() -> None:
    violation = Violation(Category.CONNECTION_LOST, "connection lost", "x", inferred="whatever")
    assert violation.verdict is Verdict.ERROR


def test_an_extra_event_in_an_inferred_complete_list_is_a_convention(platform: Platform) -> None:
    # channel.activate's list is the catalogue's: seed 000 says channel.infochanged reflects the channel's
    # state, so an adapter may well send one there
    expectation = expect(platform, "channel.activate", "S1.chan1")
    events = [
        as_event(e)
        for e in platform.handle({"command": "channel.activate", "target": "S1.chan1", "data": {}}).events
    ]
    expectation.offer(Event("channel.infochanged", "S1.chan1", {}, {}))
    for event in events:
        expectation.offer(event)
    [violation] = expectation.finish("x")
    assert violation.category is Category.CONVENTION and violation.kind is Category.UNEXPECTED_EVENT
    assert violation.verdict is Verdict.WARN


def test_an_extra_event_in_a_printed_complete_list_still_fails(platform: Platform) -> None:
    platform.handle({"command": "channel.activate", "target": "S1.chan1", "data": {}})
    expectation = expect(platform, "channel.dial", "S1.chan1", {"destination": "1"})
    outcome = platform.handle({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    events = [as_event(e) for e in outcome.events]
    events.insert(3, events[0])  # a second channel.infochanged inside the list 001 prints in full
    for event in events:
        expectation.offer(event)
    [violation] = expectation.finish("x")
    assert violation.category is Category.UNEXPECTED_EVENT and violation.verdict is Verdict.FAIL


def test_a_missing_printed_entry_fails_even_where_its_data_is_inferred(platform: Platform) -> None:
    platform.handle({"command": "channel.activate", "target": "S1.chan1", "data": {}})
    expectation = expect(platform, "channel.dial", "S1.chan1", {"destination": "1"})
    outcome = platform.handle({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    events = [as_event(e) for e in outcome.events]
    del events[1]  # state.updated (channel state event): printed by the seeds, its payload is inferred
    for event in events:
        expectation.offer(event)
    [violation] = expectation.finish("did not arrive")
    assert violation.category is Category.MISSING_EVENT and violation.verdict is Verdict.FAIL


def test_a_printed_entry_with_another_state_name_in_a_cut_list_is_a_convention(platform: Platform) -> None:
    interaction, _ = inbound_call(platform)
    expectation = expect(platform, "interaction.accept", interaction)
    outcome = platform.handle({"command": "interaction.accept", "target": interaction, "data": {}})
    events = [as_event(e) for e in outcome.events]
    # the adapter calls an accepted interaction ASSIGNED, and its call keeps ringing until conversation.answer
    events = [
        Event(e.name, e.target, {"state": "ASSIGNED"}, {})
        if e.target == interaction and e.name == "state.updated"
        else e
        for e in events
        if e.target == interaction
    ]
    for event in events:
        expectation.offer(event)
    violations = expectation.finish("did not arrive")
    assert violations and all(v.verdict is Verdict.WARN for v in violations), violations
    kinds = {v.kind for v in violations}
    assert Category.SHAPE_MISMATCH in kinds  # ASSIGNED instead of ACTIVE: wrong data, not a missing event
    assert Category.MISSING_EVENT in kinds  # the call connected by accept (ERRATA R11): inferred


def test_an_unknown_state_name_is_a_convention_and_a_transition_too(platform: Platform) -> None:
    _, conversation = active_call(platform)
    applied = platform.model.apply(Event("state.updated", conversation, {"state": "TALKING"}, {}))
    [problem] = applied.problems
    assert "not a state" in problem and problem.inferred and "R9" in problem.inferred
    platform.model.apply(Event("state.updated", conversation, {"state": "DISCONNECTED"}, {}))
    applied = platform.model.apply(Event("state.updated", conversation, {"state": "CONNECTED"}, {}))
    [problem] = applied.problems
    assert "cannot go from" in problem and problem.inferred and "R34" in problem.inferred


def test_an_event_about_an_unknown_object_is_no_convention(platform: Platform) -> None:
    [problem] = platform.model.apply(Event("state.updated", "S1.nope", {"state": "ACTIVE"}, {})).problems
    assert problem.inferred is None


def test_a_creation_event_about_the_new_object_is_followed(platform: Platform) -> None:
    applied = platform.model.apply(Event("interaction.created", "S1.chan1.i7", {"interaction": {"id": "i7"}}, {}))
    assert applied.created is not None and applied.created.address == "S1.chan1.i7"
    [problem] = applied.problems
    assert problem.inferred and "about the new object" in problem


def test_an_unknown_event_is_a_convention_and_the_first_event_still_names_the_session(
    catalogue: Catalogue,
) -> None:
    platform = Platform(catalogue)
    [problem] = platform.model.apply(Event("session.welcome", "S5", {}, {})).problems
    assert problem.inferred and "extra_events" in problem.inferred
    assert platform.model.session is not None and platform.model.session.address == "S5"


def test_a_refusal_from_an_inferred_precondition_is_a_convention(platform: Platform) -> None:
    _, conversation = active_call(platform)
    platform.handle({"command": "conversation.hold", "target": conversation, "data": {}})
    decision = platform.decide({"command": "conversation.hold", "target": conversation, "data": {}})
    assert decision.refusal is not None and decision.inferred  # a second hold: the seeds do not say it fails
    request = {"command": "conversation.hold", "target": conversation, "data": {}}
    response = Response("conversation.hold", conversation, "success", {**request, "result": "success"})
    [violation] = check_response(
        platform.catalogue, request, response, frozenset({"failure"}), None, basis=decision.inferred
    )
    assert violation.kind is Category.WRONG_RESULT and violation.verdict is Verdict.WARN


def test_a_refusal_the_seeds_print_is_a_must(platform: Platform) -> None:
    # "A failure is generated if the channel is not already in the active state" (000, channel.dial)
    decision = platform.decide({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    assert decision.refusal is not None and decision.inferred is None
    request = {"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}}
    response = Response("channel.dial", "S1.chan1", "success", {**request, "result": "success"})
    [violation] = check_response(
        platform.catalogue, request, response, frozenset({"failure"}), None, basis=decision.inferred
    )
    assert violation.category is Category.WRONG_RESULT and violation.verdict is Verdict.FAIL


def test_success_where_the_seeds_describe_it_is_a_must_and_elsewhere_a_convention(platform: Platform) -> None:
    _, conversation = active_call(platform)
    mute = {"command": "conversation.request.mute", "target": conversation, "data": {}}
    assert platform.decide(mute).inferred is None  # "Muting an active call will generate ..." (001)
    platform.handle({"command": "conversation.hold", "target": conversation, "data": {}})
    assert platform.decide(mute).inferred  # muting a held call is the catalogue's reading
    decision = platform.decide({"command": "channel.activate", "target": "S1.chan1", "data": {}})
    assert decision.inferred and "channel.activate" in decision.inferred  # an inferred command


def test_a_should_outcome_is_a_warning_not_a_failure(platform: Platform) -> None:
    request = {"command": "x", "target": "t", "data": {}}
    response = Response(
        "x",
        "t",
        "failure",
        {**request, "result": "failure", "failure": {"code": "c", "message": "m"}, "original": request},
    )
    [violation] = check_response(platform.catalogue, request, response, frozenset({"success"}), None, should=True)
    assert violation.severity is Severity.SHOULD and violation.verdict is Verdict.WARN


def test_a_cut_list_the_seeds_say_generates_events_must_bring_at_least_one(platform: Platform) -> None:
    # "Holding an active call will generate the following secondary events:" then "..." (001)
    _, conversation = active_call(platform)
    expectation = expect(platform, "conversation.hold", conversation)
    [*violations] = expectation.finish("did not arrive")
    nothing = [v for v in violations if v.title == "no secondary event"]
    assert len(nothing) == 1 and nothing[0].verdict is Verdict.FAIL
    assert all(v.verdict is Verdict.WARN for v in violations if v.title != "no secondary event")
    # any event about the call will do: which ones is the catalogue's reading
    other = expect(platform, "conversation.hold", conversation)
    other.offer(Event("state.updated", conversation, {"state": "ON_HOLD"}, {}))
    assert all(v.verdict is Verdict.WARN for v in other.finish("did not arrive"))


def test_a_profile_that_adopts_an_area_makes_its_conventions_musts_again() -> None:
    warned = Violation(Category.MISSING_EVENT, "missing event", "x", inferred="cut list", area="events")
    assert adopted(warned, frozenset({"states"})) is warned
    must = adopted(warned, frozenset({"events"}))
    assert must.category is Category.MISSING_EVENT and must.verdict is Verdict.FAIL and must.declared


def test_the_profile_schema_names_exactly_the_areas_of_the_core(catalogue: Catalogue) -> None:
    schema = json.loads((catalogue.root / "meta" / "profile-v1.schema.json").read_text(encoding="utf-8"))
    adopt = schema["properties"]["conventions"]["properties"]["adopt"]["oneOf"][1]["items"]["enum"]
    assert set(adopt) == set(AREAS)


def test_a_state_spelled_another_way_is_followed_and_matches_the_list(platform: Platform) -> None:
    _, conversation = inbound_call(platform)
    applied = platform.model.apply(Event("state.updated", conversation, {"state": "connected"}, {}))
    [problem] = applied.problems
    assert "spelled 'connected'" in problem and problem.area == "states"
    assert platform.model.objects[conversation].state == "CONNECTED"  # followed, so set-ups go on
    assert contains({"state": "CONNECTED"}, {"state": "connected"})
    assert not contains({"state": "CONNECTED"}, {"state": "TALKING"})


def test_the_answer_of_a_command_the_seeds_do_not_print_may_add_to_its_data(catalogue: Catalogue) -> None:
    # getscripts: 001 repeats channel.dial's bodies (ERRATA R17), so what its answer carries is a convention
    request = {"command": "channel.request.incontact.getscripts", "target": "S1.chan1", "data": {}}
    raw = {**request, "result": "success", "data": {"scripts": [{"id": "s1"}]}}
    response = Response(request["command"], "S1.chan1", "success", raw)
    spec = catalogue.commands["channel.request.incontact.getscripts"]
    [violation] = check_response(
        catalogue, request, response, frozenset({"success"}), None, shape_basis=command_basis(spec)
    )
    assert violation.title == "wrong echo" and violation.verdict is Verdict.WARN
    dial = {"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}}
    answer = Response("channel.dial", "S1.chan1", "success", {**dial, "result": "success", "data": {}})
    assert command_basis(catalogue.commands["channel.dial"]) is None  # the seeds print dial's answer: a MUST
    [echo] = check_response(catalogue, dial, answer, frozenset({"success"}), None)
    assert echo.verdict is Verdict.FAIL


def test_a_state_name_of_the_adapters_own_takes_the_entry_that_waits_for_a_state_and_is_learned(
    platform: Platform,
) -> None:
    interaction, conversation = inbound_call(platform)
    model = platform.model.copy()
    spec = platform.catalogue.commands["interaction.accept"]
    expectation = EventExpectation.start(
        "interaction.accept", platform.catalogue, spec.events, interaction, model, platform.context()
    )
    for raw in platform.handle({"command": "interaction.accept", "target": interaction, "data": {}}).events:
        event = as_event(raw)
        if event.target == conversation and event.name == "state.updated":
            event = Event(event.name, event.target, {"state": "talking"}, {})  # the adapter's own name
        model.apply(event)
        expectation.offer(event)
    assert expectation.done  # nothing left to wait for: the call's entry took "talking"
    violations = expectation.finish("x")
    assert violations and all(v.verdict is Verdict.WARN for v in violations)
    assert {v.area for v in violations} == {"payloads", "states"}
    assert model.learned == {"conversation": {"talking": "CONNECTED"}}
    assert model.objects[conversation].state == "CONNECTED" and model.objects[conversation].guessed
    hold = platform.catalogue.commands["conversation.hold"]
    request = {"command": hold.name, "target": conversation, "data": {}}
    decision = Platform(platform.catalogue, model).decide(request)
    assert decision.result == "success" and decision.inferred and "its own way" in decision.inferred


def test_a_refusal_that_rests_on_a_media_the_adapter_never_named_is_a_convention(catalogue: Catalogue) -> None:
    platform = Platform(catalogue)
    model = platform.model
    for event in (
        Event("channel.created", "S9", {"channel": {"id": "c1", "type": "voice"}}, {}),  # media named otherwise
        Event("channel.initialized", "S9.c1", {}, {}),
        Event("interaction.created", "S9.c1", {"interaction": {"id": "i1"}}, {}),
        Event("state.updated", "S9.c1.i1", {"state": "ACTIVE"}, {}),
        Event("interaction.initialized", "S9.c1.i1", {}, {}),
    ):
        model.apply(event)
    decision = platform.decide({"command": "interaction.complete", "target": "S9.c1.i1", "data": {}})
    assert decision.refusal is not None and decision.inferred and "which media" in decision.inferred


def test_a_refusal_where_only_the_seeds_weaker_condition_holds_is_a_convention(platform: Platform) -> None:
    """``refusal: {seed: CONDITION}``: the seeds say consult fails where the interaction has not started, and
    alternate where the consult call is not connected; the catalogue asks more (a call the agent talks to).
    A refusal the seeds' condition explains is a MUST; one only the catalogue's extra clauses explain is a
    convention (an adapter may consult from a held call)."""
    interaction, conversation = inbound_call(platform)
    consult = {"command": "interaction.consult", "target": interaction, "data": {"destination": "2"}}
    offered = platform.decide(consult)
    assert offered.refusal is not None and offered.inferred is None  # "has not started": the seeds' failure
    platform.handle({"command": "interaction.accept", "target": interaction, "data": {}})
    platform.handle({"command": "conversation.hold", "target": conversation, "data": {}})
    held = platform.decide(consult)
    assert held.refusal is not None and held.inferred and "fails only where it is not in ACTIVE" in held.inferred
    platform.handle({"command": "conversation.retrieve", "target": conversation, "data": {}})
    assert platform.decide(consult).refusal is None
    platform.handle(consult)  # the original call held, the consult call dialling
    alternate = {"command": "interaction.alternate", "target": interaction, "data": {}}
    dialling = platform.decide(alternate)
    assert dialling.refusal is not None and dialling.inferred is None  # "a consult call is not connected"
    leg = next(o.address for o in platform.model.of_level("conversation") if o.state == "DIALING")
    platform.stimulate("remote.answered", leg)
    assert platform.decide(alternate).refusal is None
    platform.handle({"command": "conversation.hold", "target": leg, "data": {}})  # both calls held
    both_held = platform.decide(alternate)
    assert both_held.refusal is not None and both_held.inferred  # connected, both: the catalogue's reading
