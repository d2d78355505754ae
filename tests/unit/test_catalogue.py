from pathlib import Path

import pytest

from harness.spec.catalogue import Catalogue, EachAbout
from harness.spec.loader import SpecError, load_catalogue


def test_the_shipped_catalogue_loads_clean(catalogue: Catalogue) -> None:
    assert {"channel.dial", "interaction.accept", "conversation.hold", "conversation.retrieve"} <= set(
        catalogue.commands
    )
    assert len(catalogue.version) == 12


def test_the_dial_list_is_encoded_in_full_and_in_the_seed_order(catalogue: Catalogue) -> None:
    dial = catalogue.commands["channel.dial"].events
    assert dial.complete and not dial.interleave_allowed
    assert [entry.event for entry in dial.entries] == [
        "channel.infochanged",
        "state.updated",
        "interaction.created",
        "state.updated",
        "conversation.created",
        "state.updated",
        "conversation.member.added",
        "conversation.initialized",
        "interaction.datachanged",
        "interaction.preview",
        "interaction.initialized",
    ]
    assert dial.entries[9].ref.file == "specs/commands/channel.dial.yaml"
    assert dial.entries[9].ref.seed == "001_a721d25eafd7d182.txt"


def test_lists_the_seeds_cut_are_marked_incomplete(catalogue: Catalogue) -> None:
    for name in ("interaction.accept", "conversation.hold", "conversation.retrieve"):
        assert not catalogue.commands[name].events.complete, name


def test_every_problem_in_every_file_is_reported_at_once(specs_copy: Path) -> None:
    dial = specs_copy / "commands" / "channel.dial.yaml"
    dial.write_text(dial.read_text().replace("interaction.preview", "interaction.peek"))
    line = next(n for n, text in enumerate(dial.read_text().splitlines(), 1) if "interaction.peek" in text)
    hold = specs_copy / "commands" / "conversation.hold.yaml"
    hold.write_text(hold.read_text().replace("state: [CONNECTED]", "state: [TALKING]"))
    event = specs_copy / "events" / "channel.initialized.yaml"
    event.write_text(event.read_text().replace("levels: [channel]", "levels: channel"))
    with pytest.raises(SpecError) as raised:
        load_catalogue(specs_copy)
    text = str(raised.value)
    assert (
        f"specs/commands/channel.dial.yaml:{line}: command channel.dial: event 'interaction.peek' is not defined"
        in text
    )
    assert "specs/commands/conversation.hold.yaml:" in text and "'TALKING' is not a state of conversation" in text
    assert "specs/events/channel.initialized.yaml:4: levels: 'channel' is not of type 'array'" in text


def test_an_about_name_must_be_bound_by_an_earlier_entry(specs_copy: Path) -> None:
    dial = specs_copy / "commands" / "channel.dial.yaml"
    text = dial.read_text().replace(
        "{event: interaction.created, about: target, as: interaction}",
        "{event: interaction.created, about: target, as: call}",
    )
    dial.write_text(text)
    with pytest.raises(SpecError) as raised:
        load_catalogue(specs_copy)
    assert "is about 'interaction', which no earlier entry binds" in str(raised.value)


def test_an_inferred_spec_must_say_why(specs_copy: Path) -> None:
    path = specs_copy / "commands" / "channel.activate.yaml"
    lines = [line for line in path.read_text().splitlines() if not line.startswith(("reason:", "  "))]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as raised:
        load_catalogue(specs_copy)
    assert "channel.activate.yaml:1: 'reason' is a required property" in str(raised.value)


def test_each_about_expands_over_existing_objects(catalogue: Catalogue) -> None:
    accept = catalogue.commands["interaction.accept"].events
    assert isinstance(accept.entries[2].about, EachAbout)
    assert accept.entries[2].about.level == "conversation"


def test_counting_initialized_objects_needs_a_level_some_event_initializes(specs_copy: Path) -> None:
    event = specs_copy / "events" / "channelgroup.initialized.yaml"
    event.write_text(event.read_text().replace("{count: {channel:", "{count: {conversation:"))
    load_catalogue(specs_copy)  # conversation.initialized initializes a conversation
    initializing = specs_copy / "events" / "conversation.initialized.yaml"
    initializing.write_text(initializing.read_text().replace("effect: {initializes: true}", "effect: {}"))
    with pytest.raises(SpecError) as raised:
        load_catalogue(specs_copy)
    text = str(raised.value)
    assert "specs/events/channelgroup.initialized.yaml:" in text
    assert "event channelgroup.initialized, requires: count: no event initializes a conversation" in text
