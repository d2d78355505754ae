from harness.core.conditions import legal
from harness.core.messages import Event
from harness.core.plan import LEGAL, REFUSED_STATE, Explorer, Goal, anchor, anchored, find_plan, situation
from harness.core.simulate import Platform, channel_seeds
from harness.spec.catalogue import Catalogue


def test_the_start_up_creates_the_session_and_an_initialized_inactive_channel(platform: Platform) -> None:
    [channel] = platform.model.of_level("channel")
    assert channel.address == "S1.chan1" and channel.state == "INACTIVE" and channel.initialized
    assert platform.model.session is not None and platform.model.session.initialized


def test_events_for_unknown_or_disposed_objects_are_problems(platform: Platform) -> None:
    applied = platform.model.apply(Event("state.updated", "S1.nope", {"state": "ACTIVE"}, {}))
    assert applied.problems == ("state.updated for an unknown object 'S1.nope'",)
    applied = platform.model.apply(Event("state.updated", "S1.chan1", {"state": "NAPPING"}, {}))
    assert "'NAPPING' is not a state of a channel" in applied.problems[0]


def test_a_state_event_that_carries_nothing_it_sets_is_a_problem(platform: Platform) -> None:
    applied = platform.model.apply(Event("state.updated", "S1.chan1", {"mood": "fine"}, {}))
    assert "carries none of" in applied.problems[0]


def test_a_second_create_of_the_same_id_is_a_problem(platform: Platform) -> None:
    created = Event("interaction.created", "S1.chan1", {"interaction": {"id": "i"}}, {})
    assert platform.model.apply(created).problems == ()
    assert "created a second time" in platform.model.apply(created).problems[0]


def test_a_third_live_conversation_in_an_interaction_is_a_problem(platform: Platform) -> None:
    platform.model.apply(Event("interaction.created", "S1.chan1", {"interaction": {"id": "i"}}, {}))
    for number in (1, 2):
        created = Event("conversation.created", "S1.chan1.i", {"conversation": {"id": f"c{number}"}}, {})
        assert platform.model.apply(created).problems == ()
    third = Event("conversation.created", "S1.chan1.i", {"conversation": {"id": "c3"}}, {})
    assert "already has 2 live conversations" in platform.model.apply(third).problems[0]


def test_facets_are_set_by_the_events_that_carry_them_and_checked_against_states_yaml(platform: Platform) -> None:
    platform.model.apply(Event("interaction.created", "S1.chan1", {"interaction": {"id": "i"}}, {}))
    interaction = platform.model.get("S1.chan1.i")
    assert interaction is not None and interaction.facets["recording"] == "STOPPED"
    assert (
        platform.model.apply(Event("state.updated", "S1.chan1.i", {"recording": "RECORDING"}, {})).problems == ()
    )
    assert interaction.facets["recording"] == "RECORDING" and interaction.state is None
    bad = platform.model.apply(Event("state.updated", "S1.chan1.i", {"recording": "MAYBE"}, {}))
    assert "'MAYBE' is not a value of an interaction's recording" in bad.problems[0]
    focus = platform.model.apply(
        Event("interaction.focuschanged", "S1.chan1.i", {"conversation": {"id": "x"}}, {})
    )
    assert "focus 'x' names no conversation" in focus.problems[0]


def test_the_level_of_a_target_comes_from_known_objects_not_its_length(platform: Platform) -> None:
    obj, _ = platform.model.find_target("S1.chan1", "channel")
    assert obj is not None
    obj, why = platform.model.find_target("S1.chan1", "interaction")
    assert obj is None and "is a channel, not an interaction" in why


def test_an_unknown_address_lives_under_a_real_parent(platform: Platform) -> None:
    assert platform.model.unknown_address("interaction") == "S1.chan1.mbconform-missing"
    assert platform.model.unknown_address("conversation") == "S1.chan1.mbconform-missing.mbconform-missing"


def test_the_platform_refuses_what_the_specs_forbid(platform: Platform) -> None:
    outcome = platform.handle({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    assert outcome.response["result"] == "failure" and outcome.events == []
    assert outcome.response["failure"]["code"] == "INVALID_STATE"
    assert outcome.response["original"]["command"] == "channel.dial"
    unknown = platform.handle({"command": "channel.fly", "target": "S1.chan1", "data": {}})
    assert unknown.response["failure"]["code"] == "UNKNOWN_COMMAND"
    broken = platform.handle({"command": 3})
    assert broken.response["failure"]["code"] == "MALFORMED_REQUEST" and broken.response["command"] == ""
    scripts = platform.handle(
        {"command": "channel.request.incontact.getscripts", "target": "S1.chan1", "data": {}}
    )
    assert scripts.response["failure"]["code"] == "UNSUPPORTED"


def _call(platform: Platform, *steps: tuple[str, str, dict[str, object]]) -> list[dict[str, object]]:
    """Run commands ("c") and stimuli ("s") on the platform; the events of the last one."""
    events: list[dict[str, object]] = []
    for kind, name, data in steps:
        target = str(data.pop("@"))
        if kind == "s":
            events = platform.stimulate(name, target)
        else:
            outcome = platform.handle({"command": name, "target": target, "data": data})
            assert outcome.response["result"] != "failure", outcome.response
            events = outcome.events
    return events


def _connected_call(platform: Platform) -> tuple[str, str]:
    _call(platform, ("c", "channel.activate", {"@": "S1.chan1"}), ("s", "call.inbound", {"@": "S1.chan1"}))
    interaction, conversation = platform.last_bound["interaction"], platform.last_bound["conversation"]
    _call(platform, ("c", "interaction.accept", {"@": interaction}))
    return interaction, conversation


def test_releasing_the_last_call_ends_the_interaction_but_not_while_a_consult_lives(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    _call(platform, ("c", "interaction.consult", {"@": interaction, "destination": "2"}))
    consult = platform.last_bound["consult"]
    events = _call(platform, ("c", "conversation.release", {"@": consult}))
    assert [e["name"] for e in events] == ["state.updated"]
    events = _call(platform, ("c", "conversation.release", {"@": caller}))
    assert [e["name"] for e in events] == ["state.updated", "interaction.ended", "state.updated"]
    assert platform.model.get(interaction).state == "ENDED"  # type: ignore[union-attr]


def test_alternate_swaps_held_and_connected_and_moves_the_focus(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    _call(platform, ("c", "interaction.consult", {"@": interaction, "destination": "2"}))
    consult = platform.last_bound["consult"]
    assert platform.model.get(interaction).facets["focus"] == consult.rsplit(".", 1)[1]  # type: ignore[union-attr]
    _call(platform, ("s", "remote.answered", {"@": consult}))
    events = _call(platform, ("c", "interaction.alternate", {"@": interaction}))
    assert [(e["target"], e["data"]) for e in events[:2]] == [
        (caller, {"state": "CONNECTED"}),
        (consult, {"state": "HELD"}),
    ]
    assert events[2]["data"] == {"conversation": {"id": caller.rsplit(".", 1)[1]}}


def test_a_blind_transfer_that_fails_still_ends_the_agents_call(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    unreachable = platform.facts["unreachable_destination"]
    outcome = platform.handle(
        {"command": "conversation.blindtransfer", "target": caller, "data": {"destination": unreachable}}
    )
    assert outcome.response["result"] == "failure" and outcome.response["failure"]["code"] == "UNREACHABLE"
    assert platform.model.get(caller).state == "DISCONNECTED"  # type: ignore[union-attr]
    assert platform.model.get(interaction).state == "ENDED"  # type: ignore[union-attr]


def test_recording_start_twice_succeeds_with_nothing_to_announce(platform: Platform) -> None:
    interaction, _ = _connected_call(platform)
    first = _call(platform, ("c", "interaction.request.recording.start", {"@": interaction}))
    assert [e["data"] for e in first] == [{"recording": "RECORDING"}]
    assert _call(platform, ("c", "interaction.request.recording.start", {"@": interaction})) == []


def test_a_telephony_interaction_is_completed_only_after_its_calls_ended(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    request = {"command": "interaction.complete", "target": interaction, "data": {}}
    refused = platform.decide(request)
    assert refused.refusal is not None and "0 conversations" in refused.refusal.message
    _call(platform, ("c", "conversation.release", {"@": caller}))
    events = platform.handle(request).events
    assert [e["name"] for e in events] == [
        "interaction.complete",
        "state.updated",
        "interaction.disposed",
        "state.updated",
    ]
    assert platform.model.get(interaction) is None and platform.model.get("S1.chan1").state == "ACTIVE"  # type: ignore[union-attr]


def test_incontact_needinfo_outcomes_carry_the_platform_facts(catalogue: Catalogue) -> None:
    platform = Platform(catalogue, platform="incontact")
    platform.startup([{}], "S1")
    _call(platform, ("c", "channel.activate", {"@": "S1.chan1"}))
    dial = {
        "command": "channel.dial",
        "target": "S1.chan1",
        "data": {"destination": "1", "extensions": {"type": "external"}},
    }
    outcome = platform.handle(dial)
    assert outcome.response["result"] == "needinfo" and outcome.events == []
    assert outcome.response["uiExtension"]["skills"] == platform.facts["outbound_skills"]
    assert outcome.response["original"] == dial
    without_type = platform.handle({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    assert without_type.response["failure"]["code"] == "INVALID_DATA"


def test_every_command_of_a_platform_can_be_made_legal_from_a_fresh_session(catalogue: Catalogue) -> None:
    for name in ("generic", "incontact"):
        platform = Platform(catalogue, platform=name)
        platform.startup(channel_seeds(catalogue, ["telephony", "chat"]), "S1")
        explorer = Explorer(platform)
        for command in catalogue.commands.values():
            if name not in command.platforms:
                continue
            plan = explorer.plan(Goal(command.level, command.name, decision=LEGAL))
            assert plan is not None, (name, command.name)
            assert len(plan.steps) <= 6


def test_a_plan_names_what_it_creates_and_reuses_what_exists(platform: Platform) -> None:
    plan = find_plan(platform, Goal("conversation", state="HELD"))
    assert plan is not None
    assert [step.name for step in plan.steps][-1] == "conversation.hold"
    assert plan.steps[0].target == "S1.chan1"
    assert plan.target.startswith("$p")


def test_a_plan_found_on_one_session_is_replayed_on_another_that_starts_alike(catalogue: Catalogue) -> None:
    simulated, live = Platform(catalogue), Platform(catalogue)
    simulated.startup([{}], "sim")
    live.startup([{}], "S9")
    goal = Goal("conversation", "conversation.hold", decision=REFUSED_STATE, state="HELD")
    plan = find_plan(simulated, goal)
    assert plan is not None and plan.steps[0].target == "sim.chan1"
    moved = plan.relocate(live.model)
    assert moved is not None and moved.steps[0].target == "S9.chan1"
    live.handle({"command": "channel.activate", "target": "S9.chan1", "data": {}})
    assert plan.relocate(live.model) is None  # the live session no longer starts alike


def test_without_stimuli_an_inbound_only_state_is_unreachable(platform: Platform) -> None:
    assert find_plan(platform, Goal("interaction", state="ALERTING"), stimuli=[]) is None


def test_preconditions_explain_which_alternative_failed(platform: Platform) -> None:
    complete = platform.catalogue.commands["interaction.complete"]
    interaction, _ = _connected_call(platform)
    obj = platform.model.get(interaction)
    assert obj is not None
    reasons = legal(complete.when, platform.model, obj, platform.context({}))
    assert reasons[0].startswith("it is a telephony interaction, not chat")
    assert "the interaction is ACTIVE, not ENDED" in reasons[1]


def test_a_telephony_command_is_refused_on_a_chat_channel(catalogue: Catalogue) -> None:
    platform = Platform(catalogue)
    platform.startup(channel_seeds(catalogue, ["telephony", "chat"]), "S1")
    platform.handle({"command": "channel.activate", "target": "S1.chan2", "data": {}})
    outcome = platform.handle({"command": "channel.dial", "target": "S1.chan2", "data": {"destination": "1"}})
    assert outcome.response["failure"]["code"] == "INVALID_TARGET"
    assert "channel.dial is for telephony; S1.chan2 is chat" in outcome.response["failure"]["message"]


def test_rejecting_a_call_disconnects_it_so_the_interaction_can_be_completed(platform: Platform) -> None:
    _call(platform, ("c", "channel.activate", {"@": "S1.chan1"}), ("s", "call.inbound", {"@": "S1.chan1"}))
    interaction, caller = platform.last_bound["interaction"], platform.last_bound["conversation"]
    _call(platform, ("c", "interaction.reject", {"@": interaction}))
    assert platform.model.get(caller).state == "DISCONNECTED"  # type: ignore[union-attr]
    answer = platform.decide({"command": "conversation.answer", "target": caller, "data": {}})
    assert answer.refusal is not None
    _call(platform, ("c", "interaction.complete", {"@": interaction}))
    assert platform.model.get("S1.chan1").state == "ACTIVE"  # type: ignore[union-attr]


def test_alternate_needs_one_connected_and_one_held_call(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    _call(platform, ("c", "interaction.consult", {"@": interaction, "destination": "2"}))
    consult = platform.last_bound["consult"]
    _call(platform, ("s", "remote.answered", {"@": consult}), ("c", "conversation.retrieve", {"@": caller}))
    alternate = platform.decide({"command": "interaction.alternate", "target": interaction, "data": {}})
    assert alternate.refusal is not None and "not 1 conversations in HELD" in alternate.refusal.message


def test_a_plan_for_one_object_acts_on_it_alone(platform: Platform) -> None:
    interaction, caller = _connected_call(platform)
    goal = Goal("conversation", "conversation.retrieve", address=caller)
    plan = Explorer(platform, within=caller).plan(goal)
    assert plan is not None and [(s.name, s.target) for s in plan.steps] == [("conversation.hold", caller)]
    assert plan.target == caller
    other = Goal("conversation", "conversation.retrieve", address=caller + ".conv999")  # names nothing
    assert Explorer(platform, within=interaction).plan(other) is None
    place = anchor(platform.model, caller)
    assert place is not None and anchored(platform.model, place) == caller
    assert anchor(platform.model, caller + ".conv999") is None


def test_a_limited_plan_answers_the_same_whatever_was_explored_before(platform: Platform) -> None:
    goal = Goal("interaction", "interaction.alternate")
    fresh = Explorer(platform).plan(goal, limit=20)
    explored = Explorer(platform)
    assert explored.plan(goal) is not None  # explores far beyond 20 situations
    assert explored.plan(goal, limit=20) == fresh is None


def test_the_situation_names_no_ids(catalogue: Catalogue) -> None:
    one, other = Platform(catalogue), Platform(catalogue)
    one.startup([{}], "S1")
    other.startup([{}], "S2")
    assert situation(one.model) == situation(other.model)
    one.handle({"command": "channel.activate", "target": "S1.chan1", "data": {}})
    assert situation(one.model) != situation(other.model)


def test_a_group_is_initialized_only_once_every_channel_in_it_is(platform: Platform) -> None:
    """000, channelgroup.initialized: "All member channels will have been added to this group and
    initialized prior to this event being raised" (the event spec's ``requires``, ERRATA R36)."""
    model = platform.model
    channel = {"channel": {"id": "c", "media": "telephony"}}
    group = {"channelgroup": {"id": "g", "name": "G"}}
    assert model.apply(Event("channelgroup.created", "S1", group, {})).problems == ()
    assert model.apply(Event("channel.created", "S1.g", channel, {})).problems == ()
    early = model.apply(Event("channelgroup.initialized", "S1.g", {}, {})).problems
    assert early == (
        "channelgroup.initialized for S1.g, but it has 1, not at most 0 channels not yet initialized",
    )
    assert model.apply(Event("channel.initialized", "S1.g.c", {}, {})).problems == ()
    assert model.apply(Event("channelgroup.initialized", "S1.g", {}, {})).problems == ()
