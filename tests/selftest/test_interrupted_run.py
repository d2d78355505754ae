"""``mbconform run`` against a hostile adapter, and stopped with Ctrl-C: the reports are always written."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

pytestmark = pytest.mark.selftest
FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
SECONDS = 90


def run_command(reports: Path, fault: str, *selection: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness",
        "run",
        "--fault",
        fault,
        "--profile",
        str(FAST_PROFILE),
        "--no-html",
        "--reports",
        str(reports),
        "-v",
        *selection,
    ]


def _as_from_a_terminal() -> None:
    """Ctrl-C and SIGTERM as a terminal and a CI runner deliver them, even when this test runs where they are
    ignored (a job started in the background of a non-interactive shell inherits SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def written(reports: Path) -> tuple[ElementTree.Element, dict[str, object], list[Path]]:
    junit = ElementTree.parse(reports / "junit.xml").getroot()
    certificate = json.loads((reports / "certificate.json").read_text())
    assert (reports / "certificate.md").is_file()
    results = sorted((reports / "allure-results").glob("*-result.json"))
    return junit, certificate, results


def test_a_run_against_an_adapter_that_drops_every_connection_reports_each_test_as_an_error(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(
        run_command(reports, "close-abrupt", "-k", "MB-CHAN-ACTIVATE"),
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    junit, certificate, results = written(reports)
    suite = junit if junit.tag == "testsuite" else junit[0]
    assert int(suite.get("errors", 0)) + int(suite.get("failures", 0)) >= 3, done.stdout[-3000:]
    assert "no close frame: the connection dropped" in done.stdout
    assert certificate["certified"] is False and results


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_a_stopped_run_still_writes_allure_results_junit_and_certificate(tmp_path: Path, stop: str) -> None:
    """Ctrl-C sends SIGINT to the whole process group, as from a terminal: mbconform and its reference adapter.
    A cancelled CI job sends SIGTERM to mbconform alone."""
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        run_command(reports, "never-answers"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )
    assert process.stdout is not None
    output: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    give_up = time.monotonic() + SECONDS
    try:
        while time.monotonic() < give_up and not any(" FAILED" in line for line in output):
            if selector.select(timeout=give_up - time.monotonic()):
                line = process.stdout.readline()
                if not line:
                    break
                output.append(line)
        assert any(" FAILED" in line for line in output), "".join(output[-50:])
        interrupted_at = time.monotonic()
        if stop == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.terminate()
        rest, _ = process.communicate(timeout=SECONDS)
        stopped_in = time.monotonic() - interrupted_at
    finally:
        selector.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    with pytest.raises(ProcessLookupError):  # the reference adapter was stopped with the run
        os.killpg(process.pid, 0)
    text = "".join(output) + rest
    assert process.returncode == 130, text[-3000:]  # interrupted (the exit-code contract)
    assert stopped_in < 10, f"the run took {stopped_in:.1f}s to stop"
    junit, certificate, results = written(reports)
    assert list(junit.iter("testcase")), text[-3000:]
    assert certificate["interrupted"] is True and certificate["certified"] is False
    assert results, "no Allure result was written"
    assert "the run was interrupted" in (reports / "certificate.md").read_text()


def test_a_run_stopped_while_it_starts_says_interrupted_and_leaves_no_earlier_certificate(tmp_path: Path) -> None:
    """SIGTERM as soon as the reference adapter is up (pytest is still starting or collecting): the certificate
    says interrupted and not certified, never what an earlier run in the same folder said."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "certificate.json").write_text(json.dumps({"certified": True, "interrupted": False}))
    (reports / "junit.xml").write_text(
        '<testsuite tests="1" errors="0" failures="0"><testcase name="old"/></testsuite>'
    )
    process = subprocess.Popen(
        run_command(reports, "never-answers"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()  # the reference adapter's address: every report is already replaced
        assert "started the reference adapter" in first, first
        process.terminate()
        rest, _ = process.communicate(timeout=SECONDS)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    text = first + rest
    assert process.returncode == 130, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    junit, certificate, _ = written(reports)
    assert certificate["interrupted"] is True and certificate["certified"] is False
    assert not any(case.get("name") == "old" for case in junit.iter("testcase")), text[-3000:]
    assert "the run was interrupted" in (reports / "certificate.md").read_text()
