"""`mbconform discover URL` observes an adapter's conventions and writes a draft profile: against the reference
adapter the draft names what the catalogue infers (and nothing differs); against adapters with other legal
conventions, or faults that change them, the draft shows each with its evidence."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from websockets.asyncio.server import ServerConnection, serve

from harness.cli import main
from harness.core.conventions import parse
from harness.core.messages import encode
from harness.core.simulate import Platform, Refusal, channel_seeds
from harness.discover import CONVENTIONS_MARK, DIFFERS, discover, write_draft
from harness.lint import lint_paths
from harness.paths import project_root, suites_dir
from harness.reference.process import RunningAdapter, start_reference
from harness.reference.server import ReferenceAdapter
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
EXAMPLE_VENDOR = suites_dir() / "profiles" / "example-vendor.yaml"
BUDGET = "40"
Message = dict[str, Any]


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


def _without_conventions(draft: Path) -> Path:
    """The draft without its block of issue 14's convention fields (the profile schema may not have them)."""
    text = draft.read_text(encoding="utf-8")
    stripped = draft.with_name("stripped-" + draft.name)
    stripped.write_text(text.split(CONVENTIONS_MARK, 1)[0], encoding="utf-8")
    return stripped


def _discover(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["discover", *argv, "--budget", BUDGET])
    return code, capsys.readouterr().out


def test_the_draft_of_the_reference_adapter_names_the_catalogue_defaults_and_passes_lint(
    control_adapter: RunningAdapter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "draft.yaml"
    code, printed = _discover([control_adapter.url, "--out", str(out)], capsys)
    assert code == 0, printed
    text = out.read_text(encoding="utf-8")
    draft = yaml.safe_load(text)
    assert draft["addressing"] == "flat"
    assert draft["media"] == ["telephony", "chat"]
    conventions = draft["conventions"]
    assert conventions["activation"] == "command"
    assert conventions["extra_events"] == []
    assert conventions["states"] == {}
    assert DIFFERS not in text  # the reference adapter is the catalogue executed
    assert "channel.activate  # works: success on " in text and "#   evidence: {" in text
    dial = text.split("  - channel.dial  # works", 1)[1].split("\n  - ", 1)[0]
    assert "#   its events: " in dial and "interaction.preview about " in dial  # a printed list, in its order
    assert "extra events: none" in printed and f"draft: {out}" in printed
    assert lint_paths([_without_conventions(out)], project_root() / "specs") == 0


def test_with_channel_groups_and_a_log_in_the_draft_says_channelgroup_and_keeps_the_log_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--addressing", "channelgroup", "--login", "agent.login", "--lab-http"]
    with start_reference(extra) as adapter:
        out = tmp_path / "draft.yaml"
        code, printed = _discover([adapter.url, "--profile", str(EXAMPLE_VENDOR), "--out", str(out)], capsys)
        assert code == 0, printed
        text = out.read_text(encoding="utf-8")
        draft = yaml.safe_load(text)
        assert draft["addressing"] == "channelgroup"
        assert f"addressing: channelgroup  {DIFFERS}" in text
        assert draft["startup"]["send"][0]["command"] == "agent.login"
        assert draft["stimuli"]["driver"] == "http"
        assert "channelgroup.created" in text.split("addressing: channelgroup", 1)[0]  # its evidence
        assert "not reached" not in text and "refused" not in text, printed
        assert lint_paths([_without_conventions(out)], project_root() / "specs") == 0
        # without the base profile's log-in the session never starts: the draft asks about a log-in
        bare = tmp_path / "bare.yaml"
        code, printed = _discover([adapter.url, "--out", str(bare)], capsys)
        assert code == 3 and "no ready event" in printed
        assert "does the adapter need a log-in first?" in bare.read_text(encoding="utf-8")


def test_faults_that_change_conventions_show_in_the_draft(
    control_adapter: RunningAdapter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{control_adapter.url}/?fault=activate-extra-infochanged&fault=dtmf-refused"
    profile = tmp_path / "base.yaml"  # the fast profile, whose reports must not show a destination dialled
    profile.write_text(FAST_PROFILE.read_text(encoding="utf-8") + "redact: [destination]\n", encoding="utf-8")
    out = tmp_path / "draft.yaml"
    code, printed = _discover([url, "--profile", str(profile), "--out", str(out)], capsys)
    assert code == 0, printed
    text = out.read_text(encoding="utf-8")
    dial = text.split("  - channel.dial  # works", 1)[1].split("\n  - ", 1)[0]
    assert "\\u00abredacted\\u00bb" in dial and "destination" in dial and "+1555" not in text  # escaped: ASCII
    assert "  # - conversation.request.dtmf  # refused: failure " in text  # left out of the list, with why
    assert "conversation.request.dtmf" not in yaml.safe_load(text)["commands"]
    activate = text.split("  - channel.activate  # works", 1)[1].split("\n  - ", 1)[0]
    assert "channel.infochanged" in activate  # the extra event of its list, as a note under it
    assert "# a difference in the area events" in text
    assert "adopt: [" in text and "events" not in text.split("# adopt: [", 1)[1].split("]", 1)[0]


# -- an adapter with other legal conventions (written here, from the reference adapter's answers) ---------------

ODD_NAME = "x-vendor.note\u0007\n# injected: true"  # an adversarial event name: must stay one YAML string


OWN_STATES = {"HELD": "ON_HOLD", "ACTIVE": "READY"}  # its names for a held call and a usable channel


def _other_conventions(events: list[Message]) -> list[Message]:
    """Its own state names for a held call and a usable channel, and creation events about the new object."""
    out = []
    for event in copy.deepcopy(events):
        data = event.get("data")
        channel = str(event.get("target")).count(".") == 1  # S1.chan1: flat addressing
        state = data.get("state") if isinstance(data, dict) else None
        if event.get("name") == "state.updated" and (state == "HELD" or (state == "ACTIVE" and channel)):
            data["state"] = OWN_STATES[state]
        if event.get("name") in ("interaction.created", "conversation.created") and isinstance(data, dict):
            created = next(iter(data.values()))
            event["target"] = f"{event['target']}.{created['id']}"
        out.append(event)
    return out


@asynccontextmanager
async def _other_adapter(catalogue: Catalogue) -> AsyncIterator[str]:
    """Announces itself first (two events of its own), activates its channels by itself, names a usable
    channel READY and a held call ON_HOLD, sends creation events about the new object, and has no command
    conversation.request.dtmf."""
    adapter = ReferenceAdapter(catalogue, test_control=True)

    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        events = platform.startup(channel_seeds(catalogue, ("telephony", "chat")), "S1")
        ready = events.pop()
        hello = [platform.event("session.welcome", "S1", {"version": "2"}), platform.event(ODD_NAME, "S1", {})]
        for channel in ("S1.chan1", "S1.chan2"):
            events += platform.handle({"command": "channel.activate", "target": channel, "data": {}}).events
        for event in [*hello, *_other_conventions(events), ready]:
            await socket.send(encode(event))
        async for received in socket:
            if isinstance(received, str) and '"conversation.request.dtmf"' in received:
                request = json.loads(received)
                answer = [platform.failure(request, Refusal("unknown_command", "no such command"))]
            else:
                answer = _other_conventions(adapter.answer(platform, received))
            for out in answer:
                await socket.send(encode(out))

    async with serve(handler, "127.0.0.1", 0) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def test_an_adapter_with_other_conventions_gets_a_draft_that_declares_them(catalogue: Catalogue) -> None:
    settings = replace(load_profile(FAST_PROFILE, catalogue).settings(), step_timeout=2.0)
    commands = sorted(settings.commands)

    async def scenario() -> str:
        async with _other_adapter(catalogue) as url:
            found = await discover(url, catalogue, settings, commands, 40.0)
        return write_draft(found, catalogue, {"name": "other", "stimuli": {"driver": "in-band"}})

    text = asyncio.run(asyncio.wait_for(scenario(), 60))
    print(text)  # shown when the test fails
    draft = yaml.safe_load(text)
    conventions = draft["conventions"]
    assert conventions["extra_events"] == ["session.welcome", ODD_NAME]
    assert not any(line.startswith("# injected") for line in text.splitlines())  # escaped, never a line of its own
    assert conventions["activation"] == "self"
    assert f"by itself  {DIFFERS}" in text
    assert conventions["states"] == {"channel": {"READY": "ACTIVE"}, "conversation": {"ON_HOLD": "HELD"}}
    assert "after conversation.hold on " in text
    assert "interaction.created about the new object (" in text and "object it is created in)" in text
    assert conventions["creation_targets"] == {"interaction.created": "new", "conversation.created": "new"}
    assert "question: does the adapter have conversation.request.dtmf under another name" in text
    assert "  # - conversation.request.dtmf  # unknown: failure UNKNOWN_COMMAND" in text
    # later sessions follow the state names learned: a call the adapter calls ON_HOLD is held, so a retrieve,
    # a consult transfer... are reached; every command but the unknown one works
    assert "later sessions read it so (" in text
    assert "not reached" not in text and "refused" not in text
    assert draft["commands"] == sorted(set(commands) - {"conversation.request.dtmf"})


def test_a_media_named_under_another_field_is_proposed_with_its_evidence(
    catalogue: Catalogue, control_adapter: RunningAdapter
) -> None:
    """The reference adapter names each channel's media under ``type`` (the switchboard's media naming): the
    draft proposes ``conventions.media.path`` with the channel's creating frame, and its media list has both."""
    settings = replace(load_profile(FAST_PROFILE, catalogue).settings(), step_timeout=2.0)
    played = parse(catalogue, {"media": {"path": "$.channel.type"}})
    url = f"{control_adapter.url}/?conventions={played.to_query()}"

    async def scenario() -> str:
        found = await discover(url, catalogue, settings, ["channel.activate", "channel.dial"], 20.0)
        return write_draft(found, catalogue, {"name": "typed", "stimuli": {"driver": "in-band"}})

    text = asyncio.run(asyncio.wait_for(scenario(), 40))
    print(text)  # shown when the test fails
    draft = yaml.safe_load(text)
    assert draft["media"] == ["telephony", "chat"]
    assert draft["conventions"]["media"] == {"path": "$.channel.type"}
    assert f"not at $.channel.media  {DIFFERS}" in text and '"type":"telephony"' in text
    assert parse(catalogue, draft["conventions"]).media == played.media  # lint accepts what it proposes


@pytest.mark.parametrize(("fault", "budget"), [("", 0.5), ("never-answers", 2.0)])
def test_the_budget_bounds_the_discovery_and_says_what_was_not_tried(
    catalogue: Catalogue, control_adapter: RunningAdapter, fault: str, budget: float
) -> None:
    """The whole discovery of 27 commands takes seconds against the correct adapter (half a second is not
    enough), and a minute or more against one that never answers (each set-up waits its step timeout)."""
    settings = load_profile(FAST_PROFILE, catalogue).settings()
    commands = sorted(settings.commands)
    url = f"{control_adapter.url}/?fault={fault}" if fault else control_adapter.url

    async def scenario() -> tuple[float, Any]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        found = await discover(url, catalogue, settings, commands, budget)
        return loop.time() - started, found

    elapsed, found = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert elapsed < budget + 2 * 1.0 + 1.0  # the budget, closing the connection under way (1 s), slack
    assert found.budget_spent
    untried = [o for o in found.commands.values() if o.status == "not tried"]
    assert untried and all("budget" in o.detail or "did not start" in o.detail for o in untried)
    assert set(found.commands) == set(commands)  # every command is accounted for
