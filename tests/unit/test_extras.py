"""A profile's declared extra commands and stimuli (``conventions.extra_commands`` / ``extra_stimuli``, issue
14 B): every problem at its line, built by the catalogue's own loader, used by the planner like the catalogue's,
given cases of their own, carried to the reference adapter, and a stimulus's own HTTP request."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from harness.cases import command_cases
from harness.core.conventions import from_query, parse, problems
from harness.core.extras import extended
from harness.core.simulate import Platform, channel_seeds
from harness.runner.stimuli import StimulusDriver, produce
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_profile

HEAD = """format: mbconform/profile/1
name: extras
platform: generic
addressing: flat
media: [telephony, chat]
commands: all
stimuli:
  driver: in-band
  available: [call.inbound, chat.inbound, remote.answered, remote.hangup]
timing: {step_timeout: 5}
"""
EXTRAS: dict[str, Any] = {
    "extra_stimuli": {
        "lab.inactive": {
            "level": "channel",
            "from": ["ACTIVE"],
            "to": "INACTIVE",
            "events": [{"event": "state.updated", "about": "target", "data": {"state": "INACTIVE"}}],
        },
        "lab.ready": {
            "level": "channel",
            "from": ["INACTIVE"],
            "to": "ACTIVE",
            "events": [{"event": "state.updated", "about": "target", "data": {"state": "ACTIVE"}}],
        },
    },
    "extra_commands": {
        "agent.notready": {
            "level": "channel",
            "from": ["ACTIVE"],
            "data": {"reason": "break"},
            "summary": "the agent goes not ready",
            "events": [
                {"event": "channel.infochanged", "about": "target"},
                {"event": "state.updated", "about": "target", "data": {"state": "INACTIVE"}},
            ],
        }
    },
}


def _profile(
    tmp_path: Path, catalogue: Catalogue, conventions: dict[str, Any], name: str = "p.yaml", without: str = ""
) -> Any:
    """``without``: a command the adapter does not have (``commands: all`` otherwise)."""
    path = tmp_path / name
    head = HEAD
    if without:
        names = sorted(c for c, spec in catalogue.commands.items() if "generic" in spec.platforms and c != without)
        if conventions.get("activation") == "self":
            names.remove("channel.activate")
        head = HEAD.replace("commands: all", f"commands: {json.dumps(names)}")
    path.write_text(head + yaml.safe_dump({"conventions": conventions}, sort_keys=False))
    return load_profile(path, catalogue)


# an adapter with no channel groups: no channel is ever added after start-up (added channels are INACTIVE)
NO_GROUPS = "session.addchannelgroup"


BAD = (
    HEAD
    + """conventions:
  activation: self
  extra_stimuli:
    channel.dial:
      level: channel
      from: [ACTIVE]
      events: []
    lab.off:
      level: planet
      from: [ACTIVE]
      events: []
    lab.inactive:
      level: channel
      from: [ACTIVE, ASLEEP]
      to: INACTIVE
      events:
        - {event: state.updated, about: target, data: {state: BUSY}}
        - {event: channel.melted, about: target}
        - {event: interaction.preview, about: call}
        - {event: state.updated, about: target, data: {state: NAPPING}}
  extra_commands:
    agent.available:
      level: channel
      from: [INACTIVE]
      events:
        - {event: state.updated, about: target, data: {state: ACTIVE}}
        - {event: state.updated, about: target, if: {weather: sunny}}
"""
)


def test_every_problem_of_a_declared_extra_is_reported_at_its_line(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    text = str(raised.value)
    expected = {
        14: "channel.dial is a command or stimulus of the catalogue",  # at its key's own line
        19: "'planet': a level with states",
        24: "'ASLEEP' is not a channel state",
        25: "no event of the list sets the target's state to INACTIVE",
        28: "event 'channel.melted' is not defined",
        29: "about 'call', which no earlier entry binds",
        30: "state 'NAPPING' is not a state of channel",
        37: "'weather' was unexpected",  # an entry is checked against the spec format's own entry schema
    }
    for line, message in expected.items():
        assert re.search(rf"bad.yaml:{line}: .*{re.escape(message)}", text), (line, message, text)


def test_the_schema_rejects_a_misspelled_field_or_data_that_is_no_mapping(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    body = "conventions:\n  extra_commands:\n    agent.ready:\n      level: channel\n      from: [INACTIVE]\n"
    path.write_text(HEAD + body + "      colour: red\n      data: [1]\n      events: []\n")
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    text = str(raised.value)
    assert re.search(r"bad.yaml:16: .*'colour' was unexpected", text), text  # the offending key's own line
    assert re.search(r"bad.yaml:17: .*is not of type 'object'", text), text


def test_a_valid_declaration_is_clean_and_declares_its_commands_and_stimuli(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    profile = _profile(tmp_path, catalogue, {**EXTRAS, "activation": "self"})
    assert "agent.notready" in profile.commands and profile.declares("agent.notready")
    assert {"lab.inactive", "lab.ready"} <= profile.stimuli
    extras = profile.conventions.extras
    assert set(extras.commands) == {"agent.notready"} and set(extras.stimuli) == {"lab.inactive", "lab.ready"}
    # each cites the profile's own line: a deviation names the vendor's declaration, not a seed
    assert (
        extras.stimuli["lab.inactive"].ref.file.endswith("p.yaml") and extras.stimuli["lab.inactive"].ref.line > 1
    )
    assert extras.stimuli["lab.inactive"].events.inferred is None  # declared: binding, never a mere convention
    with pytest.raises(SpecError, match=r"unknown stimulus 'lab\.missing'"):
        path = tmp_path / "override.yaml"
        data = yaml.safe_load(HEAD)
        data["stimuli"] = {
            "driver": "http",
            "http": {"url": "http://127.0.0.1:1/s", "per_stimulus": {"lab.missing": {"method": "PUT"}}},
        }
        path.write_text(yaml.safe_dump({**data, "conventions": EXTRAS}))
        load_profile(path, catalogue)


def test_with_self_activation_an_extra_stimulus_makes_dialing_from_inactive_reachable(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    plain = _profile(tmp_path, catalogue, {"activation": "self"}, without=NO_GROUPS)
    assert "MB-CHAN-DIAL-101" not in {case.id for case in command_cases(catalogue, plain)}  # dial-inactive hides
    only_stimuli = {"activation": "self", "extra_stimuli": EXTRAS["extra_stimuli"]}
    profile = _profile(tmp_path, catalogue, only_stimuli, "x.yaml", without=NO_GROUPS)
    cases = {case.id: case for case in command_cases(catalogue, profile)}
    dial = cases["MB-CHAN-DIAL-101"]
    assert dial.applicable and dial.flow.plan is not None
    assert [step.name for step in dial.flow.plan.steps] == ["lab.inactive"]
    # each extra stimulus checks what it is declared to do, from each state it is legal from
    for name in ("MB-CHAN-X-LAB-INACTIVE-001", "MB-CHAN-X-LAB-READY-001"):
        assert cases[name].applicable and cases[name].flow.steps[0].kind == "stimulus", name
    assert not any(case_id.startswith("MB-CHAN-X-LAB-INACTIVE-00") and case_id[-1] != "1" for case_id in cases)


def test_an_extra_command_gets_the_cases_of_a_command_and_its_success_is_binding(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    profile = _profile(tmp_path, catalogue, EXTRAS)
    cases = {case.id: case for case in command_cases(catalogue, profile)}
    assert cases["MB-CHAN-X-AGENT-NOTREADY-001"].applicable  # succeeds from ACTIVE with its declared events
    assert cases["MB-CHAN-X-AGENT-NOTREADY-002"].applicable  # fails for a channel that does not exist
    assert "MB-CHAN-X-AGENT-NOTREADY-003" not in cases  # no schema declared: no data is invalid
    assert cases["MB-CHAN-X-AGENT-NOTREADY-101"].applicable  # from INACTIVE (after channel.activate's start)
    assert "declared_extra" in cases["MB-CHAN-X-AGENT-NOTREADY-001"].markers
    bigger = extended(catalogue, profile.conventions.extras)
    platform = Platform(bigger)
    platform.startup(list(channel_seeds(bigger, ("telephony",))), "S1")
    channel = next(iter(platform.model.of_level("channel")))
    request = {"command": "agent.notready", "target": channel.address, "data": {"reason": "break"}}
    refused = platform.decide(request)  # the channel is INACTIVE: the refusal is the catalogue's reading
    assert refused.refusal is not None and refused.inferred is not None
    platform.handle({"command": "channel.activate", "target": channel.address, "data": {}})
    decision = platform.decide(request)
    assert decision.result == "success" and decision.inferred is None  # the vendor's declaration: a MUST
    events = platform.handle(request).events
    assert [event["name"] for event in events] == ["channel.infochanged", "state.updated"]
    assert platform.model.objects[channel.address].state == "INACTIVE"


def test_the_reference_adapter_receives_the_extras_with_the_conventions(catalogue: Catalogue) -> None:
    conventions = parse(catalogue, EXTRAS)
    again = from_query(catalogue, conventions.to_query())
    assert again == conventions and set(again.extras.stimuli) == {"lab.inactive", "lab.ready"}
    assert extended(catalogue, again.extras).commands["agent.notready"].example == {"reason": "break"}
    assert extended(catalogue, parse(catalogue, {}).extras) is catalogue


class _Lab(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        _Lab.seen.append((self.command, self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def lab() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Lab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Lab.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_a_stimulus_with_its_own_http_request_gets_it_and_the_others_the_drivers(lab: str) -> None:
    driver = StimulusDriver(
        kind="http",
        method="POST",
        url=lab + "/stimulus",
        body={"stimulus": "{stimulus}", "target": "{target}"},
        per_stimulus={
            "lab.inactive": {"method": "PUT", "url": lab + "/agents/{session}/state", "body": {"ready": 0}}
        },
    )

    async def both() -> None:
        for name in ("call.inbound", "lab.inactive"):
            await produce(driver, name, "S1.chan1", "ws://127.0.0.1:1/", 5.0, lambda text: None)

    asyncio.run(both())
    assert _Lab.seen == [
        ("POST", "/stimulus", {"stimulus": "call.inbound", "target": "S1.chan1"}),
        ("PUT", "/agents/S1/state", {"ready": 0}),
    ]


def test_problems_never_raise_on_any_shape(catalogue: Catalogue) -> None:
    for extra in (
        [],
        "x",
        {"": {}},
        {"lab.x": None},
        {"lab.x": {"level": 3}},
        {"lab.x": {"level": "channel", "from": "ACTIVE", "events": []}},
        {"lab.x": {"level": "channel", "from": [[]], "events": [3]}},
        {"lab.x": {"level": "channel", "from": ["ACTIVE"], "to": [], "events": {}}},
        {"lab.x": {"level": "channel", "from": ["ACTIVE"], "data": 1, "summary": 2, "events": []}},
        {"lab.x": {"level": "channel", "from": ["ACTIVE"], "events": [{"event": 1, "about": "target"}]}},
    ):
        for kind in ("extra_commands", "extra_stimuli"):
            assert problems(catalogue, {kind: extra}), (kind, extra)
    assert problems(catalogue, {"commands": {"conversation.release": "lab.x"}, "extra_commands": {"lab.x": {}}})
