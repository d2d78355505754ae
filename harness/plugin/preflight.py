"""An adapter that cannot be reached is one message (issue 16): before the first test, one connection and the
session start-up are tried once per profile; if that fails (refused, unknown host, HTTP 404, TLS, a start-up
that fails), the run's tests are replaced by one item whose set-up is that error, so JUnit shows one
``<error>`` instead of a failure per test, and the run's exit status is 3 (``cmdline/exits.py``).

A start-up that succeeds with violations (a malformed ready event) is no reason to stop: the tests report it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from ..core.violations import Category
from ..runner.flow import Flow, run_flow

if TYPE_CHECKING:
    from ..runner.settings import Settings
    from ..spec.catalogue import Catalogue
    from .pytest_plugin import Context

UNREACHABLE_STATUS = 3
ITEM_NAME = "adapter unreachable"


class AdapterUnreachable(Exception):
    """The adapter could not be reached, or its session start-up failed."""


def first_problem(context: Context, items: list[pytest.Item]) -> str | None:
    """Why the adapter cannot be tested (one line), or None; one session per profile that has tests."""
    names = {profile.name for item in items if (profile := getattr(item, "profile", None)) is not None}
    for profile in context.profiles:
        if profile.name in names:
            url = context.url_for(profile)
            problem = reach(url, context.catalogue, context.settings_for(profile), context.shown_url(url))
            if problem is not None:
                return problem if len(context.profiles) == 1 else f"{problem} (profile {profile.name})"
    return None


def reach(url: str, catalogue: Catalogue, settings: Settings, shown: str) -> str | None:
    """One connection and the session start-up, once: why they failed, or None (reached and started; a
    harness fault is ours, and each test reports it)."""
    result = asyncio.run(run_flow(Flow(steps=()), url=url, catalogue=catalogue, settings=settings))
    if not result.reason or any(v.category is Category.HARNESS_FAULT for _, v in result.violations):
        return None
    if any(title == "connect" for title, _ in result.violations):
        return f"the adapter at {shown} could not be reached: {result.reason}"
    details = "; ".join(f"{v.title}: {v.message}" for _, v in result.violations[:3])
    return f"the adapter at {shown} did not start a session: {result.reason}" + (
        f" ({details})" if details else ""
    )


def replace_items(session: pytest.Session, config: pytest.Config, items: list[pytest.Item], problem: str) -> None:
    """Every test deselected, one item in their place whose set-up raises the problem."""
    config.hook.pytest_deselected(items=list(items))
    items[:] = [UnreachableItem.from_parent(session, name=ITEM_NAME, problem=problem)]


class UnreachableItem(pytest.Item):
    def __init__(self, *, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def setup(self) -> None:
        raise AdapterUnreachable(self.problem)

    def runtest(self) -> None:  # pragma: no cover - its set-up always raises
        raise AdapterUnreachable(self.problem)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def _repr_failure_py(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A set-up error is shown by this method, not ``repr_failure``: the message, no traceback."""
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, ITEM_NAME
