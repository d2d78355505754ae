"""The one deadline helper. Every wait in the harness goes through :func:`within`.

A deadline that expires raises :class:`StepTimeout`, whose message names the step, what was still
expected, and what did arrive (computed only when it expires).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class StepTimeout(Exception):
    """A deadline expired while waiting."""


class Deadline:
    def __init__(self, seconds: float, what: str) -> None:
        if seconds <= 0:
            raise ValueError(f"seconds: a deadline needs a positive time, got {seconds!r}")
        self.seconds = seconds
        self.what = what
        self.at = asyncio.get_running_loop().time() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - asyncio.get_running_loop().time())


async def within(deadline: Deadline, awaitable: Awaitable[T], explain: Callable[[], str]) -> T:
    """Await ``awaitable`` until ``deadline``; on expiry raise :class:`StepTimeout` with ``explain()``.

    An expired deadline raises before anything is awaited: an awaitable that is ready at once never gives
    asyncio's timeout a chance to fire, so a peer that floods frames could otherwise hold a wait open forever.
    """
    if deadline.remaining() <= 0:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise StepTimeout(f"{deadline.what}: nothing more within {deadline.seconds:g}s. {explain()}")
    try:
        async with asyncio.timeout_at(deadline.at):
            return await awaitable
    except TimeoutError:
        raise StepTimeout(f"{deadline.what}: nothing more within {deadline.seconds:g}s. {explain()}") from None
