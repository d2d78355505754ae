"""How an adapter names a channel's media (``conventions.media``, ERRATA R23): translation both ways, the model's
reading with and without a declaration, and lint at file:line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.core.conditions import Context, legal
from harness.core.conventions import Conventions, from_query, incoming, parse, to_adapter
from harness.core.media import MediaNaming, catalogue_media, named_in, undeclared
from harness.core.messages import Event
from harness.core.objects import ObjectModel
from harness.core.simulate import Platform
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_profile

DECLARED = {"media": {"path": "$.channel.type", "names": {"voice": "telephony", "webchat": "chat"}}}
DIAL = "channel.dial"


def _created(channel: dict[str, Any], target: str = "S1") -> dict[str, Any]:
    return {"messageType": "e", "name": "channel.created", "target": target, "data": {"channel": channel}}


def _event(raw: dict[str, Any]) -> Event:
    return Event(raw["name"], raw["target"], raw.get("data"), raw)


def _model(catalogue: Catalogue, *frames: dict[str, Any]) -> ObjectModel:
    model = ObjectModel(catalogue)
    model.apply(Event("session.initialized", "S1", {}, {"name": "session.initialized", "target": "S1"}))
    for frame in frames:
        model.apply(_event(frame))
    return model


def _levels(catalogue: Catalogue) -> Any:
    return lambda address: {"S1": "session", "S1.c1": "channel"}.get(address)


def test_the_declared_path_and_names_are_read_as_the_catalogues_media(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, DECLARED)
    assert conventions.media == MediaNaming("$.channel.type", {"voice": "telephony", "webchat": "chat"})
    assert from_query(catalogue, conventions.to_query()) == conventions
    frame = _created({"id": "c1", "name": "Phone", "type": "voice"})
    translated = incoming(conventions, catalogue, _event(frame), _levels(catalogue))
    assert isinstance(translated, Event)
    assert translated.data["channel"]["media"] == "telephony" and "media" not in frame["data"]["channel"]
    model = _model(catalogue, translated.raw)
    assert model.media_of(model.get("S1.c1")) == "telephony"
    # a value the profile does not rename is the catalogue's own; the default naming translates nothing
    chat = incoming(conventions, catalogue, _event(_created({"id": "c2", "type": "chat"})), _levels(catalogue))
    assert isinstance(chat, Event) and chat.data["channel"]["media"] == "chat"
    plain = _event(_created({"id": "c1", "type": "voice"}))
    assert incoming(Conventions(), catalogue, plain, _levels(catalogue)) is plain


def test_the_reference_adapter_names_the_media_the_declared_way(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, DECLARED)
    [out] = to_adapter(conventions, catalogue, [_created({"id": "c1", "media": "telephony"})], _levels(catalogue))
    assert out["data"]["channel"] == {"id": "c1", "type": "voice"}
    same_path = parse(catalogue, {"media": {"names": {"phone": "telephony"}}})
    [out] = to_adapter(same_path, catalogue, [_created({"id": "c1", "media": "telephony"})], _levels(catalogue))
    assert out["data"]["channel"] == {"id": "c1", "media": "phone"}
    back = incoming(same_path, catalogue, _event(out), _levels(catalogue))
    assert isinstance(back, Event) and back.data["channel"]["media"] == "telephony"


def test_a_creation_that_breaks_the_declared_naming_is_named(catalogue: Catalogue) -> None:
    naming = parse(catalogue, DECLARED).media
    assert undeclared(naming, catalogue, _created({"id": "c1", "type": "voice"})) is None
    assert "'chat' is none of them" in str(undeclared(naming, catalogue, _created({"id": "c1", "type": "chat"})))
    voice_only = parse(catalogue, {"media": {"path": "$.channel.type", "names": {"voice": "telephony"}}}).media
    assert undeclared(voice_only, catalogue, _created({"id": "c1", "type": "chat"})) is None  # not renamed
    assert "none is" in str(undeclared(naming, catalogue, _created({"id": "c1", "media": "telephony"})))
    assert "'fax' is none of them" in str(undeclared(naming, catalogue, _created({"id": "c1", "type": "fax"})))
    assert undeclared(MediaNaming(), catalogue, _created({"id": "c1"})) is None  # nothing declared


def test_without_a_declaration_the_only_media_or_a_guess_or_nothing(catalogue: Catalogue) -> None:
    frame = _created({"id": "c1", "name": "Phone", "type": "telephony"})
    assert named_in(frame["data"], catalogue_media(catalogue)) == [("$.channel.type", "telephony")]
    strict = _model(catalogue, frame)  # the reference adapter's model: no guessing
    assert strict.media_of(strict.get("S1.c1")) is None and not strict.media_unsure(strict.get("S1.c1"))
    model = ObjectModel(catalogue)
    model.only_media = "chat"  # the profile's only media: declared, not a guess
    model.apply(Event("session.initialized", "S1", {}, {"name": "session.initialized", "target": "S1"}))
    model.apply(_event(frame))
    assert model.media_of(model.get("S1.c1")) == "chat"
    guessing = ObjectModel(catalogue)
    guessing.guess_media = catalogue_media(catalogue)
    guessing.apply(Event("session.initialized", "S1", {}, {"name": "session.initialized", "target": "S1"}))
    guessing.apply(_event(frame))
    guessing.apply(_event(_created({"id": "c2", "name": "x"})))
    c1, c2 = guessing.get("S1.c1"), guessing.get("S1.c2")
    assert guessing.media_of(c1) == "telephony" and guessing.media_unsure(c1)
    assert guessing.media_of(c2) is None and guessing.media_unsure(c2)
    # a later channel.infochanged that names it where the catalogue reads it settles it
    info = {
        "messageType": "e",
        "name": "channel.infochanged",
        "target": "S1.c2",
        "data": {"channel": {"media": "chat"}},
    }
    guessing.apply(_event(info))
    assert guessing.media_of(c2) == "chat" and not guessing.media_unsure(c2)
    assert guessing.copy().media_of(guessing.copy().get("S1.c1")) == "telephony"


def test_a_decision_that_reads_a_guessed_media_is_a_convention(catalogue: Catalogue) -> None:
    model = ObjectModel(catalogue)
    model.guess_media = catalogue_media(catalogue)
    model.apply(Event("session.initialized", "S1", {}, {"name": "session.initialized", "target": "S1"}))
    model.apply(_event(_created({"id": "c1", "name": "x"})))  # names no media at all
    model.apply(_event(_created({"id": "c2", "media": "chat"})))
    unknown, chat = model.get("S1.c1"), model.get("S1.c2")
    assert unknown is not None and chat is not None
    unknown.state = chat.state = "ACTIVE"
    inbound = catalogue.stimuli["call.inbound"].when
    context = Context(platform="generic")
    assert legal(inbound, model, unknown, context) == []  # a guess that holds: the planner may try it
    assert legal(inbound, model, chat, context)  # a chat channel the adapter named is no telephony channel
    platform = Platform(catalogue, model, platform="generic")
    dial = {"command": DIAL, "target": "S1.c1", "data": catalogue.commands[DIAL].example_for("generic")}
    decision = platform.decide(dial)
    assert decision.result == "success" and decision.guess is not None and "guess" in decision.guess
    assert decision.inferred is None  # the dial's events do not read the media: still the seeds' list
    assert platform.decide({**dial, "target": "S1.c2"}).result == "failure"
    model.guess_media = frozenset()  # the reference adapter's model: an unknown media is no telephony
    assert any("unknown channel" in reason for reason in legal(inbound, model, unknown, context))
    assert platform.decide(dial).inferred is None and platform.decide(dial).guess is None


BAD = """\
format: mbconform/profile/1
name: bad-media
platform: generic
addressing: flat
commands: all
stimuli: {driver: none}
timing: {step_timeout: 5}
conventions:
  media:
    path: "$.channel.type"
    names:
      voice: telephony
      phone: telephony
      chat: telephony
"""


def test_a_bad_media_section_is_named_at_its_line(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    text = str(raised.value)
    assert re.search(r"bad.yaml:13: .*telephony already has the adapter's value 'voice'", text), text
    path.write_text(BAD.replace('"$.channel.type"', '"$..type"').replace("      phone: telephony\n", ""))
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    assert re.search(r"bad.yaml:10: .*\$\.\.type", str(raised.value)), str(raised.value)
    path.write_text(BAD.split("    names:")[0] + "    names: {voice: fax}\n")
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    assert re.search(r"bad.yaml:11: .*fax", str(raised.value)), str(raised.value)
