"""The ``mbconform`` command line's options: one parser, every subcommand with an example, the environment
variables it reads and the exit codes in its ``--help``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..paths import FOLDER_VARIABLES, suites_dir
from .exits import EXIT_TABLE

EXAMPLES = {
    "serve": "mbconform serve --port 8765 --addressing channelgroup --login agent.login --lab-http",
    "run": "mbconform run ws://adapter.example:8080/mediabar --profile my-adapter.yaml\n"
    "  mbconform run --profile reference-generic -k MB-CHAN-DIAL      # the embedded reference adapter",
    "fuzz": "mbconform fuzz ws://127.0.0.1:8765 --profile my-adapter.yaml --fuzz-profile ci",
    "replay": "mbconform replay regression/MB-FUZZ-0001.yaml ws://127.0.0.1:8765",
    "cases": "mbconform cases --profile my-adapter.yaml",
    "requirements": "mbconform requirements --json > requirements.json",
    "lint": "mbconform lint my-adapter.yaml",
    "specs": "mbconform specs --json",
    "asyncapi": "mbconform asyncapi --out mediabar.asyncapi.yaml",
    "report": "mbconform report --reports ./reports",
    "selftest": "mbconform selftest --quick",
    "bench": "mbconform bench --quick",
    "discover": "mbconform discover ws://adapter.example:8080/mediabar --out my-adapter.yaml",
}
MORE_VARIABLES = {
    "requirements": {"MBCONFORM_SEEDS": "the seed files (default: ../shared/seeds of the catalogue's folder)"},
}
PROFILE_VARIABLES = {"(a profile's ${env:NAME})": "any variable a profile names, e.g. a token (never reported)"}
PROGRESS_SECONDS = 30.0  # the fuzz status line's default interval
WITH_PROFILES = ("run", "fuzz", "replay", "cases", "requirements", "selftest", "bench", "discover", "lint")


def profile_path(text: str) -> Path:
    """``--profile``: a file, or the name of a profile shipped with mbconform (``reference-generic``)."""
    path = Path(text)
    if path.suffix or path.exists() or "/" in text:
        return path
    return suites_dir() / "profiles" / f"{text}.yaml"


def epilog(command: str) -> str:
    variables = dict(FOLDER_VARIABLES) | MORE_VARIABLES.get(command, {})
    if command in WITH_PROFILES:
        variables |= PROFILE_VARIABLES
    width = max(len(name) for name in variables)
    lines = ["example:", f"  {EXAMPLES[command]}", "", "environment variables:"]
    lines += [f"  {name:{width}}  {text}" for name, text in variables.items()]
    return "\n".join([*lines, "", EXIT_TABLE])


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser and its subcommands' parsers by name."""
    parser = argparse.ArgumentParser(
        prog="mbconform",
        description="Media bar protocol conformance harness",
        epilog=EXIT_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mbconform {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the reference adapter (a simulated platform)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    serve.add_argument("--test-control", action="store_true", help="accept in-band stimulus requests")
    serve.add_argument("--fault", action="append", default=[], metavar="NAME", help="misbehave (repeatable)")
    serve.add_argument("--list-faults", action="store_true", help="list the known faults and exit")
    serve.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    serve.add_argument(
        "--platform", default=None, help="the platform to simulate (default: specs/platforms.yaml's default)"
    )
    serve.add_argument(
        "--fact", action="append", default=[], metavar="NAME=VALUE", help="override a platform fact (repeatable)"
    )
    serve.add_argument(
        "--addressing",
        choices=("flat", "channelgroup"),
        default="flat",
        help="channelgroup: every channel in a channel group of its own (targets <session>.<group>.<channel>)",
    )
    serve.add_argument(
        "--login", metavar="COMMAND", default=None, help="say nothing until the media bar sends this request"
    )
    serve.add_argument(
        "--tls-cert", type=Path, default=None, metavar="FILE", help="serve wss:// with this PEM certificate"
    )
    serve.add_argument(
        "--tls-key", type=Path, default=None, metavar="FILE", help="the certificate's PEM private key"
    )
    serve.add_argument(
        "--require-header",
        action="append",
        default=[],
        metavar="NAME: VALUE",
        help="refuse a WebSocket handshake without this header (HTTP 401; repeatable)",
    )
    serve.add_argument(
        "--subprotocol", action="append", default=[], metavar="NAME", help="accept this subprotocol (repeatable)"
    )
    serve.add_argument(
        "--conventions",
        type=Path,
        default=None,
        metavar="FILE",
        help="play these conventions (a YAML file with a conventions: section, or a profile): the adapter's own "
        "command and state names, extra start-up events, channels that activate themselves",
    )
    serve.add_argument(
        "--events-first",
        action="store_true",
        help="send a request's secondary events before its response (the seeds allow both: ERRATA R2)",
    )
    serve.add_argument(
        "--lab-http",
        action="store_true",
        help="produce stimuli over HTTP: GET /lab/stimulate?stimulus=NAME&target=ADDRESS on the same port",
    )

    run = commands.add_parser(
        "run",
        help="run the conformance suite against an adapter (default: the embedded reference adapter)",
        usage="mbconform run [URL] [options] [pytest arguments]",
        description="URL: the ws:// or wss:// address of the adapter under test (default: start the embedded "
        "reference adapter). Any other argument not known here is passed to pytest (-k, -m, -x, ...).",
    )
    run.add_argument(
        "--profile",
        type=profile_path,
        action="append",
        default=None,
        help="the adapter's profile (YAML; repeatable); default: reference-*.yaml; with a URL: reference-generic",
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="where to write reports (default: ./reports of the current folder)",
    )
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="with no URL: start the reference adapter with this fault (repeatable)",
    )
    run.add_argument("--no-html", action="store_true", help="do not build the HTML report")
    run.add_argument(
        "--case-progress", action="store_true", help="print each case's id, title and verdict as it ends"
    )
    run.add_argument(
        "--retry-setups",
        action="store_true",
        help="run every case's set-up; by default a case whose set-up needs a step that already failed from "
        "the same situation in this run is inconclusive at once, naming the case where it failed",
    )
    run.add_argument(
        "--wait-out",
        action="store_true",
        help="wait every step to its end even once what arrived makes its verdict certain (slower; to compare)",
    )
    run.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    run.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="compare with this accepted baseline: exit non-zero only when a test newly fails a MUST",
    )
    run.add_argument(
        "--write-baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="record this run's verdicts as a baseline",
    )
    connection_arguments(run)

    fuzz = commands.add_parser(
        "fuzz",
        help="fuzz an adapter (default: the embedded reference adapter): malformed messages and call flows",
        usage="mbconform fuzz [URL] [options] [pytest arguments]",
        description="Hypothesis-driven fuzzing from the catalogue. A finding is shrunk to a minimal call flow and "
        "written as a scenario file that `mbconform replay` runs. Other arguments go to pytest.",
    )
    fuzz.add_argument(
        "--fuzz-profile",
        default="ci",
        help="ci (derandomized, bounded), nightly (random search until the budget ends), or a fuzz profile file",
    )
    fuzz.add_argument("--budget", type=float, default=None, help="seconds per fuzz test (default: the profile's)")
    fuzz.add_argument(
        "--profile",
        type=profile_path,
        action="append",
        default=None,
        help="the adapter's profile (repeatable); default: reference-generic and reference-incontact (with a "
        "URL: reference-generic)",
    )
    fuzz.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="with no URL: a reference fault"
    )
    fuzz.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where reproducers go (default: suites/regression/ of a checkout or of --suites; else ./regression/)",
    )
    fuzz.add_argument("--database", type=Path, default=None, help="Hypothesis' example database folder (nightly)")
    fuzz.add_argument("--workers", type=int, default=None, help="parallel workers with pytest-xdist (nightly)")
    fuzz.add_argument(
        "--reports", type=Path, default=None, help="where to write reports (default: ./reports/fuzz/)"
    )
    fuzz.add_argument(
        "--progress",
        type=float,
        nargs="?",
        const=PROGRESS_SECONDS,
        default=None,
        metavar="SECONDS",
        help=f"a status line every SECONDS (default {PROGRESS_SECONDS:g}); without it, only a nightly run on a "
        "terminal outside CI (no CI variable) shows one; 0: none",
    )
    fuzz.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    connection_arguments(fuzz)

    replay = commands.add_parser("replay", help="run a fuzz reproducer (a scenario file) and say if it reproduces")
    replay.add_argument("file", type=Path, help="the scenario file (suites/regression/MB-FUZZ-....yaml)")
    replay.add_argument(
        "url", nargs="?", default=None, help="the adapter (default: the embedded reference adapter)"
    )
    replay.add_argument(
        "--profile", type=profile_path, default=None, help="the adapter's profile (default: the file's)"
    )
    replay.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    connection_arguments(replay)

    cases = commands.add_parser("cases", help="list every test case: id, applicable or why not, title")
    cases.add_argument(
        "--profile",
        type=profile_path,
        action="append",
        default=None,
        help="profile (repeatable); default: reference-*.yaml",
    )
    cases.add_argument("--json", action="store_true", help="as one JSON object")
    cases.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    requirements = commands.add_parser(
        "requirements",
        help="the seed requirements: each with the checks that encode it, the test ids, the faults that prove it",
    )
    requirements.add_argument(
        "--profile",
        type=profile_path,
        action="append",
        default=None,
        help="profile (repeatable); default: reference-*.yaml",
    )
    requirements.add_argument(
        "--matrix",
        type=Path,
        default=None,
        metavar="FILE",
        help="a detection matrix saved by 'mbconform selftest --json FILE' (without it: faults not measured)",
    )
    requirements.add_argument(
        "--seeds", type=Path, default=None, metavar="DIR", help="the seed files, to check every quote against"
    )
    requirements.add_argument("--json", action="store_true", help="as one JSON object")
    requirements.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    lint = commands.add_parser("lint", help="check spec, scenario and profile files")
    lint.add_argument("paths", nargs="*", type=Path, help="files or folders (default: specs/ and suites/)")
    lint.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    specs = commands.add_parser("specs", help="print the spec catalogue")
    specs.add_argument("--json", action="store_true", help="as one JSON object (the default for now)")
    specs.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    asyncapi = commands.add_parser(
        "asyncapi",
        help="write the catalogue as an AsyncAPI 3.0 document",
        description="The media bar's side of the protocol as AsyncAPI 3.0: the adapter's WebSocket server, one "
        "channel, each command a send operation with its replies, each event a receive operation; what "
        "AsyncAPI cannot say in x-mbconform extensions.",
    )
    asyncapi.add_argument(
        "--out", type=Path, default=None, help="the file to write (.yaml/.yml: YAML, else JSON; default: stdout)"
    )
    asyncapi.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    report = commands.add_parser("report", help="build the single-file HTML report from Allure results")
    report.add_argument("--reports", type=Path, default=None, help="the reports folder (default: ./reports)")

    selftest = commands.add_parser(
        "selftest",
        help="run the suite against the reference adapter and each of its faults; print the detection matrix",
    )
    selftest.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="only this fault (repeatable; default: all named)",
    )
    selftest.add_argument(
        "--quick", action="store_true", help="per fault, only the cases that send what it changes, until detected"
    )
    selftest.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the matrix as JSON")
    selftest.add_argument(
        "--profile",
        type=profile_path,
        action="append",
        default=None,
        help="profile (repeatable); default: reference-*.yaml",
    )
    selftest.add_argument("--step-timeout", type=float, default=None, help="seconds per step (default: 2)")
    selftest.add_argument("--concurrency", type=int, default=None, help="flows at once (default: 32)")
    selftest.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    bench = commands.add_parser(
        "bench",
        help="measure the harness's speed and memory against an adapter (default: the embedded reference adapter)",
        description="Raw against checked steps, the suite's wall time, fuzz steps per second, memory under a "
        "flood of events and many sessions at once: a table on stdout, JSON in reports/bench/.",
    )
    bench.add_argument(
        "url", nargs="?", default=None, help="the adapter (default: the embedded reference adapter)"
    )
    bench.add_argument(
        "--profile", type=profile_path, default=None, help="the adapter's profile (default: reference-generic)"
    )
    bench.add_argument("--sessions", type=int, default=None, help="sessions at once (default: 50; --quick: 8)")
    bench.add_argument("--flood", type=int, default=None, help="events in the flood (default: 1,000,000)")
    bench.add_argument("--quick", action="store_true", help="a short run with small counts")
    bench.add_argument(
        "--cycle", type=Path, default=None, help="the bench cycle (default: suites/bench/cycle.yaml)"
    )
    bench.add_argument("--session-fault", default=None, metavar="NAME", help="run the sessions with this fault")
    bench.add_argument("--reports", type=Path, default=None, help="where to write (default: ./reports/bench/)")
    bench.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    discover = commands.add_parser("discover", help="observe an adapter's conventions and write a draft profile")
    discover.add_argument("url", help="the adapter's WebSocket URL (ws:// or wss://)")
    discover.add_argument(
        "--profile", type=profile_path, default=None, help="a base profile (log-in, stimuli, commands)"
    )
    discover.add_argument("--out", type=Path, default=None, help="the draft (default: ./mbconform-draft.yaml)")
    discover.add_argument(
        "--budget", type=float, default=60.0, help="seconds for the whole discovery (default: 60)"
    )
    discover.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    connection_arguments(discover)

    for name, command in commands.choices.items():
        command.epilog = epilog(name)
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.add_argument(
            "--suites",
            type=Path,
            default=None,
            metavar="DIR",
            help="your own suites folder (profiles, conformance call flows, fuzz profiles); sets MBCONFORM_SUITES",
        )
    return parser, dict(commands.choices)


def connection_arguments(command: argparse.ArgumentParser) -> None:
    """How the WebSocket is opened: TLS verification, handshake headers and subprotocols (over the profile's)."""
    command.add_argument(
        "--ca-bundle",
        type=Path,
        default=None,
        metavar="FILE",
        help="PEM file of the CAs that sign the adapter's certificate",
    )
    command.add_argument(
        "--insecure", action="store_true", help="wss:// without certificate verification (a lab only)"
    )
    command.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="NAME: VALUE",
        help="a header for the WebSocket handshake, e.g. 'Authorization: Bearer ...' (repeatable; never reported)",
    )
    command.add_argument(
        "--subprotocol", action="append", default=[], metavar="NAME", help="offer this subprotocol (repeatable)"
    )
