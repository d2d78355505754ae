"""Frames for message-level fuzzing: valid data comes from the catalogue, and the bad frames the catalogue
refuses are refused by the simulated platform (so the catalogue, not the operator, says they are invalid)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from harness.core.messages import Event, nesting_depth_exceeds
from harness.core.simulate import Platform, channel_seeds
from harness.fuzz.frames import (
    FAMILIES,
    HUGE_BYTES,
    MAX_FRAME_BYTES,
    MAX_REQUEST_DEPTH,
    Frame,
    bad_frames,
    request_data,
    valid_requests,
)
from harness.paths import specs_dir
from harness.spec.catalogue import Catalogue, Schema, with_facts
from harness.spec.loader import load_catalogue

RUN = settings(max_examples=60, derandomize=True, deadline=None, database=None)
SEARCH = settings(max_examples=500, derandomize=True, deadline=None, database=None)

# The families whose every frame the catalogue refuses, whatever the adapter's state.
REFUSED = (
    "missing field",
    "wrong type",
    "unknown command",
    "malformed target",
    "target too deep",
    "target too shallow",
    "disposed target",
    "unknown target",
    "invalid data",
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(specs_dir())


def started(catalogue: Catalogue, platform: str) -> Platform:
    """A simulated platform after start-up with a telephony, a chat and a second telephony channel; the last
    one is then disposed (by the catalogue's event that disposes a channel)."""
    simulated = Platform(catalogue, platform=platform)
    seeds: list[Mapping[str, Any]] = [*channel_seeds(catalogue, ("telephony", "chat", "telephony"))]
    simulated.startup(seeds, "S1")
    gone = max(obj.address for obj in simulated.model.of_level("channel"))
    dispose = next(spec for spec in catalogue.events.values() if spec.disposes and "channel" in spec.levels)
    event = simulated.event(dispose.name, gone, dispose.example)
    simulated.model.apply(Event(dispose.name, gone, event["data"], event))
    return simulated


Platforms = dict[str, tuple[Platform, dict[str, Any]]]


@pytest.fixture(scope="module")
def platforms(catalogue: Catalogue) -> Platforms:
    """Per platform: the started simulation and the keyword arguments of bad_frames for it (every command
    declared)."""
    out: Platforms = {}
    for platform in sorted(catalogue.platforms):
        simulated = started(catalogue, platform)
        out[platform] = (
            simulated,
            {
                "catalogue": catalogue,
                "platform": platform,
                "facts": simulated.facts,
                "commands": sorted(catalogue.commands),
                "live": [(obj.address, obj.level) for obj in simulated.model.objects.values()],
                "disposed": list(simulated.model.disposed),
            },
        )
    return out


def strict_json(text: str) -> Any:
    """JSON as the protocol means it (Python's json also accepts NaN and Infinity)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def pairs(catalogue: Catalogue) -> list[tuple[str, str]]:
    """(command, platform) for every platform each command exists on."""
    return [
        (name, platform)
        for name, spec in sorted(catalogue.commands.items())
        for platform in sorted(spec.platforms)
    ]


def examples(catalogue: Catalogue, name: str, platform: str) -> list[Any]:
    spec, facts = catalogue.commands[name], catalogue.platforms[platform].facts
    found = [spec.example_for(platform)] + [o.example for o in spec.outcomes if o.example is not None]
    return [with_facts(dict(example), facts) for example in found]


def test_the_started_platforms_have_live_and_disposed_objects(platforms: Platforms) -> None:
    for _, kwargs in platforms.values():
        assert {level for _, level in kwargs["live"]} >= {"session", "channel"}
        assert kwargs["disposed"] and not set(kwargs["disposed"]) & {address for address, _ in kwargs["live"]}


def test_request_data_is_valid_for_every_command_on_every_platform_and_reaches_beyond_the_examples(
    catalogue: Catalogue,
) -> None:
    strategies = {
        (name, platform): request_data(catalogue, name, platform, catalogue.platforms[platform].facts)
        for name, platform in pairs(catalogue)
    }
    beyond: set[tuple[str, str]] = set()

    @RUN
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for (name, platform), strategy in strategies.items():
            drawn = data.draw(strategy, label=f"{name} on {platform}")
            assert catalogue.commands[name].request_errors(platform, drawn) == [], (name, platform, drawn)
            if drawn not in examples(catalogue, name, platform):
                beyond.add((name, platform))

    draw()
    declaring = {pair for pair in strategies if catalogue.commands[pair[0]].request.document.get("properties")}
    assert declaring and declaring <= beyond


def test_request_data_shrinks_to_the_commands_example_for_the_platform(catalogue: Catalogue) -> None:
    every = [pair for pair in pairs(catalogue) if len(examples(catalogue, *pair)) > 1]
    assert len(every) > 1
    for name, platform in every:  # one search each: a tuple's shrink budget would be shared by all of them
        strategy = request_data(catalogue, name, platform, catalogue.platforms[platform].facts)
        simplest = find(strategy, lambda _: True, settings=SEARCH)
        assert simplest == examples(catalogue, name, platform)[0], (name, platform)


def test_a_schema_the_walker_does_not_know_yields_the_examples_alone(catalogue: Catalogue) -> None:
    spec = next(spec for spec in catalogue.commands.values() if spec.example and not spec.platform_requests)
    unknown = Schema.of({"type": "object", "patternProperties": {"^": {"type": "string"}}})
    changed = replace(catalogue, commands={**catalogue.commands, spec.name: replace(spec, request=unknown)})
    platform = sorted(spec.platforms)[0]
    seen: list[Any] = []

    @RUN
    @given(request_data(changed, spec.name, platform, {}))
    def draw(drawn: Any) -> None:
        seen.append(drawn)

    draw()
    assert seen and all(drawn == dict(spec.example) for drawn in seen)


def test_every_bad_frame_is_text_or_bytes_under_512_KiB_and_at_most_62_deep(platforms: Platforms) -> None:
    strategies = {platform: bad_frames(**kwargs) for platform, (_, kwargs) in platforms.items()}

    @settings(RUN, max_examples=120)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for platform, strategy in strategies.items():
            frame = data.draw(strategy, label=platform)
            assert (frame.text is None) != (frame.binary is None)
            size = len(frame.text.encode("utf-8")) if frame.text is not None else len(frame.binary or b"")
            assert size < MAX_FRAME_BYTES, frame.how
            assert frame.family in FAMILIES and len(frame.how) < 120
            try:
                value = json.loads(frame.text) if frame.text is not None else None
            except ValueError:
                continue
            if isinstance(value, dict) and isinstance(value.get("command"), str):
                assert not nesting_depth_exceeds(value, MAX_REQUEST_DEPTH), frame.how

    draw()


def test_a_run_of_bad_frames_uses_every_family(platforms: Platforms) -> None:
    seen: set[str] = set()

    @settings(RUN, max_examples=300)
    @given(bad_frames(**platforms["generic"][1]))
    def draw(frame: Frame) -> None:
        seen.add(frame.family)

    draw()
    assert seen == set(FAMILIES)


def test_each_family_makes_frames_it_describes(platforms: Platforms) -> None:
    kwargs = platforms["generic"][1]
    strategies = {family: bad_frames(**kwargs, families=[family]) for family in FAMILIES}

    @settings(RUN, max_examples=5)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for family, strategy in strategies.items():
            frame = data.draw(strategy, label=family)
            assert frame.how.startswith(family + ": ") and frame.how != family + ": "

    draw()


def test_disposed_targets_need_disposed_objects_and_families_are_checked(platforms: Platforms) -> None:
    kwargs = platforms["generic"][1]
    assert bad_frames(**{**kwargs, "disposed": []}, families=["disposed target"]).is_empty
    with pytest.raises(ValueError, match="no such family"):
        bad_frames(**kwargs, families=["no such family"])


def test_frames_of_the_refused_families_are_refused_by_the_simulated_platform(platforms: Platforms) -> None:
    strategies = {platform: bad_frames(**kwargs, families=REFUSED) for platform, (_, kwargs) in platforms.items()}

    @settings(RUN, max_examples=100)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for platform, strategy in strategies.items():
            frame = data.draw(strategy, label=platform)
            assert frame.text is not None
            request = json.loads(frame.text)
            decision = platforms[platform][0].decide(request)
            assert decision.refusal is not None, (frame.how, frame.text)
            if frame.family == "invalid data":
                spec = platforms[platform][0].catalogue.commands[request["command"]]
                assert spec.request_errors(platform, request["data"]), frame.how

    draw()


@pytest.mark.parametrize("surrogate", ["lone high surrogate", "lone low surrogate"])
def test_lone_surrogates_are_sent_as_json_escapes(platforms: Platforms, surrogate: str) -> None:
    strategy = bad_frames(**platforms["generic"][1], families=["unusual unicode"])
    frame = find(strategy, lambda f: surrogate in f.how, settings=SEARCH)
    assert frame.text is not None
    frame.text.encode("utf-8")  # a text frame is always valid UTF-8
    escape, character = ("\\ud800", "\ud800") if "high" in surrogate else ("\\udc00", "\udc00")
    assert escape in frame.text and character not in frame.text
    assert character in json.dumps(json.loads(frame.text), ensure_ascii=False)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_huge_strings_come_close_to_the_frame_limit_without_passing_it(platforms: Platforms) -> None:
    strategy = bad_frames(**platforms["generic"][1], families=["huge string"])
    frame = find(strategy, lambda f: len((f.text or "").encode("utf-8")) > 0.9 * HUGE_BYTES, settings=SEARCH)
    # a failure echoes the request twice (command and original): three times the frame stays under 1 MiB
    assert len((frame.text or "").encode("utf-8")) < MAX_FRAME_BYTES
    assert 3 * len((frame.text or "").encode("utf-8")) < 1 << 20


def test_deep_nesting_reaches_the_request_depth_limit(platforms: Platforms) -> None:
    strategy = bad_frames(**platforms["generic"][1], families=["deep nesting"])
    deepest = find(
        strategy, lambda f: nesting_depth_exceeds(json.loads(f.text or ""), MAX_REQUEST_DEPTH - 1), settings=SEARCH
    )
    assert not nesting_depth_exceeds(json.loads(deepest.text or ""), MAX_REQUEST_DEPTH)


@settings(RUN, max_examples=100)
@given(st.data())
def test_frames_that_are_not_json_do_not_parse(platforms: Platforms, data: st.DataObject) -> None:
    frame = data.draw(bad_frames(**platforms["generic"][1], families=["not json"]))
    with pytest.raises(ValueError):
        strict_json(frame.text or "")


def test_valid_requests_name_a_declared_command_a_live_target_of_its_level_and_valid_data(
    platforms: Platforms,
) -> None:
    strategies = {}
    for platform, (_, kwargs) in platforms.items():
        declared = {key: value for key, value in kwargs.items() if key != "disposed"}
        strategies[platform] = valid_requests(**declared), dict(kwargs["live"])

    @RUN
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        for platform, (strategy, live) in strategies.items():
            request = data.draw(strategy, label=platform)
            spec = platforms[platform][0].catalogue.commands[request["command"]]
            assert platform in spec.platforms and live[request["target"]] == spec.level
            assert spec.request_errors(platform, request["data"]) == []
            assert list(request) == ["command", "target", "data"]

    draw()


def test_valid_requests_are_nothing_when_no_command_applies(platforms: Platforms) -> None:
    kwargs = {key: value for key, value in platforms["generic"][1].items() if key != "disposed"}
    assert valid_requests(**{**kwargs, "live": []}).is_empty
    assert valid_requests(**{**kwargs, "commands": ["no.such.command"]}).is_empty


def test_a_frame_carries_text_or_bytes_never_both() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Frame("{}", b"{}", "both")
    with pytest.raises(ValueError, match="exactly one"):
        Frame(None, None, "neither")
