"""Load ``specs/`` into a :class:`Catalogue`, reporting every problem in every file at once.

Each file is checked against the format's JSON Schema (``specs/meta/spec-v1.schema.json``), then the files
are checked against each other: an event a list names must exist and be allowed at the level the entry is
about; a state a list or a precondition names must exist at that level; a name used in ``about`` must be
bound earlier; examples must satisfy their schemas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .catalogue import (
    Catalogue,
    CommandSpec,
    Condition,
    Count,
    EachAbout,
    EchoRule,
    EventEntry,
    EventList,
    EventSpec,
    FacetSpec,
    FollowUp,
    LevelSpec,
    OutcomeSpec,
    PlatformSpec,
    Protocol,
    ResponseRule,
    Schema,
    SpecRef,
    StartupRequest,
    StartupSpec,
    StimulusSpec,
    describe_error,
)
from .inputfile import InputRefused, load_json_file
from .requirements import ERRATA, build_requirements, check_citations, ids_of, merged, rulings
from .yamlfile import JsonPath, LoadedYaml, SpecProblem, display_path, error_path, load_yaml_file

META_SCHEMA = Path("meta") / "spec-v1.schema.json"
SINGLETON_KINDS = ("protocol", "states", "startup", "platforms")
OPTIONAL_SINGLETON_KINDS = ("requirements",)  # at most one


class SpecError(Exception):
    """The spec catalogue (or a suite or profile) has problems; each names its file and line."""

    def __init__(self, problems: Iterable[SpecProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


def spec_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if "meta" not in p.relative_to(root).parts)


def load_meta_schema(root: Path) -> dict[str, Any]:
    return read_schema(root, META_SCHEMA)


def read_schema(root: Path, relative: Path) -> dict[str, Any]:
    """A JSON Schema of the catalogue under ``root`` (a folder a user may give with ``--specs``), read
    within the input limits; :class:`SpecError` with a ``file:line`` problem otherwise."""
    path = root / relative
    shown = display_path(path, root.parent)
    try:
        document = load_json_file(path)
    except InputRefused as exc:
        raise SpecError([SpecProblem(shown, exc.line, exc.message, refused=True)]) from None
    except OSError as exc:
        raise SpecError([SpecProblem(shown, 1, f"cannot read: {exc.strerror}")]) from None
    if not isinstance(document, dict):
        raise SpecError([SpecProblem(shown, 1, "a JSON Schema must be an object")])
    return document


def _rulings(root: Path) -> frozenset[str]:
    try:
        return rulings(root)
    except InputRefused as exc:
        shown = display_path(root / ERRATA, root.parent)
        raise SpecError([SpecProblem(shown, exc.line, exc.message, refused=True)]) from None


def validate_documents(root: Path, files: list[Path]) -> tuple[list[LoadedYaml], list[SpecProblem]]:
    """Parse and validate each file against the format's schema. Returns the valid documents."""
    meta = load_meta_schema(root)
    base = Draft202012Validator(meta)
    kinds = meta["properties"]["kind"]["enum"]
    by_kind = {kind: Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": meta["$defs"]}) for kind in kinds}
    problems: list[SpecProblem] = []
    valid: list[LoadedYaml] = []
    for path in files:
        loaded = load_yaml_file(path, display_path(path, root.parent))
        problems.extend(loaded.problems)
        if loaded.problems:
            continue
        if not isinstance(loaded.data, dict):
            problems.append(loaded.problem((), "a spec file must be a mapping with 'format' and 'kind'"))
            continue
        errors = list(base.iter_errors(loaded.data))
        if not errors:
            errors = list(by_kind[loaded.data["kind"]].iter_errors(loaded.data))
        for error in errors:
            problems.append(loaded.problem(error_path(error), describe_error(error)))
        if not errors:
            valid.append(loaded)
    return valid, problems


@dataclass
class _Builder:
    root: Path
    problems: list[SpecProblem] = field(default_factory=list)

    def ref(self, doc: LoadedYaml, path: JsonPath, node: Mapping[str, Any] | None = None, *also: Any) -> SpecRef:
        """``node``: the element (else the whole file) whose source and requirement ids it carries;
        ``also``: further elements whose requirement ids it carries as well (a command's ``when``)."""
        source = (node or {}).get("source") or (doc.data.get("source") if isinstance(doc.data, dict) else None)
        return SpecRef(
            doc.file,
            doc.line_of(path),
            source.get("seed") if source else None,
            source.get("section") if source else None,
            merged(ids_of(doc.data if node is None else node), *(ids_of(item) for item in also)),
        )

    def schema(self, doc: LoadedYaml, path: JsonPath, document: Mapping[str, Any]) -> Schema:
        try:
            Draft202012Validator.check_schema(document)
        except SchemaError as exc:
            self.problems.append(doc.problem(path, f"not a valid JSON Schema: {exc.message}"))
            return Schema.of({})
        return Schema.of(document)

    def example(self, doc: LoadedYaml, path: JsonPath, schema: Schema, example: Any) -> None:
        for message in schema.errors(example):
            self.problems.append(doc.problem(path, f"the example does not satisfy its schema: {message}"))

    def event_list(self, doc: LoadedYaml, path: JsonPath, node: Mapping[str, Any]) -> EventList:
        entries = []
        for index, item in enumerate(node["sequence"]):
            at = (*path, "sequence", index)
            if "any_order" in item:  # an unordered group: its entries arrive in any order among themselves
                for member, entry in enumerate(item["any_order"]):
                    entries.append(self.entry(doc, (*at, "any_order", member), node, entry, group=index + 1))
            else:
                entries.append(self.entry(doc, at, node, item))
        return EventList(
            provenance=node["provenance"],
            complete=node["complete"],
            interleave_allowed=node["interleave"] == "allow",
            entries=tuple(entries),
            ref=self.ref(doc, path, node),
            settle=node.get("settle", False),
            reason=node.get("reason"),
            nonempty=node.get("nonempty", False),
        )

    def entry(
        self, doc: LoadedYaml, at: JsonPath, node: Mapping[str, Any], entry: Mapping[str, Any], group: int = 0
    ) -> EventEntry:
        about_node = entry["about"]
        about: str | EachAbout
        if isinstance(about_node, dict):
            states = about_node.get("in_state")
            about = EachAbout(about_node["each"], frozenset(states) if states is not None else None)
        else:
            about = about_node
        return EventEntry(
            event=entry["event"],
            about=about,
            binds=entry.get("as"),
            data=entry.get("data", {}),
            optional=entry.get("optional", False),
            repeat=entry.get("repeat", False),
            inferred=entry.get("inferred"),
            ref=self.ref(doc, at, node),
            only_if=self.condition(doc, (*at, "if"), entry["if"]) if "if" in entry else None,
            swap=entry.get("swap", {}),
            refer=entry.get("refer", {}),
            group=group,
            printed=entry.get("printed", False),
        )

    def condition(self, doc: LoadedYaml, path: JsonPath, node: Mapping[str, Any]) -> Condition:
        def opt(key: str) -> frozenset[str] | None:
            return frozenset(node[key]) if key in node else None

        counts = {
            level: tuple(
                Count(opt_states(item), item.get("min"), item.get("max"), item.get("initialized"))
                for item in (spec if isinstance(spec, list) else [spec])
            )
            for level, spec in node.get("count", {}).items()
        }
        return Condition(
            state=opt("state"),
            facets={name: tuple(values) for name, values in node.get("facets", {}).items()},
            media=opt("media"),
            count=counts,
            parent=self.condition(doc, (*path, "parent"), node["parent"]) if "parent" in node else None,
            platform=opt("platform"),
            facts={
                name: self.schema(doc, (*path, "facts", name), schema)
                for name, schema in node.get("facts", {}).items()
            },
            data=self.schema(doc, (*path, "data"), node["data"]) if "data" in node else None,
            inferred=node.get("inferred"),
            refusal_seed=node.get("refusal") == "seed" or isinstance(node.get("refusal"), Mapping),
            seed_condition=self.condition(doc, (*path, "refusal", "seed"), node["refusal"]["seed"])
            if isinstance(node.get("refusal"), Mapping)
            else None,
        )

    def when(self, doc: LoadedYaml, node: Any, path: JsonPath = ("when",)) -> tuple[Condition, ...]:
        if node is None:
            return ()
        if isinstance(node, list):
            return tuple(self.condition(doc, (*path, index), item) for index, item in enumerate(node))
        return (self.condition(doc, path, node),)

    def outcome(self, doc: LoadedYaml, path: JsonPath, node: Mapping[str, Any]) -> OutcomeSpec:
        response = node.get("response")
        schema = self.schema(doc, (*path, "response", "schema"), response["schema"]) if response else None
        return OutcomeSpec(
            name=node["name"],
            summary=node.get("summary", ""),
            when=self.condition(doc, (*path, "when"), node["when"]),
            result=node["result"],
            failure=node.get("failure"),
            response=schema,
            response_example=response["example"] if response else {},
            events=self.event_list(doc, (*path, "events"), node["events"]) if "events" in node else None,
            then=tuple(
                FollowUp(item["title"], item.get("data"), item.get("stimulus"), item.get("target", "target"))
                for item in node.get("then", [])
            ),
            ref=self.ref(doc, path, node, node["when"]),
            example=node.get("example"),
            inferred=node.get("inferred")
            or ("the seeds do not print this outcome" if node.get("provenance") == "inferred" else None),
            should=node.get("severity") == "SHOULD",
        )


def _alternatives(when: Any) -> list[Any]:
    return list(when) if isinstance(when, list) else [when] if when is not None else []


def opt_states(node: Mapping[str, Any]) -> frozenset[str] | None:
    return frozenset(node["states"]) if "states" in node else None


def load_catalogue(root: Path) -> Catalogue:
    """Load and check the whole catalogue under ``root``; raise :class:`SpecError` listing every problem."""
    root = root.resolve()
    if not (root / META_SCHEMA).is_file():
        raise SpecError([SpecProblem(str(root / META_SCHEMA), 1, "the spec format's JSON Schema is missing")])
    for schema in sorted((root / "meta").glob("*.json")):  # each read within the limits, or a problem now
        read_schema(root, schema.relative_to(root))
    files = spec_files(root)
    documents, problems = validate_documents(root, files)
    builder = _Builder(root, problems)
    by_kind: dict[str, list[LoadedYaml]] = {}
    for doc in documents:
        by_kind.setdefault(doc.data["kind"], []).append(doc)
    for kind in OPTIONAL_SINGLETON_KINDS:
        if len(by_kind.get(kind, [])) > 1:
            problems.append(by_kind[kind][1].problem((), f"expected at most one spec of kind {kind!r}"))
    for kind in SINGLETON_KINDS:
        found = by_kind.get(kind, [])
        if len(found) != 1:
            where = found[1] if len(found) > 1 else None
            problems.append(
                SpecProblem(
                    where.file if where else display_path(root, root.parent),
                    1,
                    f"expected exactly one spec of kind {kind!r}, found {len(found)}",
                )
            )
    if problems and any(len(by_kind.get(kind, [])) != 1 for kind in SINGLETON_KINDS):
        raise SpecError(problems)

    requirements = build_requirements(next(iter(by_kind.get("requirements", [])), None), _rulings(root), problems)
    if by_kind.get("requirements") or not problems:  # a requirements file that is invalid: its problems say so
        check_citations(documents, requirements, problems)
    protocol = _build_protocol(builder, by_kind["protocol"][0])
    levels = _build_levels(by_kind["states"][0])
    events = _unique(builder, by_kind.get("event", []), lambda d: _build_event(builder, d))
    commands = _unique(builder, by_kind.get("command", []), lambda d: _build_command(builder, d))
    stimuli = _unique(builder, by_kind.get("stimulus", []), lambda d: _build_stimulus(builder, d))
    startup = _build_startup(builder, by_kind["startup"][0])
    platforms, facts = _build_platforms(builder, by_kind["platforms"][0])
    states_doc = by_kind["states"][0]
    for name, level in levels.items():
        for state, targets in (level.transitions or {}).items():
            for unknown in sorted({state, *targets} - level.states):
                problems.append(
                    states_doc.problem(
                        ("levels", name, "transitions", state), f"{unknown!r} is not a {name} state"
                    )
                )
    default_platform = by_kind["platforms"][0].data["default"]
    if default_platform not in platforms:
        problems.append(
            by_kind["platforms"][0].problem(("default",), f"{default_platform!r} is not a platform here")
        )

    catalogue = Catalogue(
        root=root,
        version=_digest(root, files),
        protocol=protocol,
        levels=levels,
        events=events,
        commands=commands,
        stimuli=stimuli,
        startup=startup,
        platforms=platforms,
        facts=facts,
        default_platform=default_platform,
        requirements=requirements,
    )
    from .crosscheck import cross_check  # the checks between files live in their own module

    problems.extend(cross_check(catalogue))
    if problems:
        raise SpecError(problems)
    return catalogue


def _digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in [root / META_SCHEMA, *files]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _unique(builder: _Builder, docs: list[LoadedYaml], build: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    first: dict[str, LoadedYaml] = {}
    for doc in docs:
        name = doc.data["name"]
        if name in out:
            builder.problems.append(doc.problem(("name",), f"{name!r} is already defined in {first[name].file}"))
            continue
        out[name] = build(doc)
        first[name] = doc
    return out


def _build_protocol(b: _Builder, doc: LoadedYaml) -> Protocol:
    data = doc.data
    responses = {}
    for result, rule in data["responses"].items():
        path: JsonPath = ("responses", result)
        responses[result] = ResponseRule(
            result=result,
            schema=b.schema(doc, (*path, "schema"), rule["schema"]),
            echo=tuple(EchoRule(e["response"], e["request"]) for e in rule["echo"]),
            ref=b.ref(doc, path, rule),
        )
    message_type = data["envelopes"]["event"].get("properties", {}).get("messageType", {}).get("const")
    if not isinstance(message_type, str):
        b.problems.append(
            doc.problem(("envelopes", "event"), "the event envelope must fix messageType with 'const'")
        )
        message_type = ""
    return Protocol(
        event_message_type=message_type,
        request_envelope=b.schema(doc, ("envelopes", "request"), data["envelopes"]["request"]),
        event_envelope=b.schema(doc, ("envelopes", "event"), data["envelopes"]["event"]),
        responses=responses,
        failure_codes={key: value["code"] for key, value in data["failure_codes"].items()},
        ref=b.ref(doc, ()),
    )


def _build_levels(doc: LoadedYaml) -> dict[str, LevelSpec]:
    levels = {}
    for name, node in doc.data["levels"].items():
        parent = node["parent"]
        parents = () if parent is None else (parent,) if isinstance(parent, str) else tuple(parent)
        facets = {
            facet: FacetSpec(
                facet, tuple(spec["values"]) if "values" in spec else None, spec.get("initial"), spec.get("child")
            )
            for facet, spec in node.get("facets", {}).items()
        }
        levels[name] = LevelSpec(
            name,
            node["code"],
            parents,
            node.get("initial"),
            frozenset(node["states"]),
            tuple(node["states"]),
            facets=facets,
            media_path=node.get("media"),
            most=node.get("most", {}),
            live=frozenset(node["live"]) if "live" in node else None,
            transitions=(
                {state: frozenset(to) for state, to in node["transitions"].items()}
                if "transitions" in node
                else None
            ),
        )
    return levels


def _build_platforms(b: _Builder, doc: LoadedYaml) -> tuple[dict[str, PlatformSpec], dict[str, Schema]]:
    facts = {name: b.schema(doc, ("facts", name), schema) for name, schema in doc.data["facts"].items()}
    platforms = {}
    for name, node in doc.data["platforms"].items():
        for fact, value in node["facts"].items():
            if fact not in facts:
                b.problems.append(
                    doc.problem(("platforms", name, "facts", fact), f"{fact!r} is not a declared fact")
                )
                continue
            for message in facts[fact].errors(value):
                b.problems.append(doc.problem(("platforms", name, "facts", fact), f"fact {fact}: {message}"))
        for fact in sorted(set(facts) - set(node["facts"])):
            b.problems.append(
                doc.problem(("platforms", name, "facts"), f"the platform does not give the fact {fact!r}")
            )
        platforms[name] = PlatformSpec(name, node["summary"], node["facts"])
    return platforms, facts


def _build_event(b: _Builder, doc: LoadedYaml) -> EventSpec:
    data = doc.data
    effect = data["effect"]
    creates = effect.get("creates") or {}
    schema = b.schema(doc, ("data", "schema"), data["data"]["schema"])
    b.example(doc, ("data", "example"), schema, data["data"]["example"])
    return EventSpec(
        name=data["name"],
        levels=frozenset(data["levels"]),
        provenance=data["provenance"],
        reason=data.get("reason"),
        creates_level=creates.get("level"),
        creates_id_path=creates.get("id"),
        sets=effect.get("sets", {}),
        initializes=effect.get("initializes", False),
        disposes=effect.get("disposes", False),
        requires=b.when(doc, effect.get("requires"), ("effect", "requires")),
        data=schema,
        example=data["data"]["example"],
        ref=b.ref(doc, ("name",)),
    )


def _build_command(b: _Builder, doc: LoadedYaml) -> CommandSpec:
    data = doc.data
    request = b.schema(doc, ("request", "schema"), data["request"]["schema"])
    b.example(doc, ("request", "example"), request, data["request"]["example"])
    platform_requests: dict[str, tuple[Schema | None, Mapping[str, Any] | None]] = {}
    for platform, node in data["request"].get("platforms", {}).items():
        path: JsonPath = ("request", "platforms", platform)
        extra = b.schema(doc, (*path, "schema"), node["schema"]) if "schema" in node else None
        example = node.get("example")
        if example is not None:
            b.example(doc, (*path, "example"), request, example)
            if extra is not None:
                b.example(doc, (*path, "example"), extra, example)
        platform_requests[platform] = (extra, example)
    return CommandSpec(
        name=data["name"],
        level=data["level"],
        platforms=frozenset(data["platforms"]),
        media=frozenset(data["media"]),
        provenance=data["provenance"],
        reason=data.get("reason"),
        summary=data.get("summary", ""),
        when=b.when(doc, data.get("when")),
        request=request,
        example=data["request"]["example"],
        results=frozenset(data["results"]),
        events=b.event_list(doc, ("events",), data["events"]),
        # a wrong result on the command's own cases cites the command's, its precondition's and its request's
        ref=b.ref(doc, ("name",), None, *_alternatives(data.get("when")), data["request"]),
        outcomes=tuple(b.outcome(doc, ("outcomes", i), node) for i, node in enumerate(data.get("outcomes", []))),
        platform_requests=platform_requests,
    )


def _build_stimulus(b: _Builder, doc: LoadedYaml) -> StimulusSpec:
    data = doc.data
    return StimulusSpec(
        name=data["name"],
        level=data["level"],
        media=frozenset(data["media"]),
        provenance=data["provenance"],
        summary=data.get("summary", ""),
        when=b.when(doc, data["when"]),
        events=b.event_list(doc, ("events",), data["events"]),
        ref=b.ref(doc, ("name",), None, *_alternatives(data["when"])),
        platforms=frozenset(data.get("platforms", [])),
    )


def _build_startup(b: _Builder, doc: LoadedYaml) -> StartupSpec:
    data = doc.data
    return StartupSpec(
        send=tuple(StartupRequest(s["command"], s["target"], s["data"]) for s in data["send"]),
        per_channel=b.event_list(doc, ("per_channel",), data["per_channel"]),
        ready_event=data["ready"]["event"],
        ref=b.ref(doc, ("ready",)),
        per_group=data.get("per_group"),
        activation=data.get("activation"),
    )
