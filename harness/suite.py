"""Load what to run: scenario files (call flows) and profiles (what an adapter declares, how to drive it).

Both are YAML, validated against their JSON Schemas in ``specs/meta/`` and against the catalogue; every
problem is reported as ``file:line: message`` through :class:`~harness.spec.loader.SpecError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .core import conventions as conventions_section
from .core.conventions import Conventions
from .core.redact import Redactor, data_secrets, header_secrets, url_secrets
from .core.steps import Step
from .core.violations import AREAS
from .runner.session import TEMPLATE, startup_bindings
from .runner.settings import Settings
from .runner.stimuli import StimulusDriver
from .runner.transport import Transport, TransportError, check_ca_bundle
from .spec.catalogue import Catalogue, Schema, SpecRef, describe_error, with_facts
from .spec.loader import SpecError, read_schema
from .spec.yamlfile import LoadedYaml, SpecProblem, display_path, error_path, load_yaml_file

PROFILE_SCHEMA = Path("meta") / "profile-v1.schema.json"
MEDIA_CHANNEL = "_channel"  # $telephony_channel, $chat_channel: the start-up's first channel of that media
SCENARIO_SCHEMA = Path("meta") / "scenario-v1.schema.json"


@dataclass(frozen=True)
class Profile:
    name: str
    file: str
    platform: str
    addressing: str
    commands: frozenset[str]
    stimulus_driver: str
    stimuli: frozenset[str]
    connect_timeout: float
    step_timeout: float
    max_frame_bytes: int
    max_queue: int
    transcript_frames: int
    facts: Mapping[str, Any] = field(default_factory=dict)  # the platform's facts, with the profile's overrides
    media: tuple[str, ...] = ("telephony",)
    connect_params: Mapping[str, str] = field(default_factory=dict)
    stimulus: StimulusDriver = field(default_factory=StimulusDriver)
    startup_send: tuple[Mapping[str, Any], ...] | None = None  # None: the catalogue's start-up requests
    ready_event: str | None = None  # None: the catalogue's ready event
    settle: float = 0.3
    transport: Transport = field(default_factory=Transport)  # connection: TLS, headers, subprotocols
    redact: tuple[str, ...] = ()  # further field names whose values reports must not show
    from_environment: tuple[str, ...] = ()  # values the profile took from ``${env:NAME}``: secrets, whatever field
    conventions: Conventions = field(default_factory=Conventions)  # the adapter's own, where the seeds are silent
    # the areas of the catalogue's conventions the adapter follows as its own, and the facts the profile sets
    adopted: frozenset[str] = frozenset()
    declared_facts: frozenset[str] = frozenset()

    def declares(self, command: str) -> bool:
        return command in self.commands

    def redactor(self) -> Redactor:
        """What this profile's reports must not show: its connection headers' values, the secret-looking
        fields of its start-up requests, its stimulus driver's credentials, and the fields it names."""
        secrets = header_secrets(self.transport.headers)
        secrets += header_secrets(self.stimulus.headers.items()) + url_secrets(self.stimulus.url)
        secrets += data_secrets(list(self.startup_send or ()))
        named = Redactor(fields=self.redact)
        secrets += [value for key, value in self.connect_params.items() if named.secret_field(key)]
        return Redactor([*secrets, *self.from_environment], self.redact)

    def settings(self, connection: Transport | None = None, url: str = "") -> Settings:
        """``connection``: the command line's connection options, which win over the profile's; ``url``: the
        adapter's, whose credentials reports must not show (like the command line's header values)."""
        redactor = self.redactor()
        if connection is not None or url:
            cli = connection or Transport()
            redactor = redactor.merged(Redactor(header_secrets(cli.headers) + url_secrets(url)))
        return Settings(
            step_timeout=self.step_timeout,
            connect_timeout=self.connect_timeout,
            max_frame_bytes=self.max_frame_bytes,
            max_queue=self.max_queue,
            transcript_frames=self.transcript_frames,
            commands=self.commands,
            stimuli=self.stimuli,
            platform=self.platform,
            facts=self.facts,
            stimulus=self.stimulus,
            addressing=self.addressing,
            startup_send=self.startup_send,
            ready_event=self.ready_event,
            settle=self.settle,
            transport=self.transport.overridden(connection) if connection is not None else self.transport,
            redactor=redactor,
            conventions=self.conventions,
            adopted=self.adopted,
            declared_facts=self.declared_facts,
            media=self.media,
        )


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    description: str
    level: str
    steps: tuple[Step, ...]
    ref: SpecRef
    platforms: frozenset[str] | None = None  # None: every platform
    media: frozenset[str] = frozenset()  # media the profile's channels must include
    facts: Mapping[str, Schema] = field(default_factory=dict)  # fact -> the schema its value must satisfy
    found: Mapping[str, Any] | None = None  # a fuzzer's finding this file reproduces (``found:``)
    # the steps that activate a channel the start-up announced (the catalogue's activation command, expecting
    # success): an adapter whose channels activate themselves has done them during its start-up
    startup_activations: frozenset[int] = frozenset()

    def steps_for(self, profile: Profile) -> tuple[Step, ...]:
        """The steps to run on the profile's adapter: without the activations its start-up has done."""
        if profile.conventions.activation != "self" or not self.startup_activations:
            return self.steps
        return tuple(step for index, step in enumerate(self.steps) if index not in self.startup_activations)

    @property
    def fence(self) -> bool:
        """The finding was made with a fence after each step (``found.fence``): replay it the same way."""
        return bool(self.found and self.found.get("fence"))

    @property
    def settle(self) -> float | None:
        """The settle window the finding was made with (``found.settle``), to replay it the same way."""
        value = self.found.get("settle") if self.found else None
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def ruled_out(self, profile: Profile) -> str:
        """Why this call flow does not apply to the profile's adapter ("" if it does)."""
        if self.platforms is not None and profile.platform not in self.platforms:
            return f"a call flow of {'/'.join(sorted(self.platforms))}; the profile is {profile.platform}"
        missing = sorted(self.media - set(profile.media))
        if missing:
            return f"it needs a {' and a '.join(missing)} channel; the profile has {', '.join(profile.media)}"
        for name, schema in self.facts.items():
            value = profile.facts.get(name)
            if name not in profile.facts or schema.errors(value):
                return f"it needs the platform fact {name} to be {dict(schema.document)} (the profile: {value!r})"
        return ""

    @property
    def commands(self) -> frozenset[str]:
        return frozenset(step.name for step in self.steps if step.kind == "command")

    @property
    def stimuli(self) -> frozenset[str]:
        return frozenset(step.name for step in self.steps if step.kind == "stimulus")


def _validated(path: Path, schema_file: Path, catalogue: Catalogue) -> tuple[LoadedYaml, list[SpecProblem]]:
    loaded = load_yaml_file(path, display_path(path, catalogue.root.parent))
    problems = list(loaded.problems)
    if problems:
        return loaded, problems
    schema = read_schema(catalogue.root, schema_file)
    for error in Draft202012Validator(schema).iter_errors(loaded.data):
        problems.append(loaded.problem(error_path(error), describe_error(error)))
    return loaded, problems


def load_profile(path: Path, catalogue: Catalogue) -> Profile:
    loaded, problems = _validated(path, PROFILE_SCHEMA, catalogue)
    if problems:
        raise SpecError(problems)
    from_environment: list[str] = []
    data: dict[str, Any] = _from_environment(loaded.data, (), loaded, problems, from_environment)
    if problems:
        raise SpecError(problems)
    platform = data["platform"]
    section = data.get("conventions")
    declared = section if isinstance(section, Mapping) else {}
    extra_commands = set(_names(declared.get("extra_commands")))
    available = {name for name, spec in catalogue.commands.items() if platform in spec.platforms}
    if data["commands"] == "all":
        commands = frozenset(available | extra_commands)
    else:
        commands = frozenset(data["commands"]) | extra_commands  # an extra command is declared by its declaration
        for index, name in enumerate(data["commands"]):
            if name in extra_commands:
                continue
            if name not in catalogue.commands:
                problems.append(loaded.problem(("commands", index), f"unknown command {name!r}"))
            elif name not in available:
                problems.append(loaded.problem(("commands", index), f"{name} is not a {platform} command"))
    stimuli = data["stimuli"]
    extra_stimuli = _names(declared.get("extra_stimuli"))
    for index, name in enumerate(stimuli.get("available", [])):
        if name not in catalogue.stimuli and name not in extra_stimuli:
            problems.append(loaded.problem(("stimuli", "available", index), f"unknown stimulus {name!r}"))
    for name in stimuli.get("http", {}).get("per_stimulus", {}):
        if name not in catalogue.stimuli and name not in extra_stimuli:
            problems.append(
                loaded.problem(("stimuli", "http", "per_stimulus", name), f"unknown stimulus {name!r}")
            )
    facts = dict(catalogue.platforms[platform].facts) if platform in catalogue.platforms else {}
    for name, value in data.get("facts", {}).items():
        schema = catalogue.facts.get(name)
        if schema is None:
            problems.append(loaded.problem(("facts", name), f"{name!r} is not a fact of specs/platforms.yaml"))
            continue
        problems.extend(loaded.problem(("facts", name), f"fact {name}: {m}") for m in schema.errors(value))
        facts[name] = value
    startup = data.get("startup", {})
    ready = startup.get("ready")
    if ready is not None:
        spec = catalogue.events.get(ready)
        if spec is None:
            problems.append(loaded.problem(("startup", "ready"), f"unknown event {ready!r}"))
        elif "session" not in spec.levels:
            problems.append(loaded.problem(("startup", "ready"), f"{ready} is not an event about the session"))
    if data["addressing"] == "channelgroup" and catalogue.startup.per_group is None:
        problems.append(loaded.problem(("addressing",), "the catalogue's start-up has no per_group list"))
    transport = _transport(data.get("connection", {}), path, loaded, problems)
    conventions = _conventions(data, catalogue, loaded, problems)
    self_activating = data.get("conventions", {}).get("activation") == "self"  # also in a section with problems
    if self_activating and catalogue.startup.activation is not None:
        activation = catalogue.startup.activation
        if data["commands"] == "all":
            commands = commands - {activation}
        elif activation in commands:
            at = ("commands", data["commands"].index(activation))
            problems.append(
                loaded.problem(at, f"conventions.activation is self: the adapter's channels need no {activation}")
            )
    if problems:
        raise SpecError(problems)
    timing = data["timing"]
    limits = data.get("limits", {})
    return Profile(
        name=data["name"],
        file=loaded.file,
        platform=platform,
        addressing=data["addressing"],
        commands=commands,
        stimulus_driver=stimuli["driver"],
        stimuli=frozenset([*stimuli.get("available", []), *extra_stimuli] if stimuli["driver"] != "none" else []),
        connect_timeout=float(timing.get("connect_timeout", timing["step_timeout"])),
        step_timeout=float(timing["step_timeout"]),
        max_frame_bytes=int(limits.get("max_frame_bytes", 1 << 20)),
        max_queue=int(limits.get("max_queue", 64)),
        transcript_frames=int(limits.get("transcript_frames", 5000)),
        facts=facts,
        media=tuple(data.get("media", ())),  # only what the profile says (none: an unnamed media is a guess)
        connect_params=data.get("connect_params", {}),
        stimulus=_stimulus_driver(stimuli, float(timing["step_timeout"])),
        startup_send=(
            tuple({"data": {}, **request} for request in startup["send"]) if "send" in startup else None
        ),
        ready_event=ready,
        settle=float(timing.get("settle", 0.3)),
        transport=transport,
        redact=tuple(data.get("redact", ())),
        from_environment=tuple(from_environment),
        conventions=conventions,
        adopted=_adopted(data.get("conventions", {}).get("adopt", ())),
        declared_facts=frozenset(data.get("facts", {})),
    )


def _adopted(adopt: str | list[str]) -> frozenset[str]:
    """``conventions.adopt``: "all" or a list of areas (the schema allows only the areas of violations.AREAS)."""
    return frozenset(AREAS) if adopt == "all" else frozenset(adopt)


def load_conventions(path: Path, catalogue: Catalogue) -> Conventions:
    """The ``conventions:`` section of a YAML file (a profile, or a file holding only that section), for
    ``mbconform serve --conventions``; :class:`SpecError` with each problem at its line."""
    loaded = load_yaml_file(path, display_path(path, catalogue.root.parent))
    problems = list(loaded.problems)
    if not problems and (not isinstance(loaded.data, dict) or "conventions" not in loaded.data):
        problems.append(loaded.problem((), "no conventions: section"))
    if problems:
        raise SpecError(problems)
    conventions = _conventions(loaded.data, catalogue, loaded, problems)
    if problems:
        raise SpecError(problems)
    return conventions


def _conventions(
    data: Mapping[str, Any], catalogue: Catalogue, loaded: LoadedYaml, problems: list[SpecProblem]
) -> Conventions:
    """The profile's ``conventions:`` section (the catalogue's conventions without one); each problem at its
    line."""
    section = data.get("conventions")
    if section is None:
        return Conventions()
    found = conventions_section.problems(catalogue, section)
    problems.extend(loaded.problem(("conventions", *at), message) for at, message in found)
    if found:
        return Conventions()
    return conventions_section.parse(
        catalogue, section, lambda at: (loaded.file, loaded.line_of(("conventions", *at)))
    )


def _names(declarations: Any) -> list[str]:
    """The names an ``extra_commands`` or ``extra_stimuli`` section declares (none if it is no mapping)."""
    return [str(name) for name in declarations] if isinstance(declarations, Mapping) else []


ENVIRONMENT = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def _from_environment(
    value: Any, at: tuple[Any, ...], loaded: LoadedYaml, problems: list[SpecProblem], found: list[str]
) -> Any:
    """The profile with every ``${env:NAME}`` in a string replaced by that environment variable, so a token
    or password need not be written in the file; each value taken is a secret for the reports. An unset
    variable is a problem at its line."""
    if isinstance(value, dict):
        return {key: _from_environment(item, (*at, key), loaded, problems, found) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_environment(item, (*at, index), loaded, problems, found) for index, item in enumerate(value)]
    if not isinstance(value, str) or "${env:" not in value:
        return value

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            problems.append(loaded.problem(at, f"the environment variable {name} (${{env:{name}}}) is not set"))
            return ""
        found.append(os.environ[name])
        return os.environ[name]

    return ENVIRONMENT.sub(variable, value)


def _transport(
    connection: Mapping[str, Any], path: Path, loaded: LoadedYaml, problems: list[SpecProblem]
) -> Transport:
    """The profile's ``connection:`` section; a CA bundle is relative to the profile's folder."""
    ca_bundle = connection.get("ca_bundle")
    if ca_bundle is not None:
        ca_bundle = str((path.parent / ca_bundle).resolve())
        try:
            check_ca_bundle(ca_bundle)
        except TransportError as exc:
            problems.append(loaded.problem(("connection", "ca_bundle"), str(exc)))
    return Transport(
        ca_bundle=ca_bundle,
        insecure=bool(connection.get("insecure", False)),
        headers=tuple(connection.get("headers", {}).items()),
        subprotocols=tuple(connection.get("subprotocols", ())),
        follow_redirects=bool(connection.get("follow_redirects", False)),
    )


def _stimulus_driver(stimuli: Mapping[str, Any], step_timeout: float) -> StimulusDriver:
    kind = stimuli["driver"]
    http = stimuli.get("http", {})
    return StimulusDriver(
        kind=kind,
        timeout=float(stimuli.get("timeout", step_timeout)),
        method=http.get("method", "POST" if "body" in http else "GET"),
        url=http.get("url", ""),
        headers=http.get("headers", {}),
        body=http.get("body"),
        per_stimulus={name: dict(override) for name, override in http.get("per_stimulus", {}).items()},
        command=tuple(stimuli.get("shell", {}).get("command", ())),
        prompt=stimuli.get("manual", {}).get("prompt", StimulusDriver.prompt),
    )


def load_scenario(path: Path, catalogue: Catalogue) -> Scenario:
    loaded, problems = _validated(path, SCENARIO_SCHEMA, catalogue)
    if problems:
        raise SpecError(problems)
    data: dict[str, Any] = loaded.data
    steps = []
    bound = {"session", *startup_bindings(catalogue)}
    when = data.get("when", {})
    platforms = set(when.get("platform", catalogue.platforms)) & set(catalogue.platforms)
    for index, node in enumerate(data["steps"]):
        at = ("steps", index)
        if "frame" in node or "frame_hex" in node:
            steps.append(
                Step(
                    kind="frame",
                    name=node.get("how", "frame"),
                    target="",
                    data={"text": node["frame"]} if "frame" in node else {"hex": node["frame_hex"]},
                    title=node.get("title"),
                    ref=SpecRef(loaded.file, loaded.line_of(at)),
                )
            )
            continue
        kind = "command" if "command" in node else "stimulus"
        name = node[kind]
        spec = catalogue.commands.get(name) if kind == "command" else catalogue.stimuli.get(name)
        if spec is None:
            problems.append(loaded.problem((*at, kind), f"unknown {kind} {name!r}"))
            continue
        target = node["target"]
        for name_used in TEMPLATE.findall(target):
            if name_used not in bound and not name_used.endswith(MEDIA_CHANNEL):
                problems.append(
                    loaded.problem(
                        (*at, "target"), f"${{{name_used}}} is not bound by the start-up or an earlier step"
                    )
                )
        if (
            target.startswith("$")
            and not target.startswith("${")
            and target[1:] not in bound
            and not target.endswith(MEDIA_CHANNEL)
        ):
            problems.append(
                loaded.problem((*at, "target"), f"{target} is not bound by the start-up or an earlier step")
            )
        names = {entry.binds for entry in spec.events.entries if entry.binds}
        for variable, entry_name in node.get("bind", {}).items():
            if entry_name not in names:
                problems.append(
                    loaded.problem(
                        (*at, "bind", variable),
                        f"{name} binds no {entry_name!r} (its list binds {sorted(names) or 'nothing'})",
                    )
                )
            bound.add(variable)
        expect = node.get("expect", "success")
        if kind == "command" and "data" in node and expect != "failure":
            # "$fact:NAME" values take each platform's fact; the data must suit every platform it may run on
            # (a step that expects a failure may send invalid data on purpose)
            command = catalogue.commands[name]
            for platform in sorted(platforms & command.platforms):
                filled = with_facts(node["data"], catalogue.platforms[platform].facts)
                for message in command.request_errors(platform, filled):
                    problems.append(loaded.problem((*at, "data"), f"data for {name} on {platform}: {message}"))
        steps.append(
            Step(
                kind=kind,  # type: ignore[arg-type]
                name=name,
                target=target,
                data=node.get("data"),
                expect=frozenset([expect] if isinstance(expect, str) else expect),
                bind=node.get("bind", {}),
                title=node.get("title"),
                ref=SpecRef(loaded.file, loaded.line_of(at)),
            )
        )
    for index, name in enumerate(when.get("platform", [])):
        if name not in catalogue.platforms:
            problems.append(loaded.problem(("when", "platform", index), f"unknown platform {name!r}"))
    facts: dict[str, Schema] = {}
    for name, document in when.get("facts", {}).items():
        if name not in catalogue.facts:
            problems.append(
                loaded.problem(("when", "facts", name), f"{name!r} is not a fact of specs/platforms.yaml")
            )
            continue
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as exc:
            problems.append(loaded.problem(("when", "facts", name), f"not a JSON Schema: {exc.message}"[:300]))
            continue
        facts[name] = Schema.of(document)
    if problems:
        raise SpecError(problems)
    startup = set(startup_bindings(catalogue))
    activations = frozenset(
        index
        for index, step in enumerate(steps)
        if step.kind == "command"
        and step.name == catalogue.startup.activation
        and step.expect == frozenset({"success"})
        and step.target.startswith("$")
        and (step.target[1:] in startup or step.target.endswith(MEDIA_CHANNEL))
    )
    return Scenario(
        id=data["id"],
        title=data["title"],
        description=data.get("description", ""),
        level=data["level"],
        steps=tuple(steps),
        ref=SpecRef(loaded.file, loaded.line_of(("id",))),
        platforms=frozenset(when["platform"]) if "platform" in when else None,
        media=frozenset(when.get("media", [])),
        facts=facts,
        found=data.get("found"),
        startup_activations=activations,
    )
