"""The adapter's conventions: reading a profile's section (problems at their lines), translating frames both
ways at the boundary, and the start-up of an adapter whose channels activate themselves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.cases import simulated_platform
from harness.core.conventions import (
    ConventionError,
    Conventions,
    from_query,
    incoming,
    levels_created,
    outgoing,
    parse,
    problems,
    request_from_adapter,
    resolve_shared,
    self_activation,
    to_adapter,
    undeclared_creation_target,
    undeclared_state,
    unknown_to_adapter,
)
from harness.core.messages import Event, Response, classify
from harness.core.simulate import Platform
from harness.lint import lint_paths
from harness.paths import project_root
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_conventions, load_profile

ROOT = project_root()
DTMF = "conversation.request.dtmf"
SECTION: dict[str, Any] = {
    "commands": {DTMF: "conversation.senddtmf"},
    "states": {"conversation": {"TALKING": "CONNECTED", "on_hold": "HELD"}, "channel": {"Ready": "ACTIVE"}},
    "extra_events": ["session.welcome"],
    "activation": "command",
}


def _levels(mapping: dict[str, str]) -> Any:
    return lambda address: mapping.get(address)


def test_the_default_is_the_catalogues_conventions(catalogue: Catalogue) -> None:
    assert parse(catalogue, {}) == Conventions() and Conventions().is_default
    assert parse(catalogue, {"commands": {DTMF: DTMF}, "states": {"channel": {"ACTIVE": "ACTIVE"}}}).is_default
    assert not parse(catalogue, SECTION).is_default


def test_a_request_leaves_with_the_adapters_command_name(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    request = {"command": DTMF, "target": "S1.c.i.v", "data": {"digits": "1"}}
    assert outgoing(conventions, request) == {**request, "command": "conversation.senddtmf"}
    assert outgoing(conventions, {"command": "conversation.hold", "target": "x"})["command"] == "conversation.hold"
    assert request["command"] == DTMF  # not changed in place


def test_a_response_and_its_original_come_back_in_the_catalogues_name(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    raw = {
        "result": "failure",
        "command": "conversation.senddtmf",
        "target": "S1.c",
        "original": {"command": "conversation.senddtmf", "target": "S1.c", "data": {}},
    }
    message = classify(__import__("json").dumps(raw))
    translated = incoming(conventions, catalogue, message, _levels({}))
    assert isinstance(translated, Response) and translated.command == DTMF
    assert translated.raw["original"]["command"] == DTMF and translated.raw["target"] == "S1.c"


def test_a_state_is_renamed_by_the_level_of_the_events_target(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    levels = _levels({"S1.c": "channel", "S1.c.i": "interaction", "S1.c.i.v": "conversation"})

    def state_of(target: str, state: str) -> Any:
        event = Event(
            "state.updated",
            target,
            {"state": state},
            {"messageType": "e", "name": "state.updated", "target": target, "data": {"state": state}},
        )
        translated = incoming(conventions, catalogue, event, levels)
        assert isinstance(translated, Event)
        return translated.data["state"]

    assert state_of("S1.c.i.v", "TALKING") == "CONNECTED"
    assert state_of("S1.c.i.v", "on_hold") == "HELD"
    assert state_of("S1.c", "Ready") == "ACTIVE"
    assert state_of("S1.c.i", "Ready") == "Ready"  # the interaction level renames nothing
    assert state_of("S1.unknown", "TALKING") == "TALKING"  # an object the model does not know: as it is


def test_an_extra_event_is_ignored_and_a_catalogue_event_is_not(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    welcome = Event("session.welcome", "S1", {}, {"messageType": "e", "name": "session.welcome", "target": "S1"})
    assert incoming(conventions, catalogue, welcome, _levels({})) is None
    ready = Event("session.initialized", "S1", {}, {"messageType": "e", "name": "session.initialized"})
    assert incoming(conventions, catalogue, ready, _levels({})) is ready


def test_the_reference_adapter_translates_the_reverse_way(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    assert (
        request_from_adapter(conventions, {"command": "conversation.senddtmf", "target": "t"})["command"] == DTMF
    )
    assert unknown_to_adapter(conventions, catalogue, DTMF)  # the adapter knows it by its own name only
    assert not unknown_to_adapter(conventions, catalogue, "conversation.senddtmf")
    assert not unknown_to_adapter(conventions, catalogue, "channel.activate")
    frames = [
        {"result": "success", "command": DTMF, "target": "S1.c.i.v"},
        {"messageType": "e", "name": "state.updated", "target": "S1.c.i.v", "data": {"state": "CONNECTED"}},
        {"messageType": "e", "name": "state.updated", "target": "S1.c.i", "data": {"state": "ACTIVE"}},
    ]
    levels = _levels({"S1.c.i": "interaction", "S1.c.i.v": "conversation"})
    out = to_adapter(conventions, catalogue, frames, levels)
    assert out[0]["command"] == "conversation.senddtmf"
    assert out[1]["data"] == {"state": "TALKING"}
    assert out[2]["data"] == {"state": "ACTIVE"}  # ACTIVE is renamed for channels only
    assert frames[1]["data"] == {"state": "CONNECTED"}  # not changed in place
    back = [incoming(conventions, catalogue, classify(__import__("json").dumps(f)), levels) for f in out]
    assert [m.raw for m in back if m is not None] == frames  # both ways: the identity


def test_the_level_of_an_object_created_in_a_batch_is_known_after_it_is_disposed(platform: Platform) -> None:
    events = platform.emit_list(platform.catalogue.commands["channel.activate"].events, "S1.chan1")
    dial = platform.catalogue.commands["channel.dial"]
    events += platform.emit_list(dial.events, "S1.chan1", data=dict(dial.example_for("generic")))
    created = levels_created(platform.catalogue, events)
    assert set(created.values()) >= {"interaction", "conversation"}
    assert all(address.startswith("S1.chan1.") for address in created)


def test_channels_that_activate_themselves_do_the_activation_commands_list(catalogue: Catalogue) -> None:
    assert catalogue.startup.activation == "channel.activate"  # named in specs/session/startup.yaml
    platform = Platform(catalogue)
    platform.startup([{}, {}], "S1")
    assert self_activation(Conventions(), platform) == []
    events = self_activation(Conventions(activation="self"), platform)
    expected = [entry.event for entry in catalogue.commands["channel.activate"].events.entries]
    assert [e["name"] for e in events] == expected * 2
    assert {obj.state for obj in platform.model.of_level("channel")} == {"ACTIVE"}
    assert self_activation(Conventions(activation="self"), platform) == []  # not legal twice: nothing


def test_the_simulated_start_up_of_a_self_activating_profile_has_active_channels(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    text = _self_activating((ROOT / "suites/profiles/reference-generic.yaml").read_text())
    path = tmp_path / "self.yaml"
    path.write_text(text)
    profile = load_profile(path, catalogue)
    assert "channel.activate" not in profile.commands  # commands: all, less the activation command
    assert profile.settings().conventions.activation == "self"
    platform = simulated_platform(catalogue, profile)
    assert {obj.state for obj in platform.model.of_level("channel")} == {"ACTIVE"}


def test_the_url_option_round_trips(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, SECTION)
    assert from_query(catalogue, conventions.to_query()) == conventions
    with pytest.raises(ConventionError, match="base64"):
        from_query(catalogue, "%%%")
    with pytest.raises(ConventionError, match="not a command of the catalogue"):
        from_query(catalogue, Conventions(commands={"channel.fly": "x"}).to_query())


BAD = """\
format: mbconform/profile/1
name: bad-conventions
platform: generic
addressing: flat
commands: [channel.activate, channel.dial]
stimuli: {driver: none}
timing: {step_timeout: 5}
conventions:
  commands:
    channel.fly: channel.soar
    conversation.hold: conversation.retrieve
    conversation.release: conversation.hangup
    conversation.answer: conversation.hangup
  states:
    conversation:
      TALKING: SPEAKING
      ON_HOLD: HELD
      PAUSED: HELD
      ALERTING: DISCONNECTED
    planet: {RED: ACTIVE}
  extra_events: [session.welcome, state.updated]
  activation: self
"""


def test_every_problem_of_a_conventions_section_is_reported_at_its_line(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    text = str(raised.value)
    expected = {
        10: "'channel.fly' is not a command of the catalogue",
        11: "conversation.retrieve is another command of the catalogue",
        13: "conversation.hangup is already the adapter's name for conversation.release",
        16: "'SPEAKING' is not a conversation state",
        19: "ALERTING is a catalogue conversation state the adapter does not rename",
        20: "'planet' is not a level with states",
        21: "state.updated is an event of the catalogue",
        5: "the adapter's channels need no channel.activate",
    }
    for line, message in expected.items():
        assert re.search(rf"bad.yaml:{line}: .*{re.escape(message)}", text), (line, message, text)


def test_the_schema_rejects_a_misspelled_field_or_activation(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    base = BAD.split("conventions:")[0].replace("[channel.activate, channel.dial]", "all")
    path.write_text(base + "conventions:\n  activation: sometimes\n  state: {}\n")
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    assert re.search(r"bad.yaml:9: .*sometimes", str(raised.value)), str(raised.value)
    # at the misspelled key's own line, not at its parent's (issue 18)
    assert re.search(r"bad.yaml:10: .*'state' was unexpected", str(raised.value)), str(raised.value)


def test_lint_lists_the_conventions_problems_as_file_line(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    assert lint_paths([path], catalogue.root) == 2  # an input-file error (the exit-code contract)
    out = capsys.readouterr().out
    assert re.search(r"bad.yaml:10: .*'channel.fly' is not a command of the catalogue", out), out


def test_the_template_and_a_conventions_file_for_serve_load(catalogue: Catalogue, tmp_path: Path) -> None:
    template = ROOT / "suites/profiles/vendor-template.yaml"
    assert load_profile(template, catalogue).conventions == Conventions()  # the section is shown commented out
    lines = template.read_text().splitlines()
    start = lines.index("# conventions:")
    shown = [line[2:] for line in lines[start:] if line.startswith("# ") and not line.startswith("#   #")]
    (tmp_path / "uncommented.yaml").write_text("\n".join([*lines[:start], *shown]) + "\n")
    uncommented = load_profile(tmp_path / "uncommented.yaml", catalogue).conventions
    assert uncommented.commands == {DTMF: "conversation.senddtmf"} and uncommented.extra_events
    assert set(uncommented.extras.commands) == {"agent.notready"}
    assert set(uncommented.extras.stimuli) == {"channel.inactive", "channel.ready"}
    path = tmp_path / "conventions.yaml"
    path.write_text("conventions:\n  commands: {conversation.request.dtmf: conversation.senddtmf}\n")
    assert load_conventions(path, catalogue).commands == {DTMF: "conversation.senddtmf"}
    path.write_text("conventions:\n  extra_events: [channel.created]\n")
    with pytest.raises(SpecError, match=r"conventions.yaml:2: .*channel.created is an event of the catalogue"):
        load_conventions(path, catalogue)
    path.write_text("name: x\n")
    with pytest.raises(SpecError, match="no conventions: section"):
        load_conventions(path, catalogue)


def test_problems_never_raise_on_any_shape(catalogue: Catalogue) -> None:
    for data in (
        None,
        [],
        "x",
        {"commands": []},
        {"states": {"channel": []}},
        {"extra_events": "x"},
        {"states": {"channel": {"": "ACTIVE"}}},
        {"commands": {DTMF: 3}},
        {"activation": 1},
    ):
        assert problems(catalogue, data), data


def test_a_call_flow_skips_activating_a_start_up_channel_on_a_self_activating_adapter(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    from harness.cases import scenario_case
    from harness.suite import load_scenario

    scenario = load_scenario(ROOT / "suites/conformance/inbound-call-hold-retrieve.yaml", catalogue)
    assert scenario.steps[0].name == "channel.activate" and scenario.startup_activations == {0}
    text = (ROOT / "suites/profiles/reference-generic.yaml").read_text()
    (tmp_path / "self.yaml").write_text(_self_activating(text))
    (tmp_path / "command.yaml").write_text(text)
    self_case = scenario_case(scenario, load_profile(tmp_path / "self.yaml", catalogue))
    assert self_case.applicable and self_case.flow.steps == scenario.steps[1:]
    command_case = scenario_case(scenario, load_profile(tmp_path / "command.yaml", catalogue))
    assert command_case.flow.steps == scenario.steps


def test_a_state_the_profile_does_not_declare_at_a_declared_level_is_named(catalogue: Catalogue) -> None:
    declared = parse(catalogue, {"states": {"conversation": {"TALKING": "CONNECTED"}}})

    def state(value: str) -> Event:
        return Event("state.updated", "S1.c.i.v", {"state": value}, {})

    assert undeclared_state(declared, catalogue, state("TALKING"), "conversation") is None
    assert undeclared_state(declared, catalogue, state("HELD"), "conversation") is None  # kept as it is
    assert "none of them" in (undeclared_state(declared, catalogue, state("CONNECTED"), "conversation") or "")
    assert "none of them" in (undeclared_state(declared, catalogue, state("ON_HOLD"), "conversation") or "")
    assert undeclared_state(declared, catalogue, state("ready"), "channel") is None  # nothing declared there


def _self_activating(profile_text: str) -> str:
    """A reference profile's text whose conventions add ``activation: self`` to what it adopts."""
    assert profile_text.count("conventions:\n  adopt: all\n") == 1
    return profile_text.replace("conventions:\n  adopt: all\n", "conventions: {activation: self, adopt: all}\n")


def test_several_adapter_names_may_stand_for_one_catalogue_state(catalogue: Catalogue) -> None:
    """An adapter may call an interaction that consults 'consulting' and otherwise 'active': both are ACTIVE."""
    section = {"states": {"interaction": {"active": "ACTIVE", "consulting": "ACTIVE"}}}
    assert problems(catalogue, section) == []
    assert parse(catalogue, section).states["interaction"] == {"active": "ACTIVE", "consulting": "ACTIVE"}


def _created(target: str, new_id: str = "i7") -> Event:
    raw = {
        "messageType": "e",
        "name": "interaction.created",
        "target": target,
        "data": {"interaction": {"id": new_id}},
    }
    return Event("interaction.created", target, raw["data"], raw)


def test_a_creation_event_declared_about_the_new_object_is_read_about_the_object_it_is_created_in(
    catalogue: Catalogue,
) -> None:
    """``creation_targets: {interaction.created: new}``: the adapter's event about ``S1.c.i7`` is the
    catalogue's about ``S1.c``; the reference adapter plays it the reverse way; an event about the channel
    (the catalogue's way) breaks the declaration; an undeclared event is left as it came."""
    conventions = parse(catalogue, {"creation_targets": {"interaction.created": "new"}})
    levels = _levels({"S1": "session", "S1.c": "channel"})
    about_new = incoming(conventions, catalogue, _created("S1.c.i7"), levels)
    assert about_new is not None and about_new.target == "S1.c" and about_new.raw["target"] == "S1.c"
    assert undeclared_creation_target(conventions, catalogue, _created("S1.c.i7"), levels) is None
    broken = undeclared_creation_target(conventions, catalogue, _created("S1.c"), levels)
    assert broken is not None and "the object it creates" in broken and "'S1.c'" in broken
    kept = _created("S1.c")
    assert incoming(conventions, catalogue, kept, levels) is kept  # left for the check above to report
    out = to_adapter(conventions, catalogue, [kept.raw], levels)
    assert out == [{**kept.raw, "target": "S1.c.i7"}] and kept.raw["target"] == "S1.c"
    conversation = {"messageType": "e", "name": "conversation.created", "target": "S1.c.i7", "data": {}}
    assert to_adapter(conventions, catalogue, [conversation], levels) == [conversation]  # not declared


def test_a_creation_event_declared_about_its_parent_must_not_be_about_the_new_object(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, {"creation_targets": {"interaction.created": "parent"}})
    levels = _levels({"S1": "session", "S1.c": "channel"})
    assert undeclared_creation_target(conventions, catalogue, _created("S1.c"), levels) is None
    broken = undeclared_creation_target(conventions, catalogue, _created("S1.c.i7"), levels)
    assert broken is not None and "the object it is created in" in broken
    # read about its parent all the same, so the model does not report it a second time as a convention
    translated = incoming(conventions, catalogue, _created("S1.c.i7"), levels)
    assert translated is not None and translated.target == "S1.c"
    # an address the model already knows is no new object, whatever its last segment
    known = _levels({"S1": "session", "S1.c": "channel", "S1.c.i7": "interaction"})
    assert incoming(conventions, catalogue, _created("S1.c.i7"), known).target == "S1.c.i7"  # type: ignore[union-attr]


def test_creation_targets_problems_are_named(catalogue: Catalogue) -> None:
    found = problems(catalogue, {"creation_targets": {"state.updated": "new", "interaction.created": "self"}})
    assert [path for path, _ in found] == [
        ("creation_targets", "state.updated"),
        ("creation_targets", "interaction.created"),
    ]
    assert "not a creation event" in found[0][1] and "parent" in found[1][1]
    assert problems(catalogue, {"creation_targets": ["interaction.created"]})[0][0] == ("creation_targets",)
    assert parse(catalogue, {"creation_targets": {"conversation.created": "new"}}).to_json()[
        "creation_targets"
    ] == {"conversation.created": "new"}


FACETS = {
    "conversation.infochanged": {"muted": "$.muted"},
    "interaction.infochanged": {
        "recording": {"path": "$.info.recording", "values": {"RECORDING": True, "STOPPED": False}}
    },
}


def _own(name: str, target: str, data: dict[str, Any]) -> Event:
    raw = {"messageType": "e", "name": name, "target": target, "data": data}
    return Event(name, target, data, raw)


def test_an_event_of_the_adapters_own_that_carries_a_facet_is_read_as_the_catalogues(catalogue: Catalogue) -> None:
    """``facet_events``: ``conversation.infochanged {"muted": true}`` is the catalogue's ``state.updated {muted:
    true}`` about the same call; ``interaction.infochanged {"info": {"recording": false}}`` with the adapter's
    values is ``recording: STOPPED``; one that carries none of its facets is the adapter's own (not judged);
    the reference adapter plays each the reverse way."""
    conventions = parse(catalogue, {"facet_events": FACETS, "extra_events": ["conversation.infochanged"]})
    levels = _levels({})
    muted = incoming(conventions, catalogue, _own("conversation.infochanged", "S1.c.i.v", {"muted": True}), levels)
    assert muted is not None and (muted.name, muted.target, muted.data) == (
        "state.updated",
        "S1.c.i.v",
        {"muted": True},
    )
    stopped = incoming(
        conventions, catalogue, _own("interaction.infochanged", "S1.c.i", {"info": {"recording": False}}), levels
    )
    assert stopped is not None and stopped.data == {"recording": "STOPPED"}
    assert (
        incoming(conventions, catalogue, _own("conversation.infochanged", "S1.c.i.v", {"volume": 3}), levels)
        is None
    )
    frames = [
        {"messageType": "e", "name": "state.updated", "target": "S1.c.i.v", "data": {"muted": False}},
        {"messageType": "e", "name": "state.updated", "target": "S1.c.i", "data": {"recording": "RECORDING"}},
        {"messageType": "e", "name": "state.updated", "target": "S1.c.i", "data": {"state": "ACTIVE"}},
    ]
    out = to_adapter(conventions, catalogue, frames, levels)
    assert [(f["name"], f["data"]) for f in out] == [
        ("conversation.infochanged", {"muted": False}),
        ("interaction.infochanged", {"info": {"recording": True}}),
        ("state.updated", {"state": "ACTIVE"}),
    ]
    back = [incoming(conventions, catalogue, classify(__import__("json").dumps(f)), levels) for f in out]
    assert [m.raw for m in back if m is not None] == frames  # both ways: the identity


def test_facet_events_problems_are_named(catalogue: Catalogue) -> None:
    found = problems(
        catalogue,
        {
            "facet_events": {
                "state.updated": {"muted": "$.muted"},
                "x.info": {
                    "volume": "$.v",
                    "muted": "muted",
                    "recording": {"path": "$.r", "values": {"ON": True}},
                },
            }
        },
    )
    assert [path for path, _ in found] == [
        ("facet_events", "state.updated"),
        ("facet_events", "x.info", "volume"),
        ("facet_events", "x.info", "muted"),
        ("facet_events", "x.info", "recording", "values", "ON"),
    ]
    assert parse(catalogue, {"facet_events": FACETS}).to_json()["facet_events"] == FACETS


def test_one_adapter_state_name_may_stand_for_several_catalogue_states(catalogue: Catalogue) -> None:
    """``interaction: {active: [DIALING, ACTIVE]}``: the name is left as it came at the boundary and read as the
    state the catalogue expects there (else the object's current one, else one it may change to); the
    reference adapter calls both states by it; a name not declared at that level still fails."""
    section = {"states": {"interaction": {"active": ["DIALING", "ACTIVE"], "offered": "ALERTING"}}}
    assert problems(catalogue, section) == []
    conventions = parse(catalogue, section)
    assert conventions.shared_states == {"interaction": {"active": ("DIALING", "ACTIVE")}}
    assert conventions.states == {"interaction": {"offered": "ALERTING"}}
    assert conventions.to_json()["states"] == section["states"]
    assert conventions.adapter_states("interaction") == {
        "DIALING": "active",
        "ACTIVE": "active",
        "ALERTING": "offered",
    }

    def state(value: str) -> Event:
        data = {"state": value}
        return Event(
            "state.updated",
            "S1.c.i",
            data,
            {"messageType": "e", "name": "state.updated", "target": "S1.c.i", "data": data},
        )

    levels = _levels({"S1.c.i": "interaction"})
    assert incoming(conventions, catalogue, state("active"), levels).data == {"state": "active"}  # type: ignore[union-attr]
    assert undeclared_state(conventions, catalogue, state("active"), "interaction") is None
    assert undeclared_state(conventions, catalogue, state("DIALING"), "interaction") is not None  # declared away
    assert undeclared_state(conventions, catalogue, state("ENDED"), "interaction") is None  # not renamed
    resolved = [
        resolve_shared(conventions, catalogue, state("active"), "interaction", current, expected).data["state"]
        for current, expected in (
            (None, ["DIALING"]),
            ("DIALING", ["ACTIVE"]),
            ("DIALING", []),
            (None, []),
            ("ALERTING", []),
        )
    ]
    assert resolved == ["DIALING", "ACTIVE", "DIALING", "DIALING", "ACTIVE"]
    assert resolve_shared(conventions, catalogue, state("offered"), "interaction", None, []).data == {
        "state": "offered"
    }


def test_a_shared_state_name_needs_two_states_of_its_level(catalogue: Catalogue) -> None:
    found = problems(
        catalogue,
        {
            "states": {
                "interaction": {"a": ["ACTIVE"], "b": ["ACTIVE", "HELD", "ACTIVE"], "ENDED": ["DIALING", "ACTIVE"]}
            }
        },
    )
    assert [path for path, _ in found] == [
        ("states", "interaction", "a"),
        ("states", "interaction", "b", 1),
        ("states", "interaction", "b", 2),
        ("states", "interaction", "ENDED"),
    ]


def test_a_boolean_facets_values_are_written_as_words(catalogue: Catalogue) -> None:
    """YAML keys are strings: ``muted``'s catalogue values are written ``"true"`` and ``"false"``."""
    section = {"facet_events": {"call.mute": {"muted": {"path": "$.m", "values": {"true": "on", "false": "off"}}}}}
    assert problems(catalogue, section) == []
    conventions = parse(catalogue, section)
    read = incoming(conventions, catalogue, _own("call.mute", "S1.c.i.v", {"m": "off"}), _levels({}))
    assert read is not None and read.data == {"muted": False}
    assert conventions.to_json()["facet_events"] == section["facet_events"]
    assert problems(catalogue, {"facet_events": {"call.mute": {"muted": {"path": "$.m", "values": {"yes": 1}}}}})
