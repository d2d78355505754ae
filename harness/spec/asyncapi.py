"""The catalogue as an AsyncAPI 3.0 document (``mbconform asyncapi``), for the tools that read AsyncAPI.

The document describes the **media bar**'s side of the protocol: it connects to the adapter's WebSocket
server (``servers``), on one channel (``mediabar``), *sends* each command as a request and gets its reply
(``success``, ``failure``, ``needinfo``, as the command's results say), and *receives* every object event.
Every shape comes from the catalogue: the envelopes and response rules of ``specs/protocol.yaml`` with the
command's request schema and name in them, each event's data schema, and the examples of the spec files
(``$fact:`` names filled in from ``specs/platforms.yaml``).

What AsyncAPI cannot say natively is in ``x-mbconform`` extensions, documented in the document's
``info.x-mbconform-extensions`` and in the README:

- on a send operation: the command's level, platforms, media, where it is legal (``preconditions``, the
  states of ``legal_in``), its ordered secondary events (``secondary_events``: provenance, whether the seeds
  print the whole list, each entry's event, object, data, optional/repeat and why it is inferred), its
  outcomes (needinfo, failures that change state), the platform-specific request schemas, and its source;
- on a message: the echo rules of a reply, an event's levels, the level it creates, its source;
- ``source``: the seed and section it comes from, the spec file and line, the requirement ids;
- ``provenance``: ``seed`` (a MUST where the seeds say so) or ``inferred`` (a convention, ERRATA).
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .catalogue import Catalogue, CommandSpec, EventList, EventSpec, OutcomeSpec, SpecRef, with_facts

ASYNCAPI_VERSION = "3.0.0"
CHANNEL = "mediabar"
SERVER_HOST = "127.0.0.1:8765"  # `mbconform serve --port 8765`: the reference adapter, as in the README
EXTENSION = "x-mbconform"
EXTENSIONS_DOC = {
    "provenance": "seed: the seeds print it (a MUST where they say so); inferred: a convention the catalogue "
    "infers where the seeds are silent (specs/ERRATA.md)",
    "source": "where it comes from: seed file and section, the spec file and line, the requirement ids "
    "(specs/requirements.yaml)",
    "level": "the object level the command's target addresses (specs/states.yaml)",
    "preconditions": "alternatives, any one of which makes the command legal (object state, media, counts, "
    "platform); elsewhere it fails",
    "secondary_events": "the ordered events a successful request brings before or after its reply: each "
    "entry's event, the object it is about, its data, optional/repeat, and why it is inferred",
    "outcomes": "other outcomes the catalogue names (a needinfo, a failure that changes state, an idempotent "
    "repeat): when, the result, their events and follow-ups",
    "platform_requests": "a platform's own request schema and example (for example InContact's dispositions)",
    "echo": "which members of a reply repeat which members of the request",
}


def _source(ref: SpecRef) -> dict[str, Any]:
    found: dict[str, Any] = {"spec": f"{ref.file}:{ref.line}"}
    if ref.seed:
        found["seed"] = ref.seed
    if ref.section:
        found["section"] = ref.section
    if ref.requirements:
        found["requirements"] = list(ref.requirements)
    return found


def _events(events: EventList) -> dict[str, Any]:
    found: dict[str, Any] = {
        "provenance": events.provenance,
        "complete": events.complete,
        "interleave_allowed": events.interleave_allowed,
        "source": _source(events.ref),
        "sequence": [],
    }
    if events.inferred:
        found["inferred"] = events.inferred
    for entry in events.entries:
        item: dict[str, Any] = {"event": entry.event, "about": str(entry.about)}
        if entry.data:
            item["data"] = copy.deepcopy(dict(entry.data))
        if entry.optional:
            item["optional"] = True
        if entry.repeat:
            item["repeat"] = True
        if entry.group:
            item["any_order_group"] = entry.group
        if entry.only_if is not None:
            item["only_if"] = entry.only_if.describe()
        basis = events.basis(entry)
        if basis:
            item["inferred"] = basis
        found["sequence"].append(item)
    return found


class _Builder:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.protocol = catalogue.protocol
        self.messages: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}

    def facts(self, platforms: frozenset[str] | set[str]) -> dict[str, Any]:
        """The facts that fill an example's ``$fact:`` names: the default platform's first, then the others."""
        found: dict[str, Any] = {}
        names = sorted(platforms or self.catalogue.platforms, key=lambda n: n != self.catalogue.default_platform)
        for name in names:
            platform = self.catalogue.platforms.get(name)
            if platform is not None:
                found = {**platform.facts, **found}
        return found

    def envelope(self, document: Mapping[str, Any], **members: Any) -> dict[str, Any]:
        """A copy of an envelope's schema with some of its members' schemas replaced."""
        found = copy.deepcopy(dict(document))
        properties = dict(found.get("properties", {}))
        properties.update(members)
        found["properties"] = properties
        return found

    def message(self, key: str, body: dict[str, Any]) -> dict[str, str]:
        self.messages[key] = {"name": key, "contentType": "application/json", **body}
        return {"$ref": f"#/channels/{CHANNEL}/messages/{key}"}

    def command(self, command: CommandSpec) -> None:
        facts = self.facts(set(command.platforms))
        request_schema = self.envelope(
            self.protocol.request_envelope.document,
            command={"const": command.name},
            target={"type": "string", "description": f"the address of the {command.level} the command is for"},
            data=copy.deepcopy(dict(command.request.document)),
        )
        target = f"<{command.level} address>"
        request = {
            "command": command.name,
            "target": target,
            "data": with_facts(copy.deepcopy(dict(command.example)), facts),
        }
        request_ref = self.message(
            f"{command.name}.request",
            {
                "title": f"{command.name} request",
                "summary": command.summary,
                "payload": request_schema,
                "examples": [{"name": "request", "payload": request}],
                EXTENSION: {"provenance": command.provenance, "source": _source(command.ref)},
            },
        )
        replies = [self.reply(command, result, request_schema, request) for result in self.results(command)]
        extension: dict[str, Any] = {
            "level": command.level,
            "platforms": sorted(command.platforms),
            "media": sorted(command.media),
            "provenance": command.provenance,
            "source": _source(command.ref),
            "legal_in": sorted(state for condition in command.when for state in (condition.state or ())),
            "preconditions": [condition.describe() for condition in command.when] or ["any state"],
            "secondary_events": _events(command.events),
        }
        if command.reason:
            extension["inferred"] = command.reason
        if command.outcomes:
            extension["outcomes"] = [self.outcome(outcome) for outcome in command.outcomes]
        if command.platform_requests:
            extension["platform_requests"] = {
                platform: {
                    "schema": copy.deepcopy(dict(schema.document)) if schema is not None else None,
                    "example": copy.deepcopy(dict(example)) if example is not None else None,
                }
                for platform, (schema, example) in sorted(command.platform_requests.items())
            }
        self.operations[command.name] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": command.name,
            "summary": command.summary,
            "messages": [request_ref],
            "reply": {"channel": {"$ref": f"#/channels/{CHANNEL}"}, "messages": replies},
            EXTENSION: extension,
        }

    def results(self, command: CommandSpec) -> list[str]:
        """The command's results in the protocol's order (success, failure, needinfo)."""
        return [result for result in self.protocol.responses if result in command.results]

    def reply(
        self, command: CommandSpec, result: str, request_schema: dict[str, Any], request: dict[str, Any]
    ) -> dict[str, str]:
        rule = self.protocol.responses[result]
        members: dict[str, Any] = {"command": {"const": command.name}}
        echoes = {echo.response_path.removeprefix("$."): echo.request_path for echo in rule.echo}
        for member, request_path in echoes.items():
            if member in ("command", "target"):
                continue
            if request_path == "$":
                members[member] = copy.deepcopy(request_schema)
            elif request_path.removeprefix("$.") in request_schema["properties"]:
                members[member] = copy.deepcopy(request_schema["properties"][request_path.removeprefix("$.")])
        schema = self.envelope(rule.schema.document, **members)
        plain = self.example_reply(result, request, echoes)
        # an outcome's example gives the members its reply carries beyond the protocol's rule (a needinfo's
        # uiExtension), filled in with the facts of the platform it is about: on top of the plain reply
        examples = [
            {
                "name": outcome.name,
                "payload": {
                    **plain,
                    **with_facts(
                        dict(outcome.response_example), self.facts(set(outcome.when.platform or command.platforms))
                    ),
                },
            }
            for outcome in command.outcomes
            if outcome.result == result and outcome.response_example
        ] or [{"name": result, "payload": plain}]
        return self.message(
            f"{command.name}.{result}",
            {
                "title": f"{command.name} {result}",
                "summary": f"The {result} reply to {command.name}.",
                "payload": schema,
                "examples": examples,
                EXTENSION: {
                    "echo": [{"reply": e.response_path, "request": e.request_path} for e in rule.echo],
                    "source": _source(rule.ref),
                },
            },
        )

    def example_reply(self, result: str, request: dict[str, Any], echoes: Mapping[str, str]) -> dict[str, Any]:
        """A reply the response rule allows: the echoed members, the result, and what the rule requires
        besides (a failure's code and message, a needinfo's uiExtension) left empty of the platform's values."""
        found: dict[str, Any] = {"command": request["command"], "target": request["target"], "result": result}
        for member, path in echoes.items():
            found[member] = request if path == "$" else request.get(path.removeprefix("$."))
        required = self.protocol.responses[result].schema.document.get("required", [])
        for member in required:
            if member not in found:
                found[member] = self.filler(self.protocol.responses[result].schema.document["properties"][member])
        return found

    def filler(self, schema: Mapping[str, Any]) -> Any:
        if schema.get("type") == "object":
            return {name: self.filler(schema["properties"][name]) for name in schema.get("required", [])}
        return "example" if schema.get("type") == "string" else None

    def outcome(self, outcome: OutcomeSpec) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": outcome.name,
            "summary": outcome.summary,
            "when": outcome.when.describe(),
            "result": outcome.result,
            "source": _source(outcome.ref),
        }
        if outcome.failure:
            found["failure"] = outcome.failure
        if outcome.events is not None:
            found["secondary_events"] = _events(outcome.events)
        if outcome.then:
            found["then"] = [follow.title for follow in outcome.then]
        if outcome.inferred:
            found["inferred"] = outcome.inferred
        return found

    def event(self, event: EventSpec) -> None:
        schema = self.envelope(
            self.protocol.event_envelope.document,
            name={"const": event.name},
            target={"type": "string", "description": f"the address of the {'/'.join(sorted(event.levels))}"},
            data=copy.deepcopy(dict(event.data.document)),
        )
        example = {
            "messageType": self.protocol.event_message_type,
            "target": f"<{sorted(event.levels)[0]} address>",
            "name": event.name,
            "data": with_facts(copy.deepcopy(dict(event.example)), self.facts(set())),
        }
        extension: dict[str, Any] = {
            "levels": sorted(event.levels),
            "provenance": event.provenance,
            "source": _source(event.ref),
        }
        if event.creates_level:
            extension["creates"] = event.creates_level
        if event.reason:
            extension["inferred"] = event.reason
        ref = self.message(
            f"event.{event.name}",
            {
                "title": event.name,
                "summary": f"The {event.name} object event.",
                "payload": schema,
                "examples": [{"name": event.name, "payload": example}],
                EXTENSION: extension,
            },
        )
        self.operations[f"on.{event.name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{CHANNEL}"},
            "title": f"receive {event.name}",
            "messages": [ref],
        }


def asyncapi_document(catalogue: Catalogue) -> dict[str, Any]:
    """The whole AsyncAPI 3.0 document of the catalogue (plain JSON values, in a stable order)."""
    builder = _Builder(catalogue)
    for command in sorted(catalogue.commands.values(), key=lambda c: c.name):
        builder.command(command)
    for event in sorted(catalogue.events.values(), key=lambda e: e.name):
        builder.event(event)
    messages = {key: {"$ref": f"#/components/messages/{key}"} for key in builder.messages}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Media bar protocol",
            "version": catalogue.version,
            "description": "JSON over WebSocket between a contact-center agent's media bar and a platform "
            "adapter, as mbconform's spec catalogue reads the seeds. This document is the media bar's side: "
            "it sends requests (one operation per command, with its replies) and receives object events. "
            "What AsyncAPI cannot say natively is in x-mbconform extensions (x-mbconform-extensions below).",
            "x-mbconform-extensions": EXTENSIONS_DOC,
        },
        "defaultContentType": "application/json",
        "servers": {
            "adapter": {
                "host": "{host}",
                "protocol": "ws",
                "description": "the platform adapter's WebSocket server (wss:// where it uses TLS); its path "
                "is the adapter's own",
                "variables": {"host": {"default": SERVER_HOST, "description": "host and port of the adapter"}},
            }
        },
        "channels": {
            CHANNEL: {
                "address": None,
                "title": "media bar session",
                "description": "the one WebSocket connection: requests and replies, and object events in "
                "between (a reply may come after events it caused)",
                "messages": messages,
            }
        },
        "operations": builder.operations,
        "components": {"messages": builder.messages},
    }


def run_cli(catalogue: Catalogue, out: Path | None) -> int:
    """``mbconform asyncapi``: the document as YAML (``--out`` ending .yaml/.yml) or JSON (else, and stdout)."""
    document = asyncapi_document(catalogue)
    if out is not None and out.suffix in (".yaml", ".yml"):
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=115)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return 0
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"mbconform asyncapi: cannot write {out}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    return 0
