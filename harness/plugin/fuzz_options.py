"""The fuzz tests' pytest options and how a fuzz profile file is known, without importing Hypothesis: a
conformance run that collects no fuzz profile never loads it (it costs about two seconds of start-up)."""

from __future__ import annotations

from typing import Any

from ..fuzz import FUZZ_FORMAT


def add_options(group: Any) -> None:
    group.addoption(
        "--fuzz-budget", type=float, default=None, help="seconds per fuzz test (default: the profile's)"
    )
    group.addoption("--fuzz-out", default=None, help="where reproducers are written (default: suites/regression/)")
    group.addoption("--fuzz-database", default=None, help="Hypothesis' example database folder (nightly)")
    group.addoption("--fuzz-workers", type=int, default=None, help="copies of the flows test, for pytest-xdist")
    group.addoption(
        "--fuzz-progress",
        type=float,
        default=None,
        metavar="SECONDS",
        help="print a fuzz test's status line every SECONDS (default: none)",
    )
    group.addoption(
        "--fuzz-adapter-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reference adapter option a reproducer records (an embedded adapter's --fault)",
    )


def is_fuzz_file(head: str) -> bool:
    return FUZZ_FORMAT in head
