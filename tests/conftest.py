from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.paths import project_root
from harness.spec.catalogue import Catalogue
from harness.spec.loader import load_catalogue

ROOT = project_root()
# The longest tests (a minute or more each) start first, so that with ``-n 2`` one worker runs them while the
# other takes the rest, instead of one of them starting last and running alone.
LONGEST_FIRST = (
    "test_the_whole_suite_passes_against_the_reference_adapter",
    "test_the_quick_bench_reports_every_measure_and_the_sessions_a_fault_breaks",
    "test_the_correct_reference_adapter_passes_every_case_on_every_reference_profile",  # the fault matrix
    "test_the_ci_profile_finds_nothing_against_the_correct_adapter",
    "test_a_dial_that_drops_its_preview_fails_naming_the_event_the_command_and_the_spec_line",
)
# Tests that check what several long tests computed together (through ``shared_runs``) run last, when those
# have stored it; run alone (or first) they compute it themselves.
LAST = ("test_the_ci_profiles_runs_against_the_correct_adapter_reach_the_whole_model",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.name.startswith(LAST):
            return len(LONGEST_FIRST) + 1
        return next((i for i, name in enumerate(LONGEST_FIRST) if item.name.startswith(name)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


T = TypeVar("T")


class SharedRuns:
    """Expensive results (a whole fuzz run, a whole suite) computed once per ``pytest`` invocation and shared by
    the tests that check them, across pytest-xdist's workers: the first test to ask computes it while holding a
    file lock, a test on another worker asking meanwhile waits for it (bounded by the computation's own
    bounds), and every later one reads the stored result. A computation that raises stores nothing: the next
    test to ask computes it again (and fails the same way, in its own name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: str, compute: Callable[[], T]) -> T:
        stored = self.folder / f"{key}.pickle"
        with (self.folder / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released by the OS if its holder dies
            if stored.is_file():
                result: T = pickle.loads(stored.read_bytes())
                return result
            result = compute()
            partial = stored.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(result))
            partial.replace(stored)
            return result


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> SharedRuns:
    """One :class:`SharedRuns` per ``pytest`` invocation: under xdist in the folder its workers share (the
    parent of each worker's own base folder, new for every invocation), else in the session's base folder."""
    base = tmp_path_factory.getbasetemp()
    return SharedRuns((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-runs")


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "specs")


@pytest.fixture
def platform(catalogue: Catalogue) -> Platform:
    """A simulated platform after the default start-up: one telephony channel, session S1."""
    platform = Platform(catalogue)
    platform.startup([{}], "S1")
    return platform


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    """A writable copy of the spec catalogue, to break on purpose."""
    import shutil

    target = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", target)
    return target


# How a test changes the reference adapter's answer to one frame: (the frame, the session's platform, the
# correct answer) -> what is sent instead.
Reply = Callable[[str | bytes, Platform, list[dict[str, Any]]], list[dict[str, Any]]]
Serve = Callable[[Reply], AbstractAsyncContextManager[str]]


@pytest.fixture
def altered_reference(catalogue: Catalogue) -> Serve:
    """Serve the reference adapter on loopback (one session S1 per connection, one telephony channel) whose
    answer to each frame goes through ``reply``; yields its URL. For self-tests that break one check."""
    from harness.reference.server import ReferenceAdapter

    adapter = ReferenceAdapter(catalogue, test_control=True)

    @asynccontextmanager
    async def serving(reply: Reply) -> AsyncIterator[str]:
        async def handler(socket: ServerConnection) -> None:
            platform = Platform(catalogue)
            for event in platform.startup([{}], "S1"):
                await socket.send(encode(event))
            async for received in socket:
                for out in reply(received, platform, adapter.answer(platform, received)):
                    await socket.send(encode(out))

        async with serve(handler, "127.0.0.1", 0) as server:
            yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    return serving


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA (ca.pem) and a certificate it signs for 127.0.0.1 and localhost (server.pem/.key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line is needed to make test certificates")
    folder = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=mbconform test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        cwd=folder,
    )  # fmt: skip
    return {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
