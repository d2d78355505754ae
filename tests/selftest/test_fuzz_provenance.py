"""The fuzzers weigh a violation as ``mbconform run`` does (issue 14): an expectation that rests on a convention
the profile does not declare is a warning, counted in the fuzz report, never a finding; a profile that adopts
the catalogue's conventions (``conventions.adopt: all``) still gets it as a finding.

Two false findings a vendor got against an independent adapter, reproduced with the reference adapter:

- a blind transfer to the catalogue's default unreachable number (a platform fact the profile does not set,
  ERRATA R27) that the adapter's platform reaches: the reference adapter started with another
  ``unreachable_destination``;
- a dial refused on a chat channel whose media the adapter announces in its own way (ERRATA R23): the
  reference adapter behind a small relay that drops the media from the events that create a channel.

Budgets are small: a few derandomized examples, the first finding shrunk for a few seconds at most.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve

from harness.core.steps import Step
from harness.core.violations import Category, Violation
from harness.fuzz.machine import FlowRecord, finding_class
from harness.fuzz.replay import run_cli
from harness.fuzz.reproducer import write_reproducer
from harness.fuzz.run import FuzzOutcome, FuzzProfile, fuzz
from harness.jsonpaths import MISSING, find, without
from harness.paths import suites_dir
from harness.reference.process import RunningAdapter, start_reference
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import Profile, load_profile

pytestmark = [pytest.mark.selftest, pytest.mark.fuzz]

OTHER_UNREACHABLE = "+15550777"  # the adapter's platform cannot reach this one; it reaches the default


def _small(kind: str, examples: int, steps: int) -> FuzzProfile:
    return FuzzProfile(
        name="small",
        file="(test)",
        derandomize=True,
        budget=60,
        examples={kind: examples},
        steps={kind: steps},
        settle=0,
        shrink_seconds=5,
        step_timeout=2,
        fence=True,
    )


@pytest.fixture(scope="module")
def adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as running:
        yield running


@pytest.fixture(scope="module")
def generic(catalogue: Catalogue) -> Profile:
    profile = load_profile(suites_dir() / "profiles" / "reference-generic.yaml", catalogue)
    assert profile.adopted and not profile.declared_facts  # adopts every area, sets no platform fact
    return profile


def _settings(profile: Profile, adopt: bool, commands: set[str] | None = None) -> Settings:
    settings = replace(profile, adopted=profile.adopted if adopt else frozenset()).settings()
    return settings if commands is None else replace(settings, commands=frozenset(commands))


def _finding(outcome: FuzzOutcome) -> str:
    record = outcome.finding
    return str(record.finding) if record is not None else ""


# -- a platform fact the profile does not set ----------------------------------------------------------------

# what the planner needs to reach a connected call, and the transfer
TRANSFER = {"channel.activate", "channel.dial", "conversation.blindtransfer", "interaction.complete"}


def test_a_blind_transfer_to_the_default_unreachable_number_is_no_finding_unless_the_profile_adopts_results(
    adapter: RunningAdapter, catalogue: Catalogue, generic: Profile
) -> None:
    url = adapter.url + "?" + urlencode([("fact", f"unreachable_destination={OTHER_UNREACHABLE}")])
    small = _small("flows", examples=40, steps=10)
    adopting = fuzz("flows", url, catalogue, _settings(generic, True, TRANSFER), small)
    assert adopting.error == ""
    assert "conversation.blindtransfer" in _finding(adopting) and "expected failure, got success" in _finding(
        adopting
    ), _finding(adopting) or "the adopting profile found nothing"

    own = fuzz("flows", url, catalogue, _settings(generic, False, TRANSFER), small)
    assert own.error == "" and own.finding is None, _finding(own)
    assert ("conversation.blindtransfer", "success") in own.coverage.commands  # it was sent, and succeeded
    assert own.coverage.conventions > 0
    assert any("[convention] wrong result" in key for key in own.coverage.warnings), own.coverage.warnings
    assert any("warnings (no findings)" in line for line in own.coverage.lines(catalogue, TRANSFER))


# -- a channel's media the adapter does not announce where the catalogue reads it ------------------------------


class MediaDropper:
    """A relay to the reference adapter that drops each channel's media from the events about channels (the
    path states.yaml reads it at): the adapter still knows its chat channel and refuses a dial there."""

    def __init__(self, upstream: str, catalogue: Catalogue) -> None:
        self.upstream = upstream.rstrip("/")
        path = catalogue.levels["channel"].media_path
        assert path is not None
        self.path = path
        self.server: Server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"

    def __enter__(self) -> MediaDropper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def _dropped(self, frame: str | bytes) -> str | bytes:
        if isinstance(frame, bytes):
            return frame
        try:
            message = json.loads(frame)
        except ValueError:
            return frame
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, dict) or find(data, self.path) is MISSING:
            return frame
        return json.dumps({**message, "data": without(data, self.path)})

    def _handle(self, client: ServerConnection) -> None:
        path = client.request.path if client.request is not None else "/"
        with connect(self.upstream + path, compression=None, open_timeout=5, close_timeout=1) as upstream:
            down = threading.Thread(target=self._down, args=(upstream, client), daemon=True)
            down.start()
            try:
                for frame in client:
                    upstream.send(frame)
            except ConnectionClosed:
                pass
            finally:
                upstream.close()
                down.join(5)

    def _down(self, upstream: ClientConnection, client: ServerConnection) -> None:
        try:
            for frame in upstream:
                client.send(self._dropped(frame))
        except ConnectionClosed:
            pass
        finally:
            client.close()


def test_a_dial_refused_on_a_channel_of_unknown_media_is_no_finding_unless_the_profile_adopts_results(
    adapter: RunningAdapter, catalogue: Catalogue, generic: Profile
) -> None:
    small = _small("messages", examples=30, steps=4)
    dial = {"channel.activate", "channel.dial"}
    with MediaDropper(adapter.url, catalogue) as relay:
        own = fuzz("messages", relay.url, catalogue, _settings(generic, False, dial), small)
        assert own.error == "" and own.finding is None, _finding(own)
        assert ("channel.dial", "failure") in own.coverage.commands  # refused on the chat channel: a warning
        assert any("[convention] wrong result" in key for key in own.coverage.warnings), own.coverage.warnings

        adopting = fuzz("messages", relay.url, catalogue, _settings(generic, True, dial), small)
    assert adopting.error == ""
    record = adopting.finding
    assert record is not None and record.finding is not None, "the adopting profile found nothing"
    assert record.finding.violation.category is Category.WRONG_RESULT, _finding(adopting)
    assert "channel.dial" in _finding(adopting), _finding(adopting)


# -- an inferred event list (moved from test_fuzz.py, with a small budget) -------------------------------------


def test_an_extra_event_in_an_inferred_list_is_no_finding_unless_the_profile_adopts_events(
    adapter: RunningAdapter, catalogue: Catalogue, generic: Profile
) -> None:
    """An extra channel.infochanged in channel.activate's inferred list is found with a profile that adopts the
    catalogue's events, and is a counted warning, no finding, without it."""
    assert "events" in generic.adopted
    url = adapter.url + "?" + urlencode([("fault", "activate-extra-infochanged")])
    small = _small("flows", examples=15, steps=6)
    found = fuzz("flows", url, catalogue, _settings(generic, True), small)
    assert "channel.activate" in _finding(found), _finding(found) or "the adopting profile found nothing"
    own = fuzz("flows", url, catalogue, _settings(generic, False), small)
    assert own.error == "" and own.finding is None, _finding(own)
    assert own.coverage.commands[("channel.activate", "success")] >= 15  # every example activates a channel
    assert any("[convention]" in key and "(unexpected event)" in key for key in own.coverage.warnings), (
        own.coverage.warnings
    )


def test_a_replay_with_another_profile_than_the_finding_says_so(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The profile weighs every violation: a replay under another one (the reference profile, which adopts every
    area) may fail what the fuzz run only warned about, so the replay names the profile it was found with."""
    missing = Violation(Category.MISSING_EVENT, "missing event", "x")
    steps = [Step("command", "channel.activate", "$channel", data={}, expect=frozenset({"success"}))]
    for found_with, noted in (("vendor-x", True), ("reference-generic", False)):
        record = FlowRecord(steps=steps, finding=finding_class(missing)(1, "send channel.activate", missing))
        folder = tmp_path / found_with
        path = write_reproducer(
            folder, record, level="channel", profile=found_with, platform="generic", adapter={}, by="test"
        )
        assert run_cli(path, None, None, catalogue) == 0  # the correct adapter: not reproduced
        out = capsys.readouterr().out
        assert ("found with profile vendor-x; give it with --profile" in out) is noted, out
