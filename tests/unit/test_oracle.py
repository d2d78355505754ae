"""The oracle's model checks and the expectation forms of issue 4, each proven by input that breaks it."""

from __future__ import annotations

from dataclasses import replace

from harness.core.expect import EventExpectation
from harness.core.messages import Event
from harness.core.simulate import Platform
from harness.core.violations import Category
from harness.spec.catalogue import Catalogue, EventList

STIMULATE_CALL = "call.inbound"


def _connected_call(platform: Platform) -> tuple[str, str]:
    """An accepted inbound call: (interaction, conversation)."""
    channel = platform.model.session.address + ".chan1"  # type: ignore[union-attr]
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    platform.stimulate(STIMULATE_CALL, channel)
    interaction = next(platform.model.descendants(channel, "interaction")).address
    platform.handle({"command": "interaction.accept", "target": interaction, "data": {}})
    conversation = next(platform.model.descendants(interaction, "conversation")).address
    assert platform.model.get(conversation).state == "CONNECTED"  # type: ignore[union-attr]
    return interaction, conversation


def test_a_transition_the_state_model_does_not_allow_is_a_problem(platform: Platform) -> None:
    _, conversation = _connected_call(platform)
    model = platform.model
    ok = model.apply(Event("state.updated", conversation, {"state": "HELD"}, {}))
    assert ok.problems == ()
    model.apply(Event("state.updated", conversation, {"state": "DISCONNECTED"}, {}))
    back = model.apply(Event("state.updated", conversation, {"state": "CONNECTED"}, {}))
    assert back.problems == (
        "state.updated: a conversation cannot go from DISCONNECTED to CONNECTED (states.yaml: from "
        "DISCONNECTED only to nothing, it is final)",
    )


def test_completing_a_telephony_interaction_with_a_live_call_is_a_problem(platform: Platform) -> None:
    interaction, _ = _connected_call(platform)
    applied = platform.model.apply(Event("interaction.complete", interaction, {}, {}))
    assert len(applied.problems) == 1
    assert "interaction.complete for" in applied.problems[0] and "it has 1, not" in applied.problems[0]


def test_completing_a_chat_with_its_conversation_connected_is_not(catalogue: Catalogue) -> None:
    platform = Platform(catalogue)
    platform.startup([{"channel": {"media": "chat"}}], "S1")
    channel = "S1.chan1"
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    platform.stimulate("chat.inbound", channel)
    interaction = next(platform.model.descendants(channel, "interaction")).address
    applied = platform.model.apply(Event("interaction.complete", interaction, {}, {}))
    assert applied.problems == ()


def test_an_object_created_and_never_initialized_is_reported(platform: Platform) -> None:
    assert platform.model.uninitialized() == []
    platform.model.apply(Event("interaction.created", "S1.chan1", {"interaction": {"id": "i9"}}, {}))
    assert platform.model.uninitialized() == ["interaction S1.chan1.i9 was created but never initialized"]


def _grouped(catalogue: Catalogue) -> EventList:
    """The start-up list with its two trailing entries made an unordered group."""
    per_channel = catalogue.startup.per_channel
    entries = list(per_channel.entries)
    entries[1] = replace(entries[1], optional=False, repeat=False, group=2)
    entries[2] = replace(entries[2], group=2)
    return replace(per_channel, entries=tuple(entries))


def _feed(catalogue: Catalogue, platform: Platform, event_list: EventList, names: list[str]) -> EventExpectation:
    expectation = EventExpectation.start(
        "start-up", catalogue, event_list, "S1", platform.model, platform.context()
    )
    expectation.offer(Event("channel.created", "S1", {"channel": {"id": "c9", "media": "chat"}}, {}))
    for name in names:
        expectation.offer(Event(name, "S1.c9", {}, {}))
    return expectation


def test_an_unordered_group_takes_its_entries_in_any_order(catalogue: Catalogue, platform: Platform) -> None:
    grouped = _grouped(catalogue)
    for order in (["channel.infochanged", "channel.initialized"], ["channel.initialized", "channel.infochanged"]):
        expectation = _feed(catalogue, platform, grouped, order)
        assert expectation.done and expectation.finish("x") == [], order
    # the same order breaks the list without the group: a wrong order
    plain = replace(grouped, entries=tuple(replace(e, group=0) for e in grouped.entries))
    expectation = _feed(catalogue, platform, plain, ["channel.initialized", "channel.infochanged"])
    violations = expectation.finish("x")
    assert [v.kind or v.category for v in violations] == [Category.WRONG_ORDER]  # the start-up list is inferred
    # and a group still owes every member that never came
    expectation = _feed(catalogue, platform, grouped, ["channel.initialized"])
    assert not expectation.done
    assert [v.kind or v.category for v in expectation.finish("x")] == [Category.MISSING_EVENT]


def test_an_event_in_the_settle_window_is_unexpected(catalogue: Catalogue, platform: Platform) -> None:
    _, conversation = _connected_call(platform)
    platform.handle({"command": "conversation.request.mute", "target": conversation, "data": {}})
    spec = catalogue.commands["conversation.request.mute"]
    outcome = next(o for o in spec.outcomes if o.name == "already-muted")
    assert outcome.events is not None and outcome.events.settle
    expectation = EventExpectation.start(
        spec.name, catalogue, outcome.events, conversation, platform.model, platform.context()
    )
    assert expectation.done
    expectation.settling = True
    expectation.offer(Event("state.updated", conversation, {"muted": True}, {}))
    assert [v.title for v in expectation.violations] == ["event after the list settled"]
