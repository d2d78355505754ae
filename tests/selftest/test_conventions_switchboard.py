"""The conventions switchboard: the reference adapter plays random combinations of the conventions the seeds
leave open (its DTMF command's name, its state names, its own start-up events, channels that activate
themselves) and of what the seeds allow both ways (events before the response, channel groups, the
platform); for each, a profile that declares them certifies it with no false verdict, and named faults are
still caught under them.

Each combination is drawn from a seed. A handful of fixed seeds run in the normal tests; 200 more with
``MBCONFORM_SWITCHBOARD_LONG=1`` (marker ``long``; ``MBCONFORM_SWITCHBOARD_COUNT`` changes how many).
The suite runs in this process (:func:`harness.selftest.run_matrix`) against one reference adapter in a child
process with test control on; each combination reaches it through the profile's connection parameters.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.conventions import Conventions, parse
from harness.core.testcontrol import STIMULATE
from harness.core.violations import Category, Verdict
from harness.paths import suites_dir
from harness.reference.faults import NAMED
from harness.reference.process import RunningAdapter, start_reference
from harness.selftest import Job, Runner, run_matrix, suite_cases
from harness.spec.catalogue import Catalogue
from harness.suite import Profile, load_profile

pytestmark = pytest.mark.selftest

QUICK_SEEDS = (1, 7)  # derandomized, and between them each switch both ways (see the test below)
LONG = os.environ.get("MBCONFORM_SWITCHBOARD_LONG") == "1"
LONG_COUNT = int(os.environ.get("MBCONFORM_SWITCHBOARD_COUNT", "200"))
LONG_FIRST_SEED = 1000
PROFILES = {"generic": "reference-generic.yaml", "incontact": "reference-incontact.yaml"}
DTMF = "conversation.request.dtmf"  # the command whose name the seeds lost (ERRATA R16)
DTMF_NAMES = ("conversation.senddtmf", "conversation.dtmf", "conversation.playDigits", "call.sendtones")
EXTRA_EVENTS = ("session.welcome", "session.hello", "vendor.agent.notice", "adapter.version")
MEDIA_PATHS = ("$.channel.type", "$.channel.kind", "$.channel.media", "$.channel.info.mediaType")
MEDIA_NAMES = {"telephony": ("voice", "phone", "PSTN"), "chat": ("webchat", "Chat", "im")}
EXTRA_NAMES = {  # (make inactive, make active) as a lab's stimuli or as the adapter's own commands
    "extra_stimuli": [("channel.inactive", "channel.ready"), ("lab.agent.notready", "lab.agent.available")],
    "extra_commands": [("agent.notready", "agent.available"), ("channel.deactivate", "channel.reactivate")],
}
WORDS = ("TALKING", "RINGING", "READY", "BUSY", "OFFLINE", "PARKED", "WRAPUP", "LIVE", "GONE", "DONE")
# With channels that activate themselves, the cases lost are the activation command's own and those that need
# a channel not yet active (or one added after start-up): at most this share
MOST_LOST_TO_SELF_ACTIVATION = 0.1
CONCURRENCY = 16
MOST_STUCK_UNDECLARED_MEDIA = 0.05  # share of cases that may end inconclusive when media naming is undeclared
UNDECLARED_STEP_TIMEOUT = 5.0  # seconds, the reference profiles': a busy machine answers within it (issue 15)


@dataclass(frozen=True)
class Combination:
    seed: int
    platform: str
    addressing: str
    events_first: bool
    conventions: dict[str, Any]  # the profile's conventions: section
    faults: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"seed {self.seed}: {self.platform}, {self.addressing}, "
            f"{'events first' if self.events_first else 'response first'}, conventions {self.conventions}, "
            f"faults {', '.join(self.faults)}"
        )


def _state_names(rng: random.Random, catalogue: Catalogue, level: str) -> dict[str, str]:
    """The adapter's names for one to all states of ``level`` (adapter name -> catalogue state), in random
    case; never a catalogue state name of that level."""
    states = sorted(catalogue.levels[level].states)
    chosen = rng.sample(states, rng.randint(1, len(states)))
    taken = set(states)
    names: dict[str, str] = {}
    for state in chosen:
        word = rng.choice([state, rng.choice(WORDS), f"{state}_{rng.randint(1, 9)}"])
        name = rng.choice([word.lower(), word.capitalize(), f"x{word}", word.lower().replace("_", "-")])
        while name in taken:
            name += rng.choice("abz")
        taken.add(name)
        names[name] = state
    return names


def draw(seed: int, catalogue: Catalogue) -> Combination:
    rng = random.Random(seed)
    platform = rng.choice(sorted(PROFILES))
    conventions: dict[str, Any] = {}
    if rng.random() < 0.7:
        conventions["commands"] = {DTMF: rng.choice(DTMF_NAMES)}
    levels = sorted(name for name, level in catalogue.levels.items() if level.states)
    if rng.random() < 0.85:
        chosen = rng.sample(levels, rng.randint(1, min(3, len(levels))))
        conventions["states"] = {level: _state_names(rng, catalogue, level) for level in chosen}
    extra = rng.sample(EXTRA_EVENTS, rng.randint(0, 2))
    if extra:
        conventions["extra_events"] = extra
    activation = rng.choice(("command", "self"))
    if activation != "command" or rng.random() < 0.5:
        conventions["activation"] = activation
    activation_command = catalogue.startup.activation
    pool = sorted(
        name
        for name, fault in NAMED.items()
        if fault.transport is None
        and fault.applies_on(platform)
        and not (activation == "self" and activation_command in (fault.touches or ()))
        # a fault only where the activation command is legal (dial-inactive) has a test of its own below (and
        # leaving it out keeps every seed's draw what it was before it existed)
        and not fault.states & catalogue.commands[activation_command or ""].when_states
    )
    addressing = rng.choice(("flat", "channelgroup"))
    events_first = rng.random() < 0.5
    faults = tuple(rng.sample(pool, rng.randint(2, 3)))
    media = _media_naming(rng)  # drawn after the others: the switches drawn before it stay what they were
    if media:
        conventions["media"] = media
    creation = _creation_targets(rng, catalogue)  # drawn after the others, likewise
    if creation:
        conventions["creation_targets"] = creation
    facets = _facet_events(rng)  # drawn after the others, likewise
    if facets:
        conventions["facet_events"] = facets
    if rng.random() < 0.3:  # drawn after the others: one name for an outbound interaction, dialling or answered
        _share_states(rng, conventions, "interaction", SHARED_INTERACTION)
    conventions.update(_extras(rng, catalogue))  # drawn last, for the same reason
    return Combination(seed, platform, addressing, events_first, conventions, faults)


def _extras(rng: random.Random, catalogue: Catalogue) -> dict[str, Any]:
    """Half the time, the adapter's own way to make a channel inactive and active again (a lab's stimuli, or
    commands of its own), declared as extras: with channels that activate themselves, the only way to an
    inactive channel. Their states are the activation command's: from where it is legal, to where it leads."""
    if rng.random() < 0.5:
        return {}
    activate = catalogue.commands[catalogue.startup.activation or ""]
    inactive = sorted(activate.when_states)
    active = sorted(
        str(entry.data["state"])
        for entry in activate.events.entries
        if entry.about == "target" and "state" in entry.data
    )
    kind, names = rng.choice(list(EXTRA_NAMES.items()))

    def declared(origin: list[str], to: str) -> dict[str, Any]:
        return {
            "level": activate.level,
            "from": origin,
            "to": to,
            "events": [{"event": "state.updated", "about": "target", "data": {"state": to}}],
        }

    off, on = rng.choice(names)
    return {kind: {off: declared(active, inactive[0]), on: declared(inactive, active[-1])}}


def _media_naming(rng: random.Random) -> dict[str, Any]:
    """How the adapter names a channel's media (ERRATA R23): under another field and/or with its own values
    for some catalogue media; {} for the catalogue's own way."""
    if rng.random() < 0.4:
        return {}
    naming: dict[str, Any] = {}
    path = rng.choice(MEDIA_PATHS)
    if path != "$.channel.media":
        naming["path"] = path
    chosen = rng.sample(sorted(MEDIA_NAMES), rng.randint(0 if "path" in naming else 1, len(MEDIA_NAMES)))
    if chosen:
        naming["names"] = {rng.choice(MEDIA_NAMES[media]): media for media in chosen}
    return naming


def _creation_targets(rng: random.Random, catalogue: Catalogue) -> dict[str, str]:
    """Which object some creation events are about: the new object (the adapter's way), or, declared all the
    same, the object they are created in (the catalogue's); {} to declare nothing."""
    if rng.random() < 0.5:
        return {}
    creating = sorted(
        name for name, spec in catalogue.events.items() if spec.creates_level and spec.creates_id_path
    )
    chosen = rng.sample(creating, rng.randint(1, len(creating)))
    return {name: rng.choice(("new", "new", "parent")) for name in chosen}


FACET_EVENTS: dict[str, dict[str, Any]] = {
    "conversation.infochanged": {"muted": "$.muted"},
    "call.mute.changed": {"muted": {"path": "$.call.muted", "values": {"true": "on", "false": "off"}}},
    "interaction.infochanged": {
        "recording": {"path": "$.recording", "values": {"RECORDING": True, "STOPPED": False}}
    },
    "recording.status": {"recording": "$.status.recording", "conference": "$.status.conference"},
}


SHARED_INTERACTION = ("DIALING", "ACTIVE")  # an adapter whose dialled interaction is active from the start


def _share_states(rng: random.Random, conventions: dict[str, Any], level: str, shared: tuple[str, ...]) -> None:
    """One adapter name for several catalogue states of ``level`` (conventions.states with a list): the
    catalogue tells a dialled interaction from an answered one, the adapter calls both the same."""
    names = {
        name: state for name, state in conventions.get("states", {}).get(level, {}).items() if state not in shared
    }
    name = rng.choice(("active", "Live", "ACTIVE", "inCall"))
    while name in names:
        name += "x"
    names[name] = list(shared)
    conventions.setdefault("states", {})[level] = names


def _facet_events(rng: random.Random) -> dict[str, Any]:
    """Events of the adapter's own that announce a mute or a recording (one per facet at most); {} for the
    catalogue's state.updated."""
    if rng.random() < 0.5:
        return {}
    chosen: dict[str, Any] = {}
    for name in rng.sample(sorted(FACET_EVENTS), rng.randint(1, 2)):
        if not set(FACET_EVENTS[name]) & {facet for facets in chosen.values() for facet in facets}:
            chosen[name] = FACET_EVENTS[name]
    return chosen


def write_profile(
    combination: Combination, catalogue: Catalogue, folder: Path, declare: bool = True, step_timeout: float = 0
) -> Path:
    """The profile of the adapter the combination plays, from the platform's reference profile; ``declare``
    False: without the conventions section (the adapter plays them all the same)."""
    data = yaml.safe_load((suites_dir() / "profiles" / PROFILES[combination.platform]).read_text())
    if step_timeout:
        data["timing"]["step_timeout"] = step_timeout
    conventions = parse(catalogue, combination.conventions)
    data["name"] = f"switchboard-{combination.seed}" + ("" if declare else "-undeclared")
    data["addressing"] = combination.addressing
    params = dict(data.get("connect_params", {}))
    params["conventions"] = conventions.to_query()
    params["events_first"] = "1" if combination.events_first else "0"
    params["addressing"] = combination.addressing
    data["connect_params"] = params
    if not declare:
        data.pop("conventions", None)  # a vendor who declares nothing: every difference is a warning
    else:  # the reference adapter follows the catalogue's other conventions, as its profiles adopt
        data["conventions"] = {**combination.conventions, "adopt": "all"}
        if conventions.activation == "self":
            data["commands"] = sorted(
                name
                for name, spec in catalogue.commands.items()
                if combination.platform in spec.platforms and name != catalogue.startup.activation
            )
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as running:
        yield running


_DEFAULT_COUNTS: dict[tuple[str, str], int] = {}


def default_count(catalogue: Catalogue, combination: Combination, folder: Path) -> int:
    """How many cases apply to the same platform and addressing with the catalogue's own conventions."""
    key = (combination.platform, combination.addressing)
    if key not in _DEFAULT_COUNTS:
        plain = Combination(combination.seed, combination.platform, combination.addressing, False, {}, ())
        profile = load_profile(write_profile(plain, catalogue, folder, declare=False), catalogue)
        _DEFAULT_COUNTS[key] = len(suite_cases(catalogue, profile, _scenarios()))
    return _DEFAULT_COUNTS[key]


def _scenarios() -> list[Path]:
    return sorted((suites_dir() / "conformance").glob("*.yaml"))


def check_combination(seed: int, catalogue: Catalogue, adapter: RunningAdapter, folder: Path) -> None:
    combination = draw(seed, catalogue)
    profile = load_profile(write_profile(combination, catalogue, folder), catalogue)
    assert profile.conventions == parse(catalogue, combination.conventions)
    faults = [NAMED[name] for name in combination.faults]
    matrix = asyncio.run(
        run_matrix(catalogue, [profile], _scenarios(), faults, adapter.url, quick=True, concurrency=CONCURRENCY)
    )
    about = combination.describe() + "\n" + matrix.render()
    assert matrix.baseline_problems == [], about  # no fail, error, inconclusive (or warn) on the correct adapter
    expected = default_count(catalogue, combination, folder)
    if profile.conventions.extras:  # their own cases besides, and under self-activation inactive channels again
        least = expected * (1 if profile.conventions.activation == "command" else 1 - MOST_LOST_TO_SELF_ACTIVATION)
        assert least < matrix.baseline_runs, about
    elif profile.conventions.activation == "command":
        assert matrix.baseline_runs == expected, about
    else:
        assert expected * (1 - MOST_LOST_TO_SELF_ACTIVATION) <= matrix.baseline_runs < expected, about
    assert matrix.undetected == [], about


@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_a_profile_declaring_the_adapters_conventions_certifies_it_and_its_faults_are_still_caught(
    seed: int, catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    check_combination(seed, catalogue, adapter, tmp_path)


def test_the_quick_seeds_cover_each_switch_both_ways(catalogue: Catalogue) -> None:
    drawn = [draw(seed, catalogue) for seed in QUICK_SEEDS]
    assert {c.platform for c in drawn} == set(PROFILES)
    assert {c.addressing for c in drawn} == {"flat", "channelgroup"}
    assert {c.events_first for c in drawn} == {True, False}
    assert {c.conventions.get("activation", "command") for c in drawn} == {"command", "self"}
    assert any("commands" in c.conventions for c in drawn) and any(
        c.conventions.get("extra_events") for c in drawn
    )
    assert any(len(c.conventions.get("states", {})) >= 2 for c in drawn)
    # media named under another field, and at the catalogue's field with the adapter's own values
    assert {"path" in c.conventions.get("media", {"path": 0}) for c in drawn} == {True, False}
    assert any("new" in c.conventions.get("creation_targets", {}).values() for c in drawn)
    assert any(c.conventions.get("facet_events") for c in drawn)
    # a way to an inactive channel declared as extras, for channels that activate themselves too
    assert any(c.conventions.get("activation") == "self" and _declares_extras(c) for c in drawn)


def _declares_extras(combination: Combination) -> bool:
    return any(kind in combination.conventions for kind in EXTRA_NAMES)


def test_under_self_activation_declared_extras_reach_an_inactive_channel_and_catch_dial_inactive(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The fault dial-inactive (a dial succeeds on an inactive channel; the seeds: a failure unless active) hides
    behind channels that activate themselves: no set-up reaches an inactive channel. With the adapter's own
    stimuli declared, MB-CHAN-DIAL-101 reaches one and catches it, and the correct adapter passes every case.
    Without channel groups, so that no channel added later (inactive) is another way there."""
    for kind in EXTRA_NAMES:
        seed = next(
            s
            for s in range(100)
            if draw(s, catalogue).conventions.get("activation") == "self"
            and kind in draw(s, catalogue).conventions
        )
        drawn = draw(seed, catalogue)
        combination = Combination(
            seed, "generic", "flat", drawn.events_first, drawn.conventions, ("dial-inactive",)
        )
        path = write_profile(combination, catalogue, tmp_path)
        data = yaml.safe_load(path.read_text())
        data["commands"] = [name for name in data["commands"] if name != catalogue.startup.per_group]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        profile = load_profile(path, catalogue)
        matrix = asyncio.run(
            run_matrix(
                catalogue,
                [profile],
                [],
                [NAMED["dial-inactive"]],
                adapter.url,
                quick=True,
                concurrency=CONCURRENCY,
            )
        )
        about = combination.describe() + "\n" + matrix.render()
        assert matrix.baseline_problems == [], about
        assert [test.split("[")[0] for test in matrix.rows[0].detected_by] == ["MB-CHAN-DIAL-101"], about
        declared = {
            case.id for case in suite_cases(catalogue, profile, []) if "-X-" in case.id and case.applicable
        }
        assert len(declared) >= 2, declared  # each extra's own case ran, on the correct adapter too


def test_every_draw_is_a_valid_conventions_section_and_the_same_for_the_same_seed(catalogue: Catalogue) -> None:
    for seed in range(300):
        combination = draw(seed, catalogue)
        assert combination == draw(seed, catalogue)
        conventions = parse(catalogue, combination.conventions)  # raises with the problems if not
        assert isinstance(conventions, Conventions)
        assert 2 <= len(combination.faults) <= 3


@pytest.mark.long
@pytest.mark.skipif(not LONG, reason="set MBCONFORM_SWITCHBOARD_LONG=1 for 200 more combinations")
@pytest.mark.parametrize("seed", range(LONG_FIRST_SEED, LONG_FIRST_SEED + (LONG_COUNT if LONG else 0)))
def test_many_more_combinations(seed: int, catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path) -> None:
    check_combination(seed, catalogue, adapter, tmp_path)


def test_a_profile_without_the_conventions_section_ends_every_case_with_a_verdict(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The adapter plays conventions its profile does not declare: no case crashes or hangs, and none fails
    or errs: an undeclared difference in a convention is a warning (ERRATA "Provenance decides the verdict"),
    and the harness follows what the adapter did."""
    combination = Combination(
        seed=0,
        platform="generic",
        addressing="flat",
        events_first=True,
        conventions={
            "commands": {DTMF: "conversation.senddtmf"},
            "states": {"conversation": {"talking": "CONNECTED"}, "channel": {"Ready": "ACTIVE"}},
            "extra_events": ["session.welcome"],
            "activation": "self",
        },
        faults=(),
    )
    path = write_profile(combination, catalogue, tmp_path, declare=False, step_timeout=UNDECLARED_STEP_TIMEOUT)
    profile: Profile = load_profile(path, catalogue)
    assert profile.conventions.is_default
    cases = suite_cases(catalogue, profile, _scenarios())
    runner = Runner(adapter.url, catalogue, step_timeout=2.0, concurrency=CONCURRENCY)
    jobs = [Job(profile, case, None) for case in cases]
    results = asyncio.run(runner.run(jobs))
    assert len(results) == len(cases) > 0
    false = []
    for job, result in zip(jobs, results, strict=True):
        assert result is not None, job.test_id
        assert not any(v.category is Category.HARNESS_FAULT for _, v in result.violations), (job.test_id, result)
        if result.verdict >= Verdict.FAIL:
            first = next(v for _, v in result.violations if v.verdict >= Verdict.FAIL)
            false.append(f"{job.test_id}: {result.verdict.name}: {first.title}: {first.message[:300]}")
    assert false == [], "\n".join(false)


def _run_all(
    catalogue: Catalogue, adapter: RunningAdapter, path: Path, prefix: str = ""
) -> list[tuple[str, Verdict, str]]:
    """Every case of the profile at ``path`` (those whose id starts with ``prefix``) against the adapter:
    (test id, verdict, the first violation at that verdict)."""
    profile = load_profile(path, catalogue)
    cases = [case for case in suite_cases(catalogue, profile, _scenarios()) if case.id.startswith(prefix)]
    runner = Runner(adapter.url, catalogue, step_timeout=2.0, concurrency=CONCURRENCY)
    jobs = [Job(profile, case, None) for case in cases]
    results = asyncio.run(runner.run(jobs))
    out = []
    for job, result in zip(jobs, results, strict=True):
        assert result is not None, job.test_id
        first = next((v for _, v in result.violations if v.verdict == result.verdict), None)
        why = f"{first.title}: {first.message[:300]}" if first else result.reason[:300]
        out.append((job.test_id, result.verdict, why))
    return out


MEDIA_OWN_WAY = {"path": "$.channel.type", "names": {"voice": "telephony"}}  # "chat" stays the catalogue's


def test_media_named_the_adapters_way_and_undeclared_warns_at_most(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The adapter names its phone channel's media ``type: voice`` and its chat channel's ``type: chat``; the
    profile (two media) does not say so: which media a channel is stays a guess (the chat channel's from the
    value found under another field, the phone channel's unknown, so conditions on it hold), every case ends
    with no fail or error, and the planner is not stuck: few cases end inconclusive."""
    combination = Combination(0, "generic", "flat", False, {"media": MEDIA_OWN_WAY}, ())
    path = write_profile(combination, catalogue, tmp_path, declare=False, step_timeout=UNDECLARED_STEP_TIMEOUT)
    verdicts = _run_all(catalogue, adapter, path)
    false = [
        f"{test_id}: {verdict.name}: {first}" for test_id, verdict, first in verdicts if verdict >= Verdict.FAIL
    ]
    assert false == [], "\n".join(false)
    stuck = [f"{test_id}: {first}" for test_id, verdict, first in verdicts if verdict == Verdict.INCONCLUSIVE]
    assert len(stuck) <= len(verdicts) * MOST_STUCK_UNDECLARED_MEDIA, "\n".join(stuck)


def test_a_channel_that_names_its_media_otherwise_than_declared_fails(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The profile declares the media under ``kind``; the adapter names it under ``type``: a declared
    convention broken, a failure at start-up (the check `conventions.media` makes, proven by an adapter that
    breaks it)."""
    combination = Combination(0, "generic", "flat", False, {"media": MEDIA_OWN_WAY}, ())
    path = write_profile(combination, catalogue, tmp_path)
    data = yaml.safe_load(path.read_text())
    data["conventions"]["media"]["path"] = "$.channel.kind"  # the profile's; the adapter plays $.channel.type
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    profile = load_profile(path, catalogue)
    assert profile.conventions.media.path == "$.channel.kind"
    verdicts = _run_all(catalogue, adapter, path, prefix="MB-SESS")
    failed = [first for _, verdict, first in verdicts if verdict == Verdict.FAIL]
    assert failed and all("media not as declared" in first for first in failed), verdicts


def test_a_creation_event_about_another_object_than_declared_fails(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The profile declares ``interaction.created`` about the new interaction; the adapter sends it about the
    channel (the catalogue's way): a declared convention broken, a failure wherever an interaction is created
    (proven by an adapter that breaks it). Declared the adapter's way, the same cases pass."""
    combination = Combination(
        0, "generic", "flat", False, {"creation_targets": {"interaction.created": "new"}}, ()
    )
    path = write_profile(combination, catalogue, tmp_path)
    assert [verdict for _, verdict, _ in _run_all(catalogue, adapter, path, prefix="MB-CHAN-DIAL-001")] == [
        Verdict.PASS
    ]
    data = yaml.safe_load(path.read_text())
    params = data["connect_params"]
    params["conventions"] = parse(catalogue, {}).to_query()  # the adapter plays the catalogue's targets
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    verdicts = _run_all(catalogue, adapter, path, prefix="MB-CHAN-DIAL-001")
    assert [verdict for _, verdict, _ in verdicts] == [Verdict.FAIL], verdicts
    assert "creation target not as declared" in verdicts[0][2], verdicts


def test_a_mute_announced_otherwise_than_declared_fails_and_as_declared_passes(
    catalogue: Catalogue, adapter: RunningAdapter, tmp_path: Path
) -> None:
    """The profile declares that ``conversation.infochanged`` announces a mute: an adapter that does so passes
    the mute cases; one that announces it with the catalogue's ``state.updated`` breaks the declaration and
    fails (proven by an adapter that breaks it)."""
    own = {"facet_events": {"conversation.infochanged": FACET_EVENTS["conversation.infochanged"]}}
    path = write_profile(Combination(0, "generic", "flat", False, own, ()), catalogue, tmp_path)
    verdicts = _run_all(catalogue, adapter, path, prefix="MB-CONV-REQUEST-MUTE")
    assert verdicts and all(verdict == Verdict.PASS for _, verdict, _ in verdicts), verdicts
    data = yaml.safe_load(path.read_text())
    data["connect_params"]["conventions"] = parse(catalogue, {}).to_query()  # the adapter: state.updated
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    verdicts = _run_all(catalogue, adapter, path, prefix="MB-CONV-REQUEST-MUTE-001")
    assert [verdict for _, verdict, _ in verdicts] == [Verdict.FAIL], verdicts
    assert "facet not as declared" in verdicts[0][2], verdicts


def test_serve_plays_a_conventions_file_and_sends_events_first(tmp_path: Path) -> None:
    """``mbconform serve --conventions FILE --events-first``: the adapter's own start-up event first, its
    channels active by themselves, its command name (the catalogue's is unknown to it), events before the
    response."""
    path = tmp_path / "conventions.yaml"
    path.write_text(
        "conventions:\n"
        "  commands: {conversation.request.dtmf: conversation.senddtmf}\n"
        "  states: {channel: {ready: ACTIVE}}\n"
        "  extra_events: [session.welcome]\n"
        "  activation: self\n"
        "  media: {path: $.channel.type, names: {voice: telephony}}\n"
    )
    with start_reference(["--conventions", str(path), "--events-first", "--test-control"]) as running:
        frames = asyncio.run(_exchange(running.url))
    startup, answers = frames
    assert startup[0]["name"] == "session.welcome" and startup[-1]["name"] == "session.initialized"
    states = [f["data"]["state"] for f in startup if f["name"] == "state.updated"]
    assert states == ["ready", "ready"]  # each channel, before the ready event
    channels = [f["data"]["channel"] for f in startup if f["name"] == "channel.created"]
    assert [(c.get("type"), "media" in c) for c in channels] == [("voice", False), ("chat", False)]
    activate, catalogue_name, own_name, inbound = answers
    assert activate[0]["failure"]["code"] == "UNKNOWN_COMMAND"
    assert catalogue_name[0]["failure"]["code"] == "UNKNOWN_COMMAND"
    assert own_name[0]["command"] == "conversation.senddtmf" and own_name[0]["result"] == "failure"
    assert "messageType" in inbound[0] and inbound[-1]["result"] == "success"  # events first


async def _exchange(url: str) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    import json

    from websockets.asyncio.client import connect

    async def until(socket: Any, done: Any) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        for _ in range(50):
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), 5)))
            if done(frames[-1]):
                return frames
        raise AssertionError(f"no end in {frames}")

    async with connect(url) as socket:
        startup = await until(socket, lambda f: f.get("name") == "session.initialized")
        channel = f"{startup[-1]['target']}.chan1"
        answers = []
        for command, target, data in (
            ("channel.activate", channel, {}),
            (DTMF, channel, {"digits": "1"}),
            ("conversation.senddtmf", channel, {"digits": "1"}),
            (STIMULATE, channel, {"stimulus": "call.inbound"}),
        ):
            await socket.send(json.dumps({"command": command, "target": target, "data": data}))
            answers.append(await until(socket, lambda f: "result" in f))
    return startup, answers
