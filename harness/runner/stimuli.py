"""Stimulus drivers: how the harness makes the platform do something (offer a call, hang up the far end).

The media bar cannot ask for these; a lab can. A profile names the driver:

- ``in-band``: mbconform's test-control request on the WebSocket (only the reference adapter knows it; see
  core.testcontrol). It is answered like any request, so :class:`~.session.MediaBarSession` handles it.
- ``http``: one HTTP request to a lab endpoint; a 2xx status means the stimulus was produced (``per_stimulus``:
  the method, url or body of a stimulus that needs a request of its own).
- ``shell``: one program run with arguments (no shell in between); exit code 0 means produced.
- ``manual``: a prompt for a lab operator; the harness then waits for the stimulus's events.

Every driver is bounded by the profile's stimulus timeout. Templates take the placeholders ``{stimulus}``,
``{target}``, ``{session}``, ``{adapter_url}`` and ``{adapter_http}`` (the adapter URL as ``http(s)://host:port``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

OUTPUT_CHARS = 300  # how much of a driver's output or error a message keeps
DRIVERS = ("in-band", "http", "shell", "manual", "none")


class StimulusFailed(Exception):
    """The driver could not produce the stimulus (the test is inconclusive, not failed)."""


@dataclass(frozen=True)
class StimulusDriver:
    kind: str = "in-band"
    timeout: float | None = None  # None: the step timeout
    method: str = "GET"
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    command: tuple[str, ...] = ()
    prompt: str = "Please produce the stimulus {stimulus} on {target}."
    # http: per stimulus name, the method, url or body that stimulus needs instead of the driver's own
    per_stimulus: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_stimulus(self, stimulus: str) -> StimulusDriver:
        """The driver as it produces ``stimulus`` (its per-stimulus overrides applied)."""
        override = self.per_stimulus.get(stimulus)
        if not override:
            return self
        method = override.get("method", "POST" if "body" in override else self.method)
        return replace(
            self,
            method=str(method),
            url=str(override.get("url", self.url)),
            body=override.get("body", self.body),
        )

    @property
    def external(self) -> bool:
        """Produced outside the WebSocket: no response comes back on it."""
        return self.kind in ("http", "shell", "manual")


def placeholders(stimulus: str, target: str, adapter_url: str) -> dict[str, str]:
    url = urlsplit(adapter_url)
    scheme = "https" if url.scheme == "wss" else "http"
    return {
        "stimulus": stimulus,
        "target": target,
        "session": target.split(".", 1)[0],
        "adapter_url": adapter_url,
        "adapter_http": f"{scheme}://{url.netloc}",
    }


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """The template with every ``{name}`` of ``values`` replaced, in strings at any depth (other braces stay)."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, Mapping):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    return template


async def produce(
    driver: StimulusDriver,
    stimulus: str,
    target: str,
    adapter_url: str,
    timeout: float,
    announce: Callable[[str], None],
) -> str:
    """Make an external stimulus happen; returns what was done (one line). Raises :class:`StimulusFailed`."""
    values = placeholders(stimulus, target, adapter_url)
    if driver.kind == "http":
        return await _http(driver.for_stimulus(stimulus), values, timeout)
    if driver.kind == "shell":
        return await _shell(driver, values, timeout)
    if driver.kind == "manual":
        text = fill(driver.prompt, values)
        announce(f"OPERATOR: {text} (waiting up to {timeout:g}s for its events)")
        return f"asked the operator: {text}"
    raise StimulusFailed(f"the {driver.kind!r} driver produces no external stimulus")


async def _http(driver: StimulusDriver, values: Mapping[str, str], timeout: float) -> str:
    url = fill(driver.url, values)
    body = None if driver.body is None else json.dumps(fill(driver.body, values)).encode()
    headers = dict(fill(dict(driver.headers), values))
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, headers=headers, method=driver.method)

    def call() -> str:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                text = answer.read(OUTPUT_CHARS).decode("utf-8", "replace").strip()
                return f"{driver.method} {url}: {answer.status} {text}"
        except urllib.error.HTTPError as exc:
            text = exc.read(OUTPUT_CHARS).decode("utf-8", "replace").strip()
            raise StimulusFailed(f"{driver.method} {url} answered {exc.code}: {text}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise StimulusFailed(f"{driver.method} {url} failed: {exc}"[:OUTPUT_CHARS]) from None

    try:
        async with asyncio.timeout(timeout + 1):  # urlopen's own timeout is per socket operation
            return await _in_daemon_thread(call)
    except TimeoutError:
        raise StimulusFailed(f"{driver.method} {url} did not answer within {timeout:g}s") from None


async def _in_daemon_thread(call: Callable[[], T]) -> T:
    """``call()`` in a daemon thread of its own. A lab endpoint that drips its answer keeps the blocking call
    going after the deadline gave up on it: ``asyncio.to_thread`` would leave it in the default executor, which
    ``asyncio.run`` waits for without limit when it ends (and the interpreter's exit waits for any non-daemon
    thread). Nothing waits for this one."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = call(), None
        except BaseException as exc:  # handed to the waiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="mbconform-http-stimulus", daemon=True).start()
    return await future


async def _shell(driver: StimulusDriver, values: Mapping[str, str], timeout: float) -> str:
    argv = [fill(arg, values) for arg in driver.command]
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        raise StimulusFailed(f"cannot run {argv[0]!r}: {exc}") from None
    try:
        async with asyncio.timeout(timeout):
            output, _ = await process.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise StimulusFailed(f"{' '.join(argv)} did not finish within {timeout:g}s") from None
    text = output[-OUTPUT_CHARS:].decode("utf-8", "replace").strip()
    if process.returncode != 0:
        raise StimulusFailed(f"{' '.join(argv)} exited with {process.returncode}: {text}")
    return f"ran {' '.join(argv)}" + (f": {text}" if text else "")
