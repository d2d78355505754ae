"""``mbconform asyncapi``: every command and event of the catalogue is in the AsyncAPI document, its
examples fit its own schemas, and the official parser (npm @asyncapi/parser, pinned) accepts it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from harness.paths import project_root
from harness.spec.asyncapi import CHANNEL, asyncapi_document
from harness.spec.catalogue import Catalogue

VALIDATOR = project_root() / "tools" / "validate-asyncapi.mjs"
PARSER = project_root() / "node_modules" / "@asyncapi" / "parser"
NODE_SECONDS = 120  # a hang guard for the node process, never a speed target


@pytest.fixture(scope="module")
def document(catalogue: Catalogue) -> dict[str, Any]:
    return asyncapi_document(catalogue)


def _message(document: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    prefix = f"#/channels/{CHANNEL}/messages/"
    assert ref["$ref"].startswith(prefix)
    key = ref["$ref"][len(prefix) :]
    assert document["channels"][CHANNEL]["messages"][key] == {"$ref": f"#/components/messages/{key}"}
    message: dict[str, Any] = document["components"]["messages"][key]
    return message


def test_every_command_is_a_send_operation_with_its_replies(
    catalogue: Catalogue, document: dict[str, Any]
) -> None:
    operations = document["operations"]
    for command in catalogue.commands.values():
        operation = operations[command.name]
        assert operation["action"] == "send"
        (request,) = [_message(document, ref) for ref in operation["messages"]]
        assert request["payload"]["properties"]["command"] == {"const": command.name}
        assert request["payload"]["properties"]["data"] == dict(command.request.document)
        replies = [_message(document, ref) for ref in operation["reply"]["messages"]]
        results = {reply["payload"]["properties"]["result"]["const"] for reply in replies}
        assert results == set(command.results), command.name
        extension = operation["x-mbconform"]
        assert [entry["event"] for entry in extension["secondary_events"]["sequence"]] == [
            entry.event for entry in command.events.entries
        ]
        assert extension["provenance"] == command.provenance
        assert extension["source"]["spec"] == f"{command.ref.file}:{command.ref.line}"
        assert len(extension["preconditions"]) == max(len(command.when), 1)
        assert [o["name"] for o in extension.get("outcomes", [])] == [o.name for o in command.outcomes]


def test_every_event_is_a_receive_message_with_its_data_schema(
    catalogue: Catalogue, document: dict[str, Any]
) -> None:
    for event in catalogue.events.values():
        operation = document["operations"][f"on.{event.name}"]
        assert operation["action"] == "receive"
        (message,) = [_message(document, ref) for ref in operation["messages"]]
        assert message["payload"]["properties"]["name"] == {"const": event.name}
        assert message["payload"]["properties"]["data"] == dict(event.data.document)
        assert message["x-mbconform"]["provenance"] == event.provenance
    assert len(document["operations"]) == len(catalogue.commands) + len(catalogue.events)


def test_every_example_fits_its_message_schema(document: dict[str, Any]) -> None:
    checked = 0
    for key, message in document["components"]["messages"].items():
        validator = Draft202012Validator(message["payload"])
        assert message["examples"], key
        for example in message["examples"]:
            errors = [error.message for error in validator.iter_errors(example["payload"])]
            assert not errors, (key, example["name"], errors)
            checked += 1
    assert checked >= len(document["components"]["messages"])


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the AsyncAPI parser is an npm package (make install)")
    if not PARSER.is_dir():
        pytest.skip("node_modules/@asyncapi/parser is absent: run `npm ci` (make test does)")
    return subprocess.run(
        [node, str(VALIDATOR), str(path)],
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
        cwd=project_root(),
    )


def test_the_official_parser_accepts_the_document_from_the_cli(tmp_path: Path, catalogue: Catalogue) -> None:
    out = tmp_path / "mediabar.asyncapi.yaml"
    command = [sys.executable, "-m", "harness", "asyncapi", "--out", str(out)]
    written = subprocess.run(command, capture_output=True, text=True, timeout=NODE_SECONDS, check=False)
    assert written.returncode == 0, written.stderr
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == json.loads(json.dumps(asyncapi_document(catalogue)))
    done = _validate(out)
    assert done.returncode == 0, done.stdout + done.stderr
    operations = len(catalogue.commands) + len(catalogue.events)
    assert f"valid: AsyncAPI 3.0.0, {operations} operations" in done.stdout


def test_the_parser_is_no_rubber_stamp(tmp_path: Path, document: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(document))
    first = next(iter(broken["operations"].values()))
    first["messages"] = [{"$ref": f"#/channels/{CHANNEL}/messages/no.such.message"}]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    done = _validate(path)
    assert done.returncode == 1 and "no.such.message" in done.stdout, done.stdout + done.stderr
