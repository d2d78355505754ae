"""The reference adapter is safe by default: it binds to loopback unless told otherwise (and warns when told),
and its test control (in-band stimuli, session options in the URL, the lab's HTTP stimuli) is off unless asked
for."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from harness.reference.process import start_reference

pytestmark = pytest.mark.selftest
SECONDS = 30


def test_serve_binds_loopback_when_no_host_is_given() -> None:
    with start_reference([], host=None) as adapter:
        assert adapter.url.startswith("ws://127.0.0.1:"), adapter.url


def _serve_stops_before_binding(host: str) -> subprocess.CompletedProcess[str]:
    """``serve --host HOST`` with a fault that does not exist: it says what it says about the host, then stops
    (exit 2) before it binds anything."""
    return subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--host", host, "--port", "0", "--fault", "no-such-fault"],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )


def test_a_host_that_is_not_loopback_gets_a_warning() -> None:
    done = _serve_stops_before_binding("0.0.0.0")
    assert done.returncode == 2 and "no-such-fault" in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "0.0.0.0 is not loopback" in warnings[0], done.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_a_loopback_host_gets_no_warning(host: str) -> None:
    done = _serve_stops_before_binding(host)
    assert done.returncode == 2 and "WARNING" not in done.stderr, done.stderr


def test_the_lab_http_endpoint_is_off_unless_asked_for() -> None:
    with start_reference([]) as adapter:
        url = adapter.url.replace("ws://", "http://") + "/lab/stimulate?stimulus=call.inbound&target=S1.chan1"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=SECONDS)
        assert refused.value.code == 426, refused.value  # the WebSocket handshake, not a lab endpoint
