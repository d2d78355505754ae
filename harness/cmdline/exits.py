"""One exit-code contract for every subcommand, and the checks mbconform makes on its command line before
pytest sees the rest of it (an unknown option, a subcommand misspelled, an adapter URL without a scheme)."""

from __future__ import annotations

import difflib
import re
import sys
from enum import IntEnum
from pathlib import Path


class Exit(IntEnum):
    CONFORMS = 0
    MUST_FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4
    INTERRUPTED = 130


EXIT_TABLE = """exit codes (every subcommand):
  0    conforms: every MUST held (lint: no problem; replay: the finding no longer reproduces)
  1    a MUST failed (a test failed or errored; selftest: a fault went undetected; replay: it reproduces)
  2    usage or input-file error: an unknown option or subcommand, a bad URL, a profile, spec, scenario or
       baseline with problems (lint: any problem it finds), no test selected
  3    the adapter could not be reached (refused, unknown host, HTTP 404, TLS) or its session start-up failed
  4    mbconform's own fault (an internal error: please report it)
  130  interrupted (Ctrl-C, or SIGTERM from a CI job that is cancelled); the reports of what ended are kept"""

# pytest's exit codes (pytest.ExitCode) under the contract; pytest's 3 is its internal error, and the plugin's
# "adapter unreachable" is told apart by the run itself (see cmdline/testrun.py)
FROM_PYTEST = {
    0: Exit.CONFORMS,
    1: Exit.MUST_FAILED,
    2: Exit.INTERRUPTED,
    3: Exit.INTERNAL,
    4: Exit.USAGE,
    5: Exit.USAGE,
}
# host:port, or a host name with a path, without ws:// or wss:// in front
BARE_ADDRESS = re.compile(
    r"^(?:localhost|\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}(?:/\S*)?$|^(?:localhost|[\w-]+(?:\.[\w-]+)+)/\S*$"
)


def from_pytest(code: int, unreachable: bool = False) -> int:
    if unreachable:
        return int(Exit.UNREACHABLE)
    return int(FROM_PYTEST.get(code, Exit.INTERNAL))


def usage_error(command: str, message: str) -> int:
    print(f"mbconform{' ' + command if command else ''}: {message}", file=sys.stderr)
    return int(Exit.USAGE)


def suggestion(word: str, choices: list[str]) -> str:
    """`` (did you mean 'run'?)``, or "" when nothing is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_command(argv: list[str], commands: list[str]) -> str | None:
    """The problem with the first argument, if it is no subcommand (``runn``)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    if first is None or first in commands or argv[0] in ("-h", "--help", "--version"):
        return None
    return f"unknown command {first!r}{suggestion(first, commands)}; the commands: {', '.join(commands)}"


def misspelled_options(rest: list[str], known: list[str], passed_on: bool) -> list[str]:
    """The problems with options the subcommand does not know. Where the rest goes to pytest (``passed_on``),
    only an option close to one of mbconform's own is refused (``--profle``); pytest judges the others."""
    problems = []
    for arg in rest:
        if not arg.startswith("--") or arg == "--":
            continue
        name = arg.split("=", 1)[0]
        hint = suggestion(name, known)
        if hint or not passed_on:
            problems.append(f"unknown option {name}{hint}")
    return problems


def check_url(url: str) -> str | None:
    """The problem with an adapter URL, or None for ws:// and wss://."""
    if url.startswith(("ws://", "wss://")):
        return None
    if "://" in url:
        return f"the adapter URL must be ws:// or wss://, got {url}"
    return f"the adapter URL needs its scheme: ws://{url} or wss://{url}, got {url}"


def bare_addresses(rest: list[str]) -> list[str]:
    """Arguments that look like an adapter's address without ws:// (``127.0.0.1:8765``): pytest would take them
    for a file to collect. An argument right after an option is that option's value, never an address."""
    found = []
    for index, arg in enumerate(rest):
        after_option = index > 0 and rest[index - 1].startswith("-") and "=" not in rest[index - 1]
        if arg.startswith("-") or "://" in arg or after_option or Path(arg.split("::")[0]).exists():
            continue
        if BARE_ADDRESS.match(arg):
            found.append(arg)
    return found
