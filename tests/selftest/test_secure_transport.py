"""Secure transport: wss:// is verified by default (a CA bundle, or an explicit --insecure), handshake headers
and subprotocols reach the adapter, and a refused handshake or a certificate that does not verify ends the
test with verdict error and a message that names the cause.

The throw-away CA and the server certificate for 127.0.0.1/localhost (the ``tls`` fixture) are made at test
time with the openssl command line.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.process import start_reference
from harness.reference.server import ReferenceAdapter
from harness.runner.flow import Flow, run_flow
from harness.runner.settings import Settings
from harness.runner.transport import Transport
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest
SECONDS = 60
ACTIVATE = Flow((Step("command", "channel.activate", "$channel"),))


def _server_tls(tls: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls["cert"], tls["key"])
    return context


def _settings(catalogue: Catalogue, transport: Transport) -> Settings:
    return replace(load_profile(default_profile(), catalogue).settings(), transport=transport, step_timeout=3)


async def _flow(adapter: ReferenceAdapter, scheme: str, settings: Settings, tls: ssl.SSLContext | None) -> Any:
    server = await adapter.serve("127.0.0.1", 0, tls)
    port = server.sockets[0].getsockname()[1]
    try:
        return await run_flow(
            ACTIVATE, url=f"{scheme}://127.0.0.1:{port}", catalogue=adapter.catalogue, settings=settings
        )
    finally:
        server.close()
        await server.wait_closed()


def _run(
    adapter: ReferenceAdapter, settings: Settings, tls: ssl.SSLContext | None = None, scheme: str = "wss"
) -> Any:
    return asyncio.run(asyncio.wait_for(_flow(adapter, scheme, settings, tls), SECONDS))


def _error(result: Any) -> str:
    assert result.verdict == Verdict.ERROR, result.violations
    (_, violation), *_ = result.violations
    assert violation.category is Category.CONNECTION_LOST
    assert "Traceback" not in violation.message
    return str(violation.message)


def test_wss_with_the_ca_bundle_passes(catalogue: Catalogue, tls: dict[str, Path]) -> None:
    settings = _settings(catalogue, Transport(ca_bundle=str(tls["ca"])))
    result = _run(ReferenceAdapter(catalogue), settings, _server_tls(tls))
    assert result.verdict == Verdict.PASS, result.violations


def test_wss_without_the_ca_bundle_fails_verification_with_a_clear_message(
    catalogue: Catalogue, tls: dict[str, Path]
) -> None:
    result = _run(ReferenceAdapter(catalogue), _settings(catalogue, Transport()), _server_tls(tls))
    message = _error(result)
    assert "certificate verify failed" in message and "--ca-bundle" in message and "--insecure" in message


def test_insecure_connects_without_verification(catalogue: Catalogue, tls: dict[str, Path]) -> None:
    result = _run(ReferenceAdapter(catalogue), _settings(catalogue, Transport(insecure=True)), _server_tls(tls))
    assert result.verdict == Verdict.PASS, result.violations


def test_wss_to_a_plain_ws_adapter_names_tls(catalogue: Catalogue, tls: dict[str, Path]) -> None:
    result = _run(ReferenceAdapter(catalogue), _settings(catalogue, Transport(ca_bundle=str(tls["ca"]))), None)
    assert "TLS" in _error(result)


def test_a_required_header_is_sent_and_its_absence_is_refused_with_http_401(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, required_headers=[("X-Lab-Key", "k-31337")])
    sent = _run(adapter, _settings(catalogue, Transport(headers=(("X-Lab-Key", "k-31337"),))), scheme="ws")
    assert sent.verdict == Verdict.PASS, sent.violations
    refused = _run(adapter, _settings(catalogue, Transport(headers=(("X-Lab-Key", "wrong"),))), scheme="ws")
    message = _error(refused)
    assert "HTTP 401" in message and "--header" in message
    assert "k-31337" not in message


def test_a_subprotocol_is_offered_and_its_absence_is_refused_with_http_400(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, subprotocols=["mediabar.v1"])
    offered = _run(adapter, _settings(catalogue, Transport(subprotocols=("mediabar.v1",))), scheme="ws")
    assert offered.verdict == Verdict.PASS, offered.violations
    message = _error(_run(adapter, _settings(catalogue, Transport()), scheme="ws"))
    assert "HTTP 400" in message and "--subprotocol" in message


def _mbconform(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=SECONDS, check=False
    )


def test_serve_with_tls_listens_on_wss_and_run_verifies_it_from_the_command_line(
    tls: dict[str, Path], tmp_path: Path
) -> None:
    options = ["--tls-cert", str(tls["cert"]), "--tls-key", str(tls["key"]), "--test-control"]
    with start_reference(options) as adapter:
        assert adapter.url.startswith("wss://127.0.0.1:")
        common = [adapter.url, "--reports", str(tmp_path), "--no-html", "-k", "MB-CHAN-ACTIVATE-001", "-q"]
        verified = _mbconform("run", *common, "--ca-bundle", str(tls["ca"]))
        assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
        assert "WARNING" not in verified.stderr
        unverified = _mbconform("run", *common)
        assert unverified.returncode == 3  # the adapter could not be reached: one error, not a failure per test
        assert "certificate verify failed" in unverified.stdout and "Traceback" not in unverified.stdout
        insecure = _mbconform("run", *common, "--insecure")
        assert insecure.returncode == 0, insecure.stdout[-3000:]
        warnings = [line for line in insecure.stderr.splitlines() if "--insecure" in line]
        assert len(warnings) == 1 and "not verified" in warnings[0], insecure.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--header", "Authorization Bearer x"], 'expected "Name: value"'),
        (["--header", ": x"], 'expected "Name: value"'),
        (["--ca-bundle", "/nonexistent/ca.pem"], "CA bundle /nonexistent/ca.pem: no such file"),
        (["--insecure", "--ca-bundle", "ca.pem"], "contradict"),
    ],
)
def test_bad_connection_options_are_exit_2_naming_what_is_wrong(args: list[str], says: str) -> None:
    for command in ("run", "fuzz", "replay"):
        extra = ["suites/regression/none.yaml"] if command == "replay" else []
        done = _mbconform(command, *extra, "ws://127.0.0.1:9", *args)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert says in done.stderr, (command, done.stderr)


def test_a_ca_bundle_that_is_not_pem_is_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    done = _mbconform("run", "ws://127.0.0.1:9", "--ca-bundle", str(bogus))
    assert done.returncode == 2 and f"CA bundle {bogus}" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--require-header", "no-colon"], 'expected "Name: value"'),
        (["--tls-cert", "/nonexistent/c.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], "no such file"),
    ],
)
def test_bad_serve_options_are_exit_2_naming_what_is_wrong(args: list[str], says: str) -> None:
    done = _mbconform("serve", "--port", "0", *args)
    assert done.returncode == 2 and says in done.stderr, done.stderr
