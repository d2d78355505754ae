from harness.core.messages import Event
from harness.core.plan import find_plan
from harness.core.simulate import Platform
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


def test_a_second_create_of_the_same_id_is_a_problem(platform: Platform) -> None:
    created = Event("interaction.created", "S1.chan1", {"interaction": {"id": "i"}}, {})
    assert platform.model.apply(created).problems == ()
    assert "created a second time" in platform.model.apply(created).problems[0]


def test_the_level_of_a_target_comes_from_known_objects_not_its_length(platform: Platform) -> None:
    obj, _ = platform.model.find_target("S1.chan1", "channel")
    assert obj is not None
    obj, why = platform.model.find_target("S1.chan1", "interaction")
    assert obj is None and "is a channel, not a interaction" in why


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


def test_every_command_can_be_reached_from_a_fresh_session(catalogue: Catalogue, platform: Platform) -> None:
    for command in catalogue.commands.values():
        plan = find_plan(platform.model, command.level, command.when_states)
        assert plan is not None, command.name
        replay = platform.copy()
        for step in plan.steps:
            assert step.kind in ("command", "stimulus")
        assert len(plan.steps) <= 6
        assert replay.model.session is not None


def test_a_plan_names_what_it_creates_and_reuses_what_exists(platform: Platform) -> None:
    plan = find_plan(platform.model, "conversation", {"HELD"})
    assert plan is not None
    assert [step.name for step in plan.steps][-1] == "conversation.hold"
    assert plan.steps[0].target == "S1.chan1"
    assert plan.target.startswith("$p")


def test_without_stimuli_an_inbound_only_state_is_unreachable(platform: Platform) -> None:
    assert find_plan(platform.model, "interaction", {"ALERTING"}, stimuli=[]) is None
