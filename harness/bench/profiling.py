"""Where the time goes: a ``cProfile`` run's top functions, as text for a file and as data for the JSON."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any

TOP = 25  # functions kept per profile


def top_functions(profile: cProfile.Profile, most: int = TOP) -> list[dict[str, Any]]:
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


def own_time_leaders(profile: cProfile.Profile, most: int = 5, only: str = "") -> list[dict[str, Any]]:
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


def breakdown(profile: cProfile.Profile) -> dict[str, float]:
    """Shares of the profiled time: waiting in the event loop's poll (for the adapter: the harness is idle),
    the planner (``Explorer.plan``, cumulative), and the own time of each area of :data:`AREAS`."""
    stats = pstats.Stats(profile)
    total = stats.total_tt or 1.0  # type: ignore[attr-defined]
    shares = {"waiting for the adapter": 0.0, "the planner": 0.0, **dict.fromkeys(AREAS, 0.0)}
    for (file, _, name), (_, _, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if name in ("<method 'poll' of 'select.epoll' objects>", "<method 'select' of 'select.epoll' objects>"):
            shares["waiting for the adapter"] += own
        if file.endswith("core/plan.py") and name == "plan":
            shares["the planner"] += cumulative
        for area, marker in AREAS.items():
            if marker in file:
                shares[area] += own
                break
    return {area: round(seconds / total, 3) for area, seconds in shares.items()}


def describe_breakdown(shares: dict[str, float]) -> str:
    """ "waiting for the adapter 7%, the planner 76% (cumulative); own time: the harness 30%, ..." """
    cumulative = [
        f"{area} {shares[area]:.0%}" for area in ("waiting for the adapter", "the planner") if shares[area]
    ]
    own = [f"{area} {shares[area]:.0%}" for area in AREAS if shares[area] >= 0.01]
    return ", ".join(cumulative) + ("; own time: " if cumulative else "own time: ") + ", ".join(own)


def write_profile(profile: cProfile.Profile, path: Path, title: str) -> None:
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
