"""One exit-code contract across every subcommand (issue 18), and an unreachable adapter as one message with
exit 3 (issue 16): each code of each subcommand driven here (130: tests/selftest/test_interrupted_run.py).

Usage errors and bad input run in-process (they end before anything starts); what starts pytest runs as a
subprocess. Every adapter is on loopback: a closed port, a listener that never answers the handshake, an
HTTP server that answers 404, and the reference adapter waiting for a log-in the profile does not send.
"""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.paths import suites_dir
from harness.reference.process import start_reference

pytestmark = pytest.mark.selftest
SECONDS = 120
SCENARIO = str(suites_dir() / "conformance" / "robustness-unknown-command.yaml")
GENERIC = suites_dir() / "profiles" / "reference-generic.yaml"
ONE_CASE = ["-k", "MB-SESS-ROBUST-001"]
# every subcommand, with what it needs besides options
SUBCOMMANDS = {
    "serve": [],
    "run": [],
    "fuzz": [],
    "replay": [SCENARIO],
    "cases": [],
    "requirements": [],
    "lint": [],
    "specs": [],
    "report": [],
    "selftest": [],
    "bench": [],
    "discover": ["ws://127.0.0.1:9"],
}


def mbconform(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def closed_port() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


@pytest.fixture
def typo_profile(tmp_path: Path) -> tuple[Path, int]:
    """The generic reference profile with a misspelled timing key, and the line of that key."""
    lines = GENERIC.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("step_timeout:"))
    lines.insert(at + 1, "  stpe_timeout: 5")
    path = tmp_path / "typo.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, at + 2


def fast_profile(tmp_path: Path, name: str = "fast") -> Path:
    """The generic reference profile with one-second timeouts."""
    text = GENERIC.read_text().replace("connect_timeout: 5", "connect_timeout: 1")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace("step_timeout: 5", "step_timeout: 1"))
    return path


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_subcommand_refuses_an_unknown_option_with_a_suggestion(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, *SUBCOMMANDS[command], "--suitse", "x"]) == 2
    assert "unknown option --suitse (did you mean '--suites'?)" in capsys.readouterr().err


def test_a_misspelled_subcommand_or_option_of_run_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runn"]) == 2
    assert "unknown command 'runn' (did you mean 'run'?)" in capsys.readouterr().err
    assert main(["run", "--profle", str(GENERIC)]) == 2  # never handed to pytest
    assert "unknown option --profle (did you mean '--profile'?)" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "fuzz", "replay", "bench", "discover"])
def test_an_adapter_url_without_a_scheme_is_a_usage_error(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [SCENARIO] if command == "replay" else []
    assert main([command, *args, "127.0.0.1:8765"]) == 2
    assert "ws://127.0.0.1:8765 or wss://127.0.0.1:8765" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("run", []),
        ("fuzz", []),
        ("replay", [SCENARIO]),
        ("cases", []),
        ("requirements", []),
        ("selftest", ["--quick", "--fault", "dial-without-preview"]),
        ("bench", ["ws://127.0.0.1:9", "--quick"]),
        ("discover", ["ws://127.0.0.1:9"]),
    ],
)
def test_a_bad_profile_is_exit_2_at_the_line_of_the_offending_key(
    command: str, args: list[str], typo_profile: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = typo_profile
    assert main([command, *args, "--profile", str(path)]) == 2
    assert (
        f"typo.yaml:{line}: timing: Additional properties are not allowed ('stpe_timeout'"
        in capsys.readouterr().err
    )


def test_lint_is_exit_2_for_a_bad_profile_and_0_for_a_good_one(
    typo_profile: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    path, line = typo_profile
    assert main(["lint", str(path)]) == 2
    assert f"typo.yaml:{line}:" in capsys.readouterr().out
    assert main(["lint", str(GENERIC)]) == 0


@pytest.mark.parametrize("command", ["cases", "specs"])
def test_listing_subcommands_exit_0(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command]) == 0
    assert capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "args"),
    [("replay", [SCENARIO]), ("bench", ["--quick"]), ("discover", ["--budget", "5"])],
)
def test_an_unreachable_adapter_is_exit_3(
    command: str, args: list[str], closed_port: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "draft.yaml")] if command == "discover" else []
    profile = ["--profile", str(fast_profile(tmp_path))]
    positional = [*args[:1], closed_port] if command == "replay" else [closed_port, *args]
    assert main([command, *positional, *out, *profile]) == 3
    printed = capsys.readouterr()
    assert "the connection was refused" in printed.out + printed.err


def _one_junit_error(reports: Path) -> str:
    suite = ET.parse(reports / "junit.xml").getroot().iter("testsuite").__next__()
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("1", "1", "0")
    (case,) = suite.iter("testcase")
    (error,) = case.iter("error")
    return error.get("message", "")


def test_run_against_a_closed_port_is_one_error_and_exit_3(closed_port: str, tmp_path: Path) -> None:
    done = mbconform("run", closed_port, "--no-html", cwd=tmp_path)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "the connection was refused" in _one_junit_error(tmp_path / "reports")
    assert done.stdout.count("the connection was refused") <= 3  # one message (error, its line, the summary)
    fuzz = mbconform("fuzz", closed_port, "--budget", "2", cwd=tmp_path)
    assert fuzz.returncode == 3, fuzz.stdout[-3000:] + fuzz.stderr[-3000:]


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A loopback TCP listener that accepts and never answers the WebSocket handshake."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"ws://127.0.0.1:{server.getsockname()[1]}"


def test_a_handshake_that_never_ends_stops_the_run_within_one_connect_timeout(
    silent_listener: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    done = mbconform("run", silent_listener, "--no-html", "--profile", str(fast_profile(tmp_path)), cwd=tmp_path)
    took = time.monotonic() - started
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "could not be reached" in _one_junit_error(tmp_path / "reports")
    # one connect timeout (1 s) plus start-up; a wait per test would be over a hundred seconds
    assert took < 60, took


@pytest.fixture
def not_found() -> Iterator[str]:
    """A loopback HTTP server that answers every request, the WebSocket handshake too, with 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # websockets reads no HTTP/1.0 status line

        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{server.server_address[1]}/mediabar"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_404_is_one_error_and_exit_3(not_found: str, tmp_path: Path) -> None:
    done = mbconform("run", not_found, "--no-html", cwd=tmp_path)
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    assert "404" in _one_junit_error(tmp_path / "reports")


def test_a_start_up_that_fails_is_exit_3_and_a_declared_log_in_is_not(tmp_path: Path) -> None:
    adapter = start_reference(
        ["--test-control", "--lab-http", "--login", "agent.login", "--addressing", "channelgroup"]
    )
    try:
        # the generic profile sends no log-in: the adapter never says it is ready
        done = mbconform("run", adapter.url, "--no-html", "--profile", str(fast_profile(tmp_path)), cwd=tmp_path)
        assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
        assert "did not start a session" in _one_junit_error(tmp_path / "reports")
        # the legal variant: a profile that declares the log-in (and the channel groups) is not caught
        vendor = str(suites_dir() / "profiles" / "example-vendor.yaml")
        done = mbconform("run", adapter.url, "--no-html", "--profile", vendor, *ONE_CASE, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        adapter.stop()


def test_run_exits_0_when_it_conforms_and_1_when_a_must_fails(tmp_path: Path) -> None:
    done = mbconform("run", "--profile", "reference-generic", "--no-html", *ONE_CASE, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    selected = ["-k", "MB-CHAN-DIAL-001"]
    broken = ["run", "--profile", "reference-generic", "--fault", "dial-without-preview", "--no-html", *selected]
    done = mbconform(*broken, cwd=tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    nothing = mbconform("run", "--profile", "reference-generic", "--no-html", "-k", "NO-SUCH-CASE", cwd=tmp_path)
    assert nothing.returncode == 2, nothing.stdout[-3000:]  # no test selected: a usage error
