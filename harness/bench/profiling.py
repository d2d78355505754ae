"""Where the time goes: a ``cProfile`` run's top functions, as text for a file and as data for the JSON.

A profile is a ``cProfile.Profile`` of this process, or the file a child process wrote with
``python -m cProfile -o FILE``."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any

Profiled = cProfile.Profile | str  # a profile, or the file of one

TOP = 25  # functions kept per profile


def top_functions(profile: Profiled, most: int = TOP) -> list[dict[str, Any]]:
    """The ``most`` functions with the highest cumulative time: name, place, calls, own and cumulative s."""
    stats = pstats.Stats(profile)
    rows = []
    for (file, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": name,
                "where": f"{_short(file)}:{line}",
                "calls": calls,
                "own_seconds": round(own, 4),
                "cumulative_seconds": round(cumulative, 4),
            }
        )
    rows.sort(key=lambda row: row["cumulative_seconds"], reverse=True)
    return rows[:most]


def own_time_leaders(profile: Profiled, most: int = 5, only: str = "") -> list[dict[str, Any]]:
    """The functions with the highest own time (``only``: whose file path contains it)."""
    stats = pstats.Stats(profile)
    rows = [
        {"function": name, "where": f"{_short(file)}:{line}", "own_seconds": round(own, 4)}
        for (file, line, name), (_, _, own, _, _) in stats.stats.items()  # type: ignore[attr-defined]
        if only in file
    ]
    rows.sort(key=lambda row: row["own_seconds"], reverse=True)
    return rows[:most]


AREAS = {  # where a function's own time is spent, by a part of its file's path
    "the harness": "/harness/",
    "websockets": "/websockets/",
    "hypothesis": "/hypothesis/",
    "asyncio": "/asyncio/",
    "json": "/json/",
}


CUMULATIVE = ("waiting for the adapter", "the planner", "imports", "opening files")  # shares with callees


def breakdown(profile: Profiled) -> dict[str, float]:
    """Shares of the profiled time: waiting in the event loop's poll (for the adapter: the harness is idle),
    the planner (``Explorer.plan``, cumulative), imports, opening files (the Allure reporter writes a file per
    attachment), and the own time of each area of :data:`AREAS`."""
    stats = pstats.Stats(profile)
    total = stats.total_tt or 1.0  # type: ignore[attr-defined]
    shares = {**dict.fromkeys(CUMULATIVE, 0.0), **dict.fromkeys(AREAS, 0.0)}
    for (file, _, name), (_, _, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if name in ("<method 'poll' of 'select.epoll' objects>", "<method 'select' of 'select.epoll' objects>"):
            shares["waiting for the adapter"] += own
        if file.endswith("core/plan.py") and name == "plan":
            shares["the planner"] += cumulative
        if name == "_find_and_load":  # the outermost imports (cProfile counts a recursive call once)
            shares["imports"] = max(shares["imports"], cumulative)
        if name == "<built-in method io.open>":
            shares["opening files"] += own
        for area, marker in AREAS.items():
            if marker in file:
                shares[area] += own
                break
    return {area: round(seconds / total, 3) for area, seconds in shares.items()}


def describe_breakdown(shares: dict[str, float]) -> str:
    """The shares of :func:`breakdown` in words: those that include what they call, then the own times."""
    cumulative = [f"{area} {shares[area]:.0%}" for area in CUMULATIVE if shares.get(area, 0) >= 0.01]
    own = [f"{area} {shares[area]:.0%}" for area in AREAS if shares[area] >= 0.01]
    return ", ".join(cumulative) + ("; own time: " if cumulative else "own time: ") + ", ".join(own)


def write_profile(profile: Profiled, path: Path, title: str) -> None:
    """The profile as text: the top functions by cumulative time, then by own time."""
    out = io.StringIO()
    out.write(f"# {title}\n")
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")


def _short(file: str) -> str:
    for marker in ("/harness/", "/site-packages/", "/lib/python3"):
        if marker in file:
            return file[file.index(marker) + 1 :]
    return file
