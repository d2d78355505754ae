"""Secrets given on the command line or in the profile, and the fields a profile names (``redact:``), appear
nowhere under the reports folder nor in the console output, while the harness really sends them.

The reference adapter is started to need them: it refuses a handshake without the header (HTTP 401) and says
nothing until the media bar logs in. Its fault ``dial-echoes-channel-id`` makes the dial cases fail, so the
failure texts (JUnit, Allure, console) quote the adapter's responses, whose ``original`` holds the destination.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.redact import REDACTED
from harness.reference.process import start_reference

pytestmark = pytest.mark.selftest
SECONDS = 120
DESTINATION = "+15550100"  # what channel.dial sends (its spec's example)
BASE64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")


def _readable(path: Path) -> str:
    """A report file's text; for the single-file HTML report, also what it holds base64-encoded (its data)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".html":
        return text
    decoded = []
    for run in BASE64.findall(text):
        try:
            decoded.append(base64.b64decode(run + "=" * (-len(run) % 4)).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return text + "\n".join(decoded)


def _profile(folder: Path, password: str) -> Path:
    path = folder / "secret-lab.yaml"
    path.write_text(
        f"""format: mbconform/profile/1
name: secret-lab
platform: generic
addressing: flat
media: [telephony, chat]
commands: all
connect_params: {{fault: dial-echoes-channel-id}}
redact: [destination]
startup:
  send:
    - {{command: agent.login, target: "", data: {{agent: "4711", password: "{password}"}}}}
  ready: session.initialized
stimuli:
  driver: in-band
  available: [call.inbound, chat.inbound, remote.answered, remote.hangup]
timing:
  connect_timeout: 5
  step_timeout: 2
""",
        encoding="utf-8",
    )
    return path


def test_a_redacted_secret_appears_nowhere_under_reports(tmp_path: Path) -> None:
    key, password, url_password = (f"{name}-{secrets.token_hex(6)}" for name in ("key", "pw", "url"))
    reports = tmp_path / "reports"
    adapter_options = ["--test-control", "--login", "agent.login", "--require-header", f"X-Lab-Key: {key}"]
    with start_reference(adapter_options) as adapter:
        url = adapter.url.replace("ws://", f"ws://agent:{url_password}@")  # sent as Basic authentication
        done = subprocess.run(
            [
                sys.executable, "-m", "harness", "run", url,
                "--profile", str(_profile(tmp_path, password)),
                "--header", f"X-Lab-Key: {key}",
                "--reports", str(reports),
                "-k", "MB-CHAN-DIAL-001 or MB-CHAN-DIAL-101",
            ],
            capture_output=True,
            text=True,
            timeout=SECONDS,
            check=False,
        )  # fmt: skip
    output = done.stdout + done.stderr
    # They were sent: the handshake was accepted (the header), the log-in succeeded (the session got ready and
    # the cases reached the dial), and the dial's failure texts quote its request with the destination redacted.
    assert done.returncode == 1, output[-4000:]
    assert "2 fail" in output and "HTTP 401" not in output and "cannot connect" not in output, output[-4000:]
    files = [path for path in reports.rglob("*") if path.is_file()]
    texts = {path: _readable(path) for path in files}
    transcripts = "".join(text for path, text in texts.items() if path.suffix == ".txt")
    assert f'"password": "{REDACTED}"' in transcripts, "the log-in's echo (original) is not in the transcript"
    assert "session.initialized" in transcripts and "channel.dial" in transcripts
    assert f'"destination": "{REDACTED}"' in transcripts
    junit = texts[reports / "junit.xml"]
    assert "response to no request" in junit and REDACTED in junit, "the failure texts quote no request"
    assert {reports / "certificate.md", reports / "certificate.json"} <= set(texts)
    assert any(path.suffix == ".json" and "allure-results" in path.parts for path in files)
    html = [text for path, text in texts.items() if path.suffix == ".html"]  # with the Allure CLI (npm ci)
    assert all(REDACTED in text for text in html), "the HTML report's data was not read"
    for secret in (key, password, url_password, DESTINATION):
        leaking = [str(path.relative_to(reports)) for path, text in texts.items() if secret in text]
        assert not leaking, f"{secret} appears in {leaking}"
        assert secret not in output, f"{secret} appears in the console output"
