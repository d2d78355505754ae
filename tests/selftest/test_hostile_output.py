"""Issue 15, defects 2, 5, 9, 10: what a hostile adapter sends is bounded and escaped in every report.

A small adapter (a websockets server on loopback) starts a session as the catalogue says, with object ids that
hold terminal escape sequences, and answers every request as the reference adapter does, followed by hostile
frames: an event whose target holds a lone surrogate (valid JSON), events with 1 MB targets, a frame that is
not JSON and clears the screen to print a fake "CERTIFIED", and Markdown/HTML meant for the certificate. The
real ``mbconform run`` (the pytest plugin, in a subprocess) runs two cases against it: a command case and a
call flow (whose failure reason the certificate quotes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.core.violations import MESSAGE_CHARS, STEP_VIOLATION_CHARS, TITLE_CHARS
from harness.paths import project_root
from harness.reference.server import ReferenceAdapter
from harness.reporting.allure_report import MAX_FRAME_STEPS, MAX_STEP_ATTACHMENT_CHARS, STEP_NAME_CHARS
from harness.reporting.verdicts import FAILURE_CHARS
from harness.runner.connection import TRANSCRIPT_CHARS
from harness.spec.catalogue import Catalogue

pytestmark = pytest.mark.selftest
SECONDS = 120  # the whole subprocess, on a busy machine; it takes a few seconds on an idle one
ESC = "\x1b"
SCREEN = f"{ESC}[2J{ESC}[H{ESC}[32mCERTIFIED{ESC}[0m"  # clear the screen, print a fake verdict
SESSION = f"S{ESC}[2J"  # an object id chosen by the adapter: every step title and target then holds it
MARKUP = "<img src=x onerror=alert(1)> | </table> ![x](http://outside.example/x.png) <script>x</script>"
HUGE_TARGETS = 10  # events with a 1 MB target before each answer: 40 KB of violation texts, over the step cap
HUGE = 1_000_000
SELECTION = "MB-SESS-ROBUST-002"  # a call flow (the certificate quotes its reason) with a command (its probe)
PROFILE = """\
format: mbconform/profile/1
name: hostile-output
platform: generic
addressing: flat
media: [telephony, chat]
commands: [channel.activate]  # few commands: few cases to generate, a short run
stimuli:
  driver: none
timing:
  connect_timeout: 10
  step_timeout: 15
limits:
  max_frame_bytes: 4194304
  max_queue: 64
  transcript_frames: 5000
"""


def hostile_frames(target: str) -> list[str]:
    """What comes before each answer (events may come first, ERRATA R2): markup and screen control in a frame
    that is not JSON, an event whose target holds a lone surrogate (``\\ud800`` in the JSON text), events
    with 1 MB targets, an event whose target is markup."""
    about = target.split(".")[0] or SESSION
    event = {"messageType": "objectEvent", "name": "state.updated", "data": {"state": "ACTIVE"}}
    surrogate = encode({**event, "target": f"{about}.\ud800"})  # encode writes it as an ASCII escape
    huge = [encode({**event, "target": f"{about}.{'x' * HUGE}{ESC}[2J"}) for _ in range(HUGE_TARGETS)]
    return [f"{MARKUP}\n{SCREEN}", surrogate, *huge, SCREEN, encode({**event, "target": MARKUP})]


async def _serve(catalogue: Catalogue, started: threading.Event, port: list[int], stop: asyncio.Event) -> None:
    reference = ReferenceAdapter(catalogue)

    async def handler(socket: ServerConnection) -> None:
        platform = Platform(catalogue)
        for event in platform.startup([{}], SESSION):
            await socket.send(encode(event))
        async for frame in socket:
            try:
                target = str(json.loads(frame).get("target", ""))
            except (ValueError, AttributeError):
                target = SESSION
            with contextlib.suppress(ConnectionClosed):  # the harness may close before it has read them all
                for text in hostile_frames(target):
                    await socket.send(text)
                for out in reference.answer(platform, frame):
                    if "result" in out:  # a lone surrogate in a response's data too (once a harness fault)
                        out = {**out, "data": {**(out.get("data") or {}), "note": "\ud800"}}
                    await socket.send(encode(out))

    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port.append(server.sockets[0].getsockname()[1])
        started.set()
        await stop.wait()


@pytest.fixture
def hostile_adapter(catalogue: Catalogue) -> Iterator[str]:
    started, port = threading.Event(), []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def main() -> None:
        loop.run_until_complete(asyncio.wait_for(_serve(catalogue, started, port, stop), SECONDS * 2))

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    assert started.wait(30), "the hostile adapter did not start"
    try:
        yield f"ws://127.0.0.1:{port[0]}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


def bounds(tests: int, steps: int) -> dict[str, int]:
    """What the caps allow, in characters (a written byte is at most a few of them: UTF-8, JSON escapes)."""
    violation_texts = STEP_VIOLATION_CHARS + MESSAGE_CHARS + TITLE_CHARS  # per step, with the one that counts
    failure = min(steps * (violation_texts + 2000), FAILURE_CHARS + MESSAGE_CHARS + 2000)  # the failure text
    allure_result = MAX_FRAME_STEPS * (STEP_NAME_CHARS + 200) + 3 * failure  # steps, sub-steps, the message
    return {
        "junit": tests * failure * 2 + 100_000,  # a failure's message and text
        "stdout": tests * failure * 2 + 200_000,
        "allure_result": allure_result,
        "allure_all": tests * (allure_result + TRANSCRIPT_CHARS + steps * MAX_STEP_ATTACHMENT_CHARS * 2),
        "certificate": 200_000,
    }


def test_a_hostile_adapter_ends_in_a_normal_failure_with_every_report_bounded_and_escaped(
    tmp_path: Path, hostile_adapter: str
) -> None:
    profile = tmp_path / "hostile-output.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "harness", "run", hostile_adapter, "--profile", str(profile)]
    command += ["--no-html", "--reports", str(reports), "-v", "-p", "no:randomly", "-k", SELECTION]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, timeout=SECONDS, check=False, cwd=project_root())
    took = time.monotonic() - began
    stdout, stderr = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    shown = stdout[-4000:] + stderr[-4000:]
    # defect 2: a lone surrogate is data, never an INTERNALERROR (exit 3) or a harness fault
    assert done.returncode == 1, shown
    assert "INTERNALERROR" not in stdout + stderr and "harness fault" not in stdout, shown
    # defect 9: no raw ESC on the terminal; the escape shown instead (the frames were read and reported)
    assert ESC.encode() not in done.stdout + done.stderr, shown
    assert "\\x1b[2J" in stdout, shown
    # defect 5: every report written, each within what the caps allow
    limits = bounds(tests=1, steps=6)
    junit = reports / "junit.xml"
    results = list((reports / "allure-results").glob("*-result.json"))
    everything = list((reports / "allure-results").iterdir())
    sizes = {
        "junit": junit.stat().st_size,
        "stdout": len(done.stdout),
        "allure_result": max(path.stat().st_size for path in results),
        "allure_all": sum(path.stat().st_size for path in everything),
        "certificate": (reports / "certificate.md").stat().st_size,
    }
    assert len(results) == 1, [path.name for path in results]
    over = {name: (size, limits[name]) for name, size in sizes.items() if size > limits[name]}
    assert not over, f"written beyond the caps (size, cap): {over}"
    # what the adapter sent is quoted, cut (a 1 MB target shows as its head and its length)
    assert f"({HUGE + 60}" not in stdout and "chars)" in stdout, shown
    for path in results:
        json.loads(path.read_text(encoding="utf-8"))  # valid JSON, whatever the adapter sent
    # defect 10: no markup of the adapter's in the certificate, though its failure reason is quoted
    certificate = (reports / "certificate.md").read_text(encoding="utf-8")
    for raw in ("<img", "</table>", "![", "<script", ESC):
        assert raw not in certificate, (raw, certificate[-3000:])
    assert "MB-SESS-ROBUST-002" in certificate and "&lt;" in certificate, certificate[-3000:]
    print(f"hostile output run: {took:.1f}s, exit {done.returncode}, sizes {sizes}")
