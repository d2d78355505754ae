"""Write what discovery learned as a draft profile: YAML a vendor reviews, each observed convention commented
with its evidence (frames, escaped and cut) and marked where it differs from the catalogue's default.

The profile's sections come first; the adapter's own conventions (the profile's ``conventions:`` section)
come last, in a block of their own after :data:`CONVENTIONS_MARK`, where the vendor reviews them.
Whatever the adapter named (events, states, codes) is written as a JSON string: valid YAML, whatever it holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..core.violations import AREAS
from ..spec.catalogue import Catalogue
from ..spec.loader import read_schema
from .drive import CommandOutcome, Discovery
from .observe import Seen, frames_of, shown

DIFFERS = "# differs from the catalogue's default"
CONVENTIONS_MARK = "# --- the adapter's own conventions (review each; mbconform lint checks every field) ---"
PROFILE_FORMAT = "mbconform/profile/1"
LISTED = ("works", "not reached", "not tried", "other result")  # commands kept in the draft's list
COPIED = ("facts", "connect_params", "connection", "redact", "limits")  # taken from the base profile as is


def quoted(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)


def _evidence(lines: list[str], frames: list[str], indent: str = "") -> None:
    for frame in frames:
        lines.append(f"{indent}#   evidence: {frame}")


def _media_names(catalogue: Catalogue) -> list[str]:
    schema = read_schema(catalogue.root, Path("meta") / "profile-v1.schema.json")
    return list(schema["properties"]["media"]["items"]["enum"])


def write_draft(found: Discovery, catalogue: Catalogue, base: Mapping[str, Any] | None) -> str:
    """The draft profile's text. ``base``: the base profile's YAML data (sections copied as they are)."""
    base = base or {}
    settings = found.settings
    shown_url = settings.redactor.url(found.url)
    lines = [
        f"# A draft profile written by `mbconform discover` (mbconform {__version__}) against {shown(shown_url)}",
        f"# on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, catalogue {catalogue.version}. Review every line:",
        "# discovery saw only what its sessions showed. 'evidence:' quotes the adapter's frames (escaped, cut);",
        f"# a line marked '{DIFFERS[2:]}' is where the adapter does otherwise than",
        "# the catalogue infers where the seeds are silent (specs/ERRATA.md, 'Provenance decides the verdict').",
        "# Then:",
        "#   mbconform lint THIS-FILE   and   mbconform run URL --profile THIS-FILE",
        f"format: {PROFILE_FORMAT}",
        f"name: {quoted(str(base.get('name', 'discovered-adapter')) + '-draft')}",
        f"description: {quoted('Drafted by mbconform discover; reviewed by: (your name)')}",
        f"platform: {settings.platform}",
    ]
    _addressing(lines, found)
    _media(lines, found, catalogue)
    _commands(lines, found, catalogue)
    _startup(lines, found, catalogue, base)
    _copied(lines, found, base)
    _observed_startup(lines, found)
    _conventions(lines, found, catalogue)
    return "\n".join(lines) + "\n"


def _addressing(lines: list[str], found: Discovery) -> None:
    observer = found.observer
    if not found.channels:
        lines.append(f"# addressing: not observed ({found.startup_problem or 'no channel was announced'})")
        lines.append(f"addressing: {found.settings.addressing}")
        return
    where = sorted({channel.parent_level for channel in found.channels})
    lines.append(f"# addressing: observed: the channels are created in a {' and a '.join(where)}")
    created = observer.created_first
    levels = [level for level in where if level in created] + [found.channel_level or ""]
    _evidence(lines, [created[level] for level in levels if level in created])
    mark = f"  {DIFFERS} (flat: channels directly in the session)" if found.settings.addressing != "flat" else ""
    lines.append(f"addressing: {found.settings.addressing}{mark}")


def _media(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    known = _media_names(catalogue)
    media = list(dict.fromkeys(channel.media for channel in found.channels if channel.media is not None))
    unnamed = [channel.address for channel in found.channels if channel.media is None]
    lines.append("# media: observed, from the data of each channel's creating event (ERRATA R23)")
    for channel in found.channels:
        at = f" (named at {channel.media_at}: see conventions.media below)" if channel.media_at else ""
        lines.append(f"#   {shown(channel.address, 80)}: {shown(channel.media or '(none named)', 40)}{at}")
    if unnamed:
        lines.append("#   question: which media are the channels that name none? (telephony or chat)")
    odd = [name for name in media if name not in known]
    for name in odd:
        lines.append(
            f"#   question: the adapter names a media {quoted(name)}; the catalogue knows {', '.join(known)}"
        )
    kept = [name for name in media if name in known] or ["telephony"]
    lines.append(f"media: [{', '.join(kept)}]")


def _commands(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    counts: dict[str, int] = {}
    for outcome in found.commands.values():
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    lines.append(
        "# commands: each sent where the catalogue predicts success (the set-up planned from the live model): "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    )
    if found.unknown_code is not None:
        lines.append(f"#   a command no adapter has is answered with failure code {quoted(found.unknown_code)}:")
        _evidence(lines, [found.unknown_evidence])
    listed = [o for o in found.commands.values() if o.status in LISTED]
    lines.append("commands:" if listed else "commands: []")
    for outcome in found.commands.values():
        _command(lines, outcome, catalogue)


def _command(lines: list[str], outcome: CommandOutcome, catalogue: Catalogue) -> None:
    prefix = "  - " if outcome.status in LISTED else "  # - "
    lines.append(f"{prefix}{outcome.command}  # {outcome.status}: {shown(outcome.detail, 200)}")
    _evidence(lines, outcome.evidence, "  ")
    spec = catalogue.commands.get(outcome.command)
    if outcome.status == "works" and spec is not None:
        printed = spec.events.complete and spec.events.inferred is None
        cut = "" if printed else " (a convention: the seeds cut this list or do not print it)"
        lines.append(f"  #   its events{cut}: {'; '.join(outcome.events) or 'none'}")
    for note in outcome.notes:
        lines.append(f"  #   {shown(note, 200)}")
    if outcome.status == "unknown":
        why = f" (the catalogue infers it: {shown(spec.reason or '', 160)})" if spec and spec.reason else ""
        lines.append(
            f"  #   question: does the adapter have {outcome.command} under another name{why}? Then declare it "
            "in conventions.commands below"
        )
    elif outcome.status in ("refused", "no answer"):
        lines.append(
            "  #   question: keep it if the adapter has it (it refused where the catalogue predicts success)"
        )


def _startup(lines: list[str], found: Discovery, catalogue: Catalogue, base: Mapping[str, Any]) -> None:
    given = base.get("startup")
    default_ready = catalogue.startup.ready_event
    if isinstance(given, Mapping) and given.get("send"):
        mark = f"  {DIFFERS} (nothing is sent first)" if not catalogue.startup.send else ""
        lines.append(f"# startup: the base profile's requests before anything else{mark}; their answers:")
        responses = [
            frame for summary, frame in found.observer.startup_frames if summary == "a frame that is no event"
        ]
        _evidence(lines, [shown(frame) for frame in responses[:3]])
    elif not found.ready:
        lines.append(
            f"# startup: question: the ready event ({default_ready}) did not come: "
            f"{shown(found.startup_problem, 200)};"
        )
        lines.append("#   does the adapter need a log-in first? List its requests under startup.send.")
    if isinstance(given, Mapping) and given:
        lines.extend(_dumped({"startup": dict(given)}))


def _copied(lines: list[str], found: Discovery, base: Mapping[str, Any]) -> None:
    stimuli = base.get("stimuli", {"driver": "none"})
    if stimuli == {"driver": "none"}:
        lines.append("# stimuli: none given (a --profile names the lab's driver); set-ups used only commands")
    lines.extend(_dumped({"stimuli": stimuli}))
    timing = base.get("timing") or {
        "connect_timeout": found.settings.connect_timeout,
        "step_timeout": found.settings.step_timeout,
        "settle": found.settings.settle,
    }
    lines.extend(_dumped({"timing": timing}))
    for key in COPIED:
        if key in base:
            lines.extend(_dumped({key: base[key]}))


def _dumped(value: Mapping[str, Any]) -> list[str]:
    return yaml.safe_dump(dict(value), sort_keys=False, default_flow_style=False, allow_unicode=False).splitlines()


def _observed_startup(lines: list[str], found: Discovery) -> None:
    frames = found.observer.startup_frames
    lines.append(f"# The start-up as observed ({len(frames)} frames until the ready event or the timeout):")
    for summary, _frame in frames[:40]:
        lines.append(f"#   {shown(summary, 120)}")
    if len(frames) > 40:
        lines.append(f"#   ... and {len(frames) - 40} more")


def _conventions(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    observer = found.observer
    lines.append("")
    lines.append(CONVENTIONS_MARK)
    lines.append("# Where the seeds are silent, what the adapter was seen to do: check each is what you meant.")
    lines.append("# conventions.adopt makes the catalogue's reading of an area you adopt a MUST.")
    lines.append("conventions:")
    _activation(lines, found, catalogue)
    _extra_events(lines, observer.extra_events, observer.startup_extra)
    _states(lines, found, catalogue)
    _creation(lines, observer.creation)
    _media_naming(lines, found, catalogue)
    extras = found.settings.conventions.extras.raw  # not observable: kept from the base profile as declared
    if extras:
        lines.append("  # the base profile's declared extra commands and stimuli (not observed: kept as declared)")
        text = yaml.safe_dump(json.loads(json.dumps(dict(extras))), sort_keys=False, allow_unicode=True)
        lines.extend("  " + line for line in text.splitlines())
    unknown = [o.command for o in found.commands.values() if o.status == "unknown"]
    lines.append("  # the adapter's name for a catalogue command (none observed: discovery cannot guess a name)")
    for command in unknown:
        lines.append(
            f"  #   question: {command}: <the adapter's name>   (it is unknown under the catalogue's name)"
        )
    lines.append("  commands: {}")
    seen_areas = sorted(observer.areas)
    for area in seen_areas:
        lines.append(f"  # a difference in the area {area} ({AREAS.get(area, '')}):")
        _evidence(lines, [shown(text, 200) for text in frames_of(observer.areas[area])], "  ")
    clean = [area for area in AREAS if area not in observer.areas]
    lines.append(f"  # no difference seen in: {', '.join(clean) or 'none'}; adopt them once a run confirms it:")
    lines.append(f"  # adopt: [{', '.join(clean)}]")


def _activation(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    channel_level = found.channel_level
    spec = catalogue.levels.get(channel_level) if channel_level is not None else None
    initial = spec.initial if spec is not None else None
    changes = found.observer.startup_state_changes(channel_level) if channel_level is not None else []
    if not found.channels:
        lines.append("  # activation: not observed (no channel was announced)")
        lines.append("  activation: command")
        return
    if changes:
        address, value, frame = changes[0]
        lines.append(
            f"  # activation: observed: at start-up {shown(address, 80)} became {quoted(value)} by itself  "
            f"{DIFFERS} (channels start {initial} and a command makes them usable)"
        )
        _evidence(lines, [shown(frame)], "  ")
        lines.append("  activation: self")
    else:
        lines.append(
            f"  # activation: observed: the channels stay {initial} until a command (no state.updated at start-up)"
        )
        lines.append("  activation: command")


def _extra_events(lines: list[str], extra: Mapping[str, Seen], at_startup: set[str]) -> None:
    if not extra:
        lines.append("  # extra_events: none observed (every event the adapter sent is in the catalogue)")
        lines.append("  extra_events: []")
        return
    lines.append(f"  # extra_events: events the catalogue does not know  {DIFFERS} (none)")
    for name, seen in extra.items():
        where = " (at start-up)" if name in at_startup else ""
        lines.append(f"  #   {quoted(name)}: seen {seen.count} times{where}")
        _evidence(lines, seen.evidence, "  ")
    lines.append("  extra_events:")
    for name in extra:
        lines.append(f"    - {quoted(name)}")


def _states(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    observer = found.observer
    lines.append("  # the state values seen per level (* = not a state of the catalogue's states.yaml):")
    for level, values in observer.states.items():
        states = catalogue.levels[level].states if level in catalogue.levels else frozenset()
        named = [quoted(v) + ("" if v in states else "*") for v in values]
        lines.append(f"  #   {level}: {', '.join(named)}")
    for note, seen in observer.other_states.items():
        lines.append(f"  #   {shown(note, 200)}")
        _evidence(lines, seen.evidence, "  ")
    mappings = list(observer.mappings.values())
    if not mappings:
        lines.append("  # states: no state named otherwise where the catalogue expected one of its own")
        lines.append("  states: {}")
        return
    lines.append(
        f"  # states: the adapter's name -> the catalogue's, where the catalogue expected its state  {DIFFERS}"
    )
    lines.append("  states:")
    for level in dict.fromkeys(m.level for m in mappings):
        lines.append(f"    {level}:")
        for mapping in (m for m in mappings if m.level == level):
            followed = f"; later sessions read it so ({mapping.followed} frames)" if mapping.followed else ""
            lines.append(
                f"      # after {shown(mapping.after, 120)} the catalogue expects {mapping.catalogue}{followed}:"
            )
            _evidence(lines, mapping.seen.evidence, "      ")
            lines.append(f"      {quoted(mapping.adapter)}: {mapping.catalogue}")


def _creation(lines: list[str], creation: Mapping[tuple[str, str], Seen]) -> None:
    """``conventions.creation_targets``: which object each creation event was seen about; declared ``new``
    where it was about the object it creates (every time), the catalogue's ``parent`` otherwise."""
    if not creation:
        lines.append("  # creation targets: no creation event observed")
        return
    declared: dict[str, str] = {}
    for (event, about), seen in creation.items():
        mark = f"  {DIFFERS} (about the object it is created in)" if about == "new object" else ""
        lines.append(f"  # creation target: {event} about the {about} ({seen.count} seen){mark}")
        _evidence(lines, seen.evidence[:1], "  ")
        if (event, "new object" if about == "parent" else "parent") in creation:
            lines.append(f"  #   question: {event} was seen about both; which one is the adapter's?")
            declared.pop(event, None)
        else:
            declared[event] = "new" if about == "new object" else "parent"
    own = {event: about for event, about in declared.items() if about == "new"}
    if own:
        pairs = ", ".join(f"{quoted(event)}: new" for event in own)
        lines.append(f"  creation_targets: {{{pairs}}}")


def _media_naming(lines: list[str], found: Discovery, catalogue: Catalogue) -> None:
    """``conventions.media``: where the channels' creation data names a catalogue media under another field
    than the catalogue's (ERRATA R23), with the first channel's creating frame as evidence."""
    level = catalogue.levels.get(found.channel_level or "")
    default = level.media_path if level is not None else None
    declared = found.settings.conventions.media
    if not declared.is_default:
        lines.append("  # media: as the base profile declares it (the channels were read that way)")
        lines.append(f"  media: {json.dumps(declared.to_json(), ensure_ascii=True)}")
        return
    paths = list(dict.fromkeys(channel.media_at for channel in found.channels if channel.media_at))
    if not paths:
        lines.append(f"  # media: no channel named a catalogue media under another field than {default}")
        odd = [c.media for c in found.channels if c.media is not None and c.media not in _media_names(catalogue)]
        for name in dict.fromkeys(odd):
            lines.append(f"  #   question: the adapter's media {quoted(name)} is the catalogue's? Then declare")
            lines.append(f"  #   media: {{names: {{{quoted(name)}: <{' or '.join(_media_names(catalogue))}>}}}}")
        return
    lines.append(
        f"  # media: observed: the channels' creation data names their media at {', '.join(paths)}, not at "
        f"{default}  {DIFFERS}"
    )
    if found.channel_level in found.observer.created_first:
        _evidence(lines, [found.observer.created_first[found.channel_level]], "  ")
    if len(paths) > 1:
        lines.append("  #   question: the channels name it under different fields; which one is the adapter's?")
    lines.append(f"  media: {{path: {quoted(paths[0])}}}")
