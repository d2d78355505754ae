"""The ``mbconform`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .paths import default_profile, project_root, reference_profiles, reports_dir, specs_dir, suites_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mbconform", description="Media bar protocol conformance harness")
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

    run = commands.add_parser(
        "run",
        help="run the conformance suite against an adapter (default: the embedded reference adapter)",
        usage="mbconform run [URL] [options] [pytest arguments]",
        description="URL: the ws:// or wss:// address of the adapter under test (default: start the embedded "
        "reference adapter). Any other argument not known here is passed to pytest (-k, -m, -x, ...).",
    )
    run.add_argument(
        "--profile",
        type=Path,
        action="append",
        default=None,
        help="the adapter's profile (YAML; repeatable); default: reference-*.yaml; with a URL: reference-generic",
    )
    run.add_argument("--reports", type=Path, default=None, help="where to write reports (default: reports/)")
    run.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="with no URL: start the reference adapter with this fault (repeatable)",
    )
    run.add_argument("--no-html", action="store_true", help="do not build the HTML report")
    run.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    lint = commands.add_parser("lint", help="check spec, scenario and profile files")
    lint.add_argument("paths", nargs="*", type=Path, help="files or folders (default: specs/ and suites/)")
    lint.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    specs = commands.add_parser("specs", help="print the spec catalogue")
    specs.add_argument("--json", action="store_true", help="as one JSON object (the default for now)")
    specs.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    report = commands.add_parser("report", help="build the single-file HTML report from Allure results")
    report.add_argument("--reports", type=Path, default=None, help="the reports folder (default: reports/)")

    args, rest = parser.parse_known_args(argv)
    if args.command != "run" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "serve":
        return _serve(args)
    if args.command == "run":
        urls = [arg for arg in rest if "://" in arg and not arg.startswith("-")]
        if len(urls) > 1:
            parser.error(f"run takes one adapter URL, got {urls}")
        if urls and not urls[0].startswith(("ws://", "wss://")):
            parser.error(f"the adapter URL must be ws:// or wss://, got {urls[0]}")
        args.url = urls[0] if urls else None
        if args.url and args.fault:
            parser.error("--fault makes the embedded reference adapter misbehave; it cannot apply to a URL")
        return _run(args, [arg for arg in rest if arg not in urls])
    if args.command == "lint":
        from .lint import lint_paths

        return lint_paths(args.paths, args.specs or specs_dir())
    if args.command == "specs":
        import json

        from .spec.export import catalogue_json

        print(json.dumps(catalogue_json(_catalogue(args.specs)), indent=2))
        return 0
    if args.command == "report":
        from .reporting.html import build_report

        return build_report(args.reports or reports_dir(), project_root())
    return 2


def _catalogue(path: Path | None):  # type: ignore[no-untyped-def]
    from .spec.loader import SpecError, load_catalogue

    try:
        return load_catalogue(path or specs_dir())
    except SpecError as exc:
        print(f"mbconform: the spec catalogue has problems:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _serve(args: argparse.Namespace) -> int:
    from .reference.faults import FAMILIES, NAMED, UnknownFault, parse_fault
    from .reference.server import ReferenceAdapter, run

    if args.list_faults:
        for fault in NAMED.values():
            print(f"{fault.name:28} {fault.description}")
        for family, description in FAMILIES.items():
            print(f"{family:28} {description}")
        return 0
    from .core.simulate import FactError, parse_facts

    catalogue = _catalogue(args.specs)
    try:
        faults = [parse_fault(text, catalogue) for text in args.fault]
        facts = parse_facts(catalogue, args.fact)
        adapter = ReferenceAdapter(
            catalogue, test_control=args.test_control, faults=faults, platform=args.platform, facts=facts
        )
    except (UnknownFault, FactError) as exc:
        print(f"mbconform serve: {exc}", file=sys.stderr)
        return 2
    run(adapter, args.host, args.port)
    return 0


def _run(args: argparse.Namespace, pytest_args: list[str]) -> int:
    import pytest

    from .reference.process import AdapterStartError, RunningAdapter, start_reference

    reports = (args.reports or reports_dir()).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    adapter: RunningAdapter | None = None
    url = args.url
    if url is None:
        extra = ["--test-control", *[f"--fault={name}" for name in args.fault]]
        if args.specs:
            extra.append(f"--specs={args.specs}")
        try:
            adapter = start_reference(extra)
        except AdapterStartError as exc:
            print(f"mbconform run: {exc}", file=sys.stderr)
            return 2
        url = adapter.url
        print(f"mbconform: started the reference adapter at {url}", flush=True)
    root = project_root()
    specs = (args.specs or specs_dir()).resolve()
    # Against the embedded reference adapter: every set-up it is certified on; against a URL: one profile.
    profiles = args.profile or (reference_profiles() if args.url is None else [default_profile()])
    argv = [
        str(specs / "commands"),
        str(suites_dir() / "conformance"),
        f"--adapter-url={url}",
        *[f"--profile={profile}" for profile in profiles],
        f"--specs={specs}",
        f"--alluredir={reports / 'allure-results'}",
        "--clean-alluredir",
        f"--junitxml={reports / 'junit.xml'}",
        f"--rootdir={root}",
        "-p",
        "no:cacheprovider",
        *pytest_args,
    ]
    try:
        code = int(pytest.main(argv))
    finally:
        if adapter is not None:
            adapter.stop()
    if not args.no_html:
        from .reporting.html import build_report

        build_report(reports, root, quiet_if_missing=True)
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
