"""The ``mbconform`` command line: options checked here before pytest sees the rest, then the subcommand.

Every subcommand keeps one exit-code contract (``cmdline/exits.py``, shown in ``--help`` and the README).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cmdline.exits import Exit, bare_addresses, check_url, misspelled_options, unknown_command, usage_error
from .paths import project_root, reports_dir, specs_dir

STOPPABLE = ("run", "fuzz", "selftest", "replay", "bench")
PASSED_ON = ("run", "fuzz")  # the rest of their command line goes to pytest (-k, -m, -x, ...)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] in ([name] for name in STOPPABLE):
        from .cmdline.common import stop_on_sigterm

        stop_on_sigterm()  # first: a run stopped while it starts still writes its reports
    try:
        return _main(arguments)
    except KeyboardInterrupt:  # before a command wrote its reports (run and fuzz write theirs first)
        print("mbconform: interrupted", file=sys.stderr)
        return int(Exit.INTERRUPTED)


def _own_suites(arguments: list[str]) -> None:
    """``--suites DIR`` before anything reads a path (a ``--profile NAME`` is looked up in it)."""
    for index, arg in enumerate(arguments):
        if arg == "--suites" and index + 1 < len(arguments):
            os.environ["MBCONFORM_SUITES"] = str(Path(arguments[index + 1]).resolve())
        elif arg.startswith("--suites="):
            os.environ["MBCONFORM_SUITES"] = str(Path(arg.split("=", 1)[1]).resolve())


def _main(arguments: list[str]) -> int:
    from .cmdline.parser import build_parser

    _own_suites(arguments)
    parser, subcommands = build_parser()
    problem = unknown_command(arguments, list(subcommands))
    if problem is not None:
        return usage_error("", problem)
    args, rest = parser.parse_known_args(arguments)
    command: str = args.command
    known = sorted({option for action in subcommands[command]._actions for option in action.option_strings})
    problems = misspelled_options(rest, known, passed_on=command in PASSED_ON)
    if command in PASSED_ON:
        urls = [arg for arg in rest if "://" in arg and not arg.startswith("-")]
        problems += [f"{arg!r} is no option, file or URL: {check_url(arg)}" for arg in bare_addresses(rest)]
        if len(urls) > 1:
            problems.append(f"{command} takes one adapter URL, got {urls}")
        problems += [problem for problem in map(check_url, urls) if problem]
        args.url = urls[0] if urls else None
        rest = [arg for arg in rest if arg not in urls]
        if args.url and args.fault:
            problems.append("--fault makes the embedded reference adapter misbehave; it cannot apply to a URL")
    elif rest and not problems:
        problems.append(f"unrecognized arguments: {' '.join(rest)}")
    url = getattr(args, "url", None)
    if command not in PASSED_ON and url is not None:
        problems += [problem for problem in [check_url(url)] if problem]
    if command == "discover" and args.budget <= 0:
        problems.append(f"--budget must be positive, got {args.budget}")
    if command in ("run", "fuzz", "replay", "discover") and not problems:
        from .cmdline.common import connection_options

        try:
            args.connection = connection_options(args)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        return usage_error(command, "; ".join(problems) + f"\n(see 'mbconform {command} --help')")
    if args.suites is not None and not args.suites.is_dir():
        return usage_error(command, f"--suites {args.suites}: no such folder")
    return _dispatch(args, rest)


def _dispatch(args: argparse.Namespace, rest: list[str]) -> int:
    from .cmdline import listing, testrun
    from .cmdline.common import catalogue

    command = args.command
    if command == "serve":
        from .cmdline.serve import serve

        return serve(args)
    if command == "run":
        return testrun.run(args, rest)
    if command == "fuzz":
        return testrun.fuzz(args, rest)
    if command == "lint":
        from .lint import lint_paths

        return lint_paths(args.paths, args.specs or specs_dir())
    if command == "cases":
        return listing.cases(args)
    if command == "requirements":
        from .traceability import run_cli as requirements_cli

        return requirements_cli(catalogue(args.specs), args.profile, args.matrix, args.seeds, args.json)
    if command == "replay":
        from .fuzz.replay import run_cli as replay_cli

        return replay_cli(args.file, args.url, args.profile, catalogue(args.specs), args.connection)
    if command == "discover":
        from .discover import run_cli as discover_cli

        return discover_cli(args.url, args.profile, args.out, args.budget, catalogue(args.specs), args.connection)
    if command == "selftest":
        return listing.selftest(args)
    if command == "bench":
        return listing.bench(args)
    if command == "asyncapi":
        from .spec.asyncapi import run_cli as asyncapi_cli

        return asyncapi_cli(catalogue(args.specs), args.out)
    if command == "specs":
        import json

        from .spec.export import catalogue_json

        print(json.dumps(catalogue_json(catalogue(args.specs)), indent=2))
        return 0
    from .reporting.html import build_report

    return build_report(args.reports or reports_dir(), project_root())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
