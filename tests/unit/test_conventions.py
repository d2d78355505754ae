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
    self_activation,
    to_adapter,
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
