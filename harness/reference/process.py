"""Start the reference adapter in a child process on a free loopback port and learn its URL."""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from dataclasses import dataclass

STARTUP_SECONDS = 20.0
ANNOUNCEMENT = "listening on "


class AdapterStartError(RuntimeError):
    pass


_STARTED: list[RunningAdapter] = []  # started by this process and not stopped yet


def stop_started() -> None:
    """Stop every reference adapter this process started and has not stopped: after Ctrl-C or SIGTERM, wherever
    it landed (even between ``start_reference`` returning and its caller keeping the adapter)."""
    while _STARTED:
        _STARTED[-1].stop()


@dataclass
class RunningAdapter:
    url: str
    process: subprocess.Popen[str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self in _STARTED:
            _STARTED.remove(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> RunningAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_reference(extra_args: list[str], host: str | None = "127.0.0.1") -> RunningAdapter:
    """Run ``mbconform serve --port 0`` with ``extra_args``; return once it says where it listens. ``host``
    None: serve's own default."""
    command = [sys.executable, "-m", "harness", "serve", *(["--host", host] if host else []), "--port", "0"]
    command += extra_args
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    give_up = time.monotonic() + STARTUP_SECONDS
    try:
        while (left := give_up - time.monotonic()) > 0:
            if not selector.select(timeout=left):
                continue
            line = process.stdout.readline()
            if not line:
                break
            if ANNOUNCEMENT in line:
                _STARTED.append(RunningAdapter(line.split(ANNOUNCEMENT, 1)[1].strip(), process))
                return _STARTED[-1]
    except BaseException:  # Ctrl-C or SIGTERM while it starts: it does not outlive us
        RunningAdapter("", process).stop()
        raise
    finally:
        selector.close()
    process.kill()
    process.wait(timeout=5)
    raise AdapterStartError(f"the reference adapter did not start within {STARTUP_SECONDS:g}s: {command}")
