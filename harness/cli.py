"""The ``mbconform`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .paths import default_profile, project_root, reference_profiles, reports_dir, specs_dir, suites_dir

if TYPE_CHECKING:
    import ssl

    from .reference.process import RunningAdapter
    from .runner.transport import Transport


STOPPABLE = ("run", "fuzz", "selftest", "replay", "bench")


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] in ([name] for name in STOPPABLE):
        _stop_on_sigterm()  # first: a run stopped while it starts still writes its reports
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before a command wrote its reports (run and fuzz write theirs first)
        print("mbconform: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
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
    _connection_arguments(run)

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
        type=Path,
        action="append",
        default=None,
        help="the adapter's profile (repeatable); default: reference-generic and reference-incontact (with a "
        "URL: reference-generic)",
    )
    fuzz.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="with no URL: a reference fault"
    )
    fuzz.add_argument("--out", type=Path, default=None, help="where reproducers go (default: suites/regression/)")
    fuzz.add_argument("--database", type=Path, default=None, help="Hypothesis' example database folder (nightly)")
    fuzz.add_argument("--workers", type=int, default=None, help="parallel workers with pytest-xdist (nightly)")
    fuzz.add_argument("--reports", type=Path, default=None, help="where to write reports (default: reports/fuzz/)")
    fuzz.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    _connection_arguments(fuzz)

    replay = commands.add_parser("replay", help="run a fuzz reproducer (a scenario file) and say if it reproduces")
    replay.add_argument("file", type=Path, help="the scenario file (suites/regression/MB-FUZZ-....yaml)")
    replay.add_argument(
        "url", nargs="?", default=None, help="the adapter (default: the embedded reference adapter)"
    )
    replay.add_argument("--profile", type=Path, default=None, help="the adapter's profile (default: the file's)")
    replay.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    _connection_arguments(replay)

    cases = commands.add_parser("cases", help="list every test case: id, applicable or why not, title")
    cases.add_argument(
        "--profile",
        type=Path,
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
        type=Path,
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

    report = commands.add_parser("report", help="build the single-file HTML report from Allure results")
    report.add_argument("--reports", type=Path, default=None, help="the reports folder (default: reports/)")

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
        type=Path,
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
        "--profile", type=Path, default=None, help="the adapter's profile (default: reference-generic)"
    )
    bench.add_argument("--sessions", type=int, default=None, help="sessions at once (default: 50; --quick: 8)")
    bench.add_argument("--flood", type=int, default=None, help="events in the flood (default: 1,000,000)")
    bench.add_argument("--quick", action="store_true", help="a short run with small counts")
    bench.add_argument(
        "--cycle", type=Path, default=None, help="the bench cycle (default: suites/bench/cycle.yaml)"
    )
    bench.add_argument("--session-fault", default=None, metavar="NAME", help="run the sessions with this fault")
    bench.add_argument("--reports", type=Path, default=None, help="where to write (default: reports/bench/)")
    bench.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")

    discover = commands.add_parser("discover", help="observe an adapter's conventions and write a draft profile")
    discover.add_argument("url", help="the adapter's WebSocket URL (ws:// or wss://)")
    discover.add_argument("--profile", type=Path, default=None, help="a base profile (log-in, stimuli, commands)")
    discover.add_argument("--out", type=Path, default=None, help="the draft (default: ./mbconform-draft.yaml)")
    discover.add_argument(
        "--budget", type=float, default=60.0, help="seconds for the whole discovery (default: 60)"
    )
    discover.add_argument("--specs", type=Path, default=None, help="spec catalogue folder")
    _connection_arguments(discover)

    args, rest = parser.parse_known_args(argv)
    if args.command in STOPPABLE:
        _stop_on_sigterm()
    if args.command in ("run", "fuzz", "replay", "discover"):
        try:
            args.connection = _connection_options(args)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "fuzz":
        return _fuzz(args, rest, parser)
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
    if args.command == "cases":
        return _cases(args)
    if args.command == "requirements":
        from .traceability import run_cli as requirements_cli

        return requirements_cli(_catalogue(args.specs), args.profile, args.matrix, args.seeds, args.json)
    if args.command == "replay":
        from .fuzz.replay import run_cli as replay_cli

        return replay_cli(args.file, args.url, args.profile, _catalogue(args.specs), args.connection)
    if args.command == "discover":
        if not args.url.startswith(("ws://", "wss://")) or args.budget <= 0:
            parser.error(f"discover takes a ws:// or wss:// URL and a positive --budget, got {args.url}")
        from .discover import run_cli as discover_cli

        return discover_cli(args.url, args.profile, args.out, args.budget, _catalogue(args.specs), args.connection)
    if args.command == "selftest":
        return _selftest(args)
    if args.command == "bench":
        return _bench(args, parser)
    if args.command == "specs":
        import json

        from .spec.export import catalogue_json

        print(json.dumps(catalogue_json(_catalogue(args.specs)), indent=2))
        return 0
    if args.command == "report":
        from .reporting.html import build_report

        return build_report(args.reports or reports_dir(), project_root())
    return 2


def _stop_on_sigterm() -> None:
    """A CI job that is cancelled or times out gets SIGTERM, not Ctrl-C: stop the same way, so the tests that
    ended are reported (Allure results, JUnit, certificate) and the embedded reference adapter is stopped."""
    import signal

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def _connection_arguments(command: argparse.ArgumentParser) -> None:
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


def _connection_options(args: argparse.Namespace) -> Transport:
    """The command line's connection options, checked (ValueError names what is wrong)."""
    from .runner.transport import Transport, check_ca_bundle, parse_headers

    if args.insecure and args.ca_bundle is not None:
        raise ValueError("--insecure and --ca-bundle contradict each other: give one")
    return Transport(
        ca_bundle=check_ca_bundle(str(args.ca_bundle.resolve())) if args.ca_bundle is not None else None,
        insecure=args.insecure,
        headers=parse_headers(args.header),
        subprotocols=tuple(args.subprotocol),
    )


def _connection_pytest_args(transport: Transport) -> list[str]:
    """The command line's connection options as the pytest plugin's."""
    found = [f"--ca-bundle={transport.ca_bundle}"] if transport.ca_bundle else []
    found += ["--insecure"] if transport.insecure else []
    found += [f"--adapter-header={name}: {value}" for name, value in transport.headers]
    return found + [f"--adapter-subprotocol={name}" for name in transport.subprotocols]


def _catalogue(path: Path | None):  # type: ignore[no-untyped-def]
    from .spec.loader import SpecError, load_catalogue

    try:
        return load_catalogue(path or specs_dir())
    except SpecError as exc:
        print(f"mbconform: the spec catalogue has problems:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _serve(args: argparse.Namespace) -> int:
    from .reference.faults import UnknownFault, fault_listing, parse_fault
    from .reference.server import ReferenceAdapter, run

    if args.list_faults:
        print("\n".join(fault_listing()))
        return 0
    from .core.conventions import Conventions
    from .core.simulate import FactError, parse_facts
    from .runner.transport import TransportError, parse_headers
    from .spec.loader import SpecError
    from .suite import load_conventions

    try:
        required = parse_headers(args.require_header)
        tls = _server_tls(args.tls_cert, args.tls_key)
    except TransportError as exc:
        print(f"mbconform serve: {exc}", file=sys.stderr)
        return 2
    if not _loopback(args.host):
        print(
            f"mbconform serve: WARNING: {args.host} is not loopback: other machines reach the reference adapter"
            + (" and produce stimuli on it (--test-control)" if args.test_control else ""),
            file=sys.stderr,
            flush=True,
        )
    catalogue = _catalogue(args.specs)
    try:
        faults = [parse_fault(text, catalogue) for text in args.fault]
        facts = parse_facts(catalogue, args.fact)
        conventions = load_conventions(args.conventions, catalogue) if args.conventions else Conventions()
        adapter = ReferenceAdapter(
            catalogue,
            test_control=args.test_control,
            faults=faults,
            platform=args.platform,
            facts=facts,
            addressing=args.addressing,
            login=args.login,
            lab_http=args.lab_http,
            required_headers=required,
            subprotocols=tuple(args.subprotocol),
            conventions=conventions,
            events_first=args.events_first,
        )
    except (UnknownFault, FactError, SpecError) as exc:
        print(f"mbconform serve: {exc}", file=sys.stderr)
        return 2
    run(adapter, args.host, args.port, tls=tls)
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The reference adapter's TLS context (wss://), or None; TransportError names what is wrong."""
    import ssl

    from .runner.transport import TransportError

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TransportError("--tls-cert and --tls-key go together: give both")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise TransportError(f"{option} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(
            f"--tls-cert {cert} / --tls-key {key}: not a PEM certificate and its key ({exc})"
        ) from exc
    return context


def _run(args: argparse.Namespace, pytest_args: list[str]) -> int:
    reports = (args.reports or reports_dir()).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    written = _unfinished(reports, args.url)
    try:
        gate = _gate_options(args)  # before anything starts: a bad baseline is exit 2 with no test run
        if gate is None:
            return 2
        code = _run_tests(args, pytest_args, gate, reports)
    except KeyboardInterrupt:
        return _stopped("run", written)
    _settle(written)
    if not args.no_html:
        from .reporting.html import build_report

        build_report(reports, project_root(), quiet_if_missing=True)
    return code


def _unfinished(reports: Path, url: str | None, certificate: bool = True) -> list[Path]:
    """The reports of a run that has not ended, written before anything else (see reporting/unfinished.py)."""
    from .reporting.unfinished import write_unfinished

    return write_unfinished(reports, url, certificate)


def _settle(written: list[Path]) -> None:
    from .reporting.unfinished import settle

    settle(written)


def _stopped(command: str, written: list[Path]) -> int:
    """Stopped before pytest's session began (or after it ended): the reports of a run that has not ended stay."""
    import pytest

    from .reference.process import stop_started

    stop_started()
    print(f"mbconform {command}: interrupted before its first test ended; not certified", file=sys.stderr)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return int(pytest.ExitCode.INTERRUPTED)


def _run_tests(args: argparse.Namespace, pytest_args: list[str], gate: list[str], reports: Path) -> int:
    import pytest

    adapter: RunningAdapter | None = None
    url = args.url
    if url is None:
        adapter = _embedded_adapter(args, "run")
        if adapter is None:
            return 2
        url = adapter.url
    specs = (args.specs or specs_dir()).resolve()
    # Against the embedded reference adapter: every set-up it is certified on; against a URL: one profile.
    profiles = args.profile or (reference_profiles() if args.url is None else [default_profile()])
    argv = [
        *_pytest_argv([specs / "commands", suites_dir() / "conformance"], url, profiles, specs, reports),
        *_connection_pytest_args(args.connection),
        *(["--retry-setups"] if args.retry_setups else []),
        *(["--wait-out"] if args.wait_out else []),
        *gate,
        *pytest_args,
    ]
    try:
        return int(pytest.main(argv))
    finally:
        if adapter is not None:
            adapter.stop()


def _fuzz(args: argparse.Namespace, rest: list[str], parser: argparse.ArgumentParser) -> int:

    urls = [arg for arg in rest if "://" in arg and not arg.startswith("-")]
    if len(urls) > 1 or (urls and not urls[0].startswith(("ws://", "wss://"))):
        parser.error(f"fuzz takes one ws:// or wss:// adapter URL, got {urls}")
    url = urls[0] if urls else None
    if url and args.fault:
        parser.error("--fault makes the embedded reference adapter misbehave; it cannot apply to a URL")
    fuzz_file = Path(args.fuzz_profile)
    if not fuzz_file.suffix:
        fuzz_file = suites_dir() / "fuzz" / f"{args.fuzz_profile}.yaml"
    if not fuzz_file.is_file():
        known = ", ".join(sorted(p.stem for p in (suites_dir() / "fuzz").glob("*.yaml")))
        print(
            f"mbconform fuzz: no fuzz profile {args.fuzz_profile!r} (known: {known}, or a file)", file=sys.stderr
        )
        return 2
    from .fuzz.run import load_fuzz_profile
    from .spec.loader import SpecError

    try:
        workers = args.workers or load_fuzz_profile(fuzz_file).workers
    except SpecError as exc:
        print(f"mbconform fuzz: the fuzz profile has problems:\n{exc}", file=sys.stderr)
        return 2
    reports = (args.reports or reports_dir() / "fuzz").resolve()
    reports.mkdir(parents=True, exist_ok=True)
    written = _unfinished(reports, url, certificate=False)
    try:
        code = _fuzz_tests(args, rest, url, fuzz_file, workers, reports)
    except KeyboardInterrupt:
        return _stopped("fuzz", written)
    _settle(written)
    return code


def _fuzz_tests(
    args: argparse.Namespace, rest: list[str], url: str | None, fuzz_file: Path, workers: int, reports: Path
) -> int:
    import pytest

    urls = [arg for arg in rest if "://" in arg and not arg.startswith("-")]
    adapter: RunningAdapter | None = None
    if url is None:
        adapter = _embedded_adapter(args, "fuzz")
        if adapter is None:
            return 2
        url = adapter.url
    profiles = args.profile or (
        [suites_dir() / "profiles" / f"reference-{name}.yaml" for name in ("generic", "incontact")]
        if adapter is not None
        else [default_profile()]
    )
    specs = (args.specs or specs_dir()).resolve()
    argv = [
        *_pytest_argv([fuzz_file.resolve()], url, profiles, specs, reports),
        *_connection_pytest_args(args.connection),
        *[f"--fuzz-adapter-option=fault={name}" for name in args.fault],
    ]
    if args.budget is not None:
        argv.append(f"--fuzz-budget={args.budget}")
    if args.out is not None:
        argv.append(f"--fuzz-out={args.out.resolve()}")
    if args.database is not None:
        argv.append(f"--fuzz-database={args.database.resolve()}")
    if args.workers is not None:
        argv.append(f"--fuzz-workers={args.workers}")
    if workers > 1:
        argv += ["-n", str(workers)]
    argv += [arg for arg in rest if arg not in urls]
    try:
        code = int(pytest.main(argv))
    finally:
        if adapter is not None:
            adapter.stop()
    return code


def _pytest_argv(paths: list[Path], url: str, profiles: list[Path], specs: Path, reports: Path) -> list[str]:
    """The pytest arguments ``run`` and ``fuzz`` share: what to collect, the adapter, its profiles, the
    catalogue, and where the Allure results, JUnit file and reports go."""
    return [
        *(str(path) for path in paths),
        f"--adapter-url={url}",
        *[f"--profile={profile}" for profile in profiles],
        f"--specs={specs}",
        f"--alluredir={reports / 'allure-results'}",
        "--clean-alluredir",
        f"--junitxml={reports / 'junit.xml'}",
        f"--reports-dir={reports}",
        f"--rootdir={project_root()}",
        "-p",
        "no:cacheprovider",
    ]


def _embedded_adapter(args: argparse.Namespace, command: str) -> RunningAdapter | None:
    """Start the embedded reference adapter (test control, lab HTTP, the asked faults); None if it cannot."""
    from .reference.process import AdapterStartError, start_reference

    extra = ["--test-control", "--lab-http", *[f"--fault={name}" for name in args.fault]]
    if args.specs:
        extra.append(f"--specs={args.specs}")
    try:
        adapter = start_reference(extra)
    except AdapterStartError as exc:
        print(f"mbconform {command}: {exc}", file=sys.stderr)
        return None
    print(f"mbconform: started the reference adapter at {adapter.url}", flush=True)
    return adapter


def _gate_options(args: argparse.Namespace) -> list[str] | None:
    """The baseline options for pytest; None (after saying why) if the baseline cannot be read or the
    baseline to write is a folder."""
    from .reporting.baseline import BaselineError, load_baseline

    options = []
    if args.baseline is not None:
        try:
            load_baseline(args.baseline)
        except BaselineError as exc:
            print(f"mbconform run: {exc}", file=sys.stderr)
            return None
        options.append(f"--baseline={args.baseline.resolve()}")
    if args.write_baseline is not None:
        if args.write_baseline.is_dir():
            print(f"mbconform run: --write-baseline {args.write_baseline}: a folder, not a file", file=sys.stderr)
            return None
        options.append(f"--write-baseline={args.write_baseline.resolve()}")
    return options


def _cases(args: argparse.Namespace) -> int:
    """Every test case of the catalogue and the call flows, per profile, as ``run`` would collect them."""
    import json

    from .cases import command_cases, scenario_case
    from .spec.loader import SpecError
    from .suite import load_profile, load_scenario

    catalogue = _catalogue(args.specs)
    try:
        profiles = [load_profile(path, catalogue) for path in args.profile or reference_profiles()]
        paths = sorted((suites_dir() / "conformance").rglob("*.yaml"))
        scenarios = [load_scenario(path, catalogue) for path in paths]
    except SpecError as exc:
        print(f"mbconform cases: the profiles or scenarios have problems:\n{exc}", file=sys.stderr)
        return 2
    listed = []
    for profile in profiles:
        cases = command_cases(catalogue, profile) + [scenario_case(s, profile) for s in scenarios]
        listed.append((profile, cases))
    if args.json:
        print(
            json.dumps(
                {
                    "catalogue_version": catalogue.version,
                    "profiles": [
                        {
                            "name": profile.name,
                            "file": profile.file,
                            "platform": profile.platform,
                            "cases": [
                                {
                                    "id": case.id,
                                    "title": case.title,
                                    "level": case.level,
                                    "feature": case.feature,
                                    "story": case.story,
                                    "applicable": case.applicable,
                                    "why_not": case.why_not,
                                    "markers": list(case.markers),
                                    "ref": str(case.ref),
                                }
                                for case in cases
                            ],
                        }
                        for profile, cases in listed
                    ],
                },
                indent=2,
            )
        )
        return 0
    for profile, cases in listed:
        applicable = sum(case.applicable for case in cases)
        print(f"# profile {profile.name} ({profile.file}, platform {profile.platform}): ", end="")
        print(f"{len(cases)} cases, {applicable} applicable")
        width = max((len(case.id) for case in cases), default=0)
        for case in cases:
            status = "applicable" if case.applicable else f"n/a: {case.why_not}"
            print(f"{case.id:{width}}  {status}  {case.title}")
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from .selftest import run_cli

    return run_cli(
        _catalogue(args.specs),
        args.profile or reference_profiles(),
        args.fault,
        quick=args.quick,
        json_path=args.json,
        specs=args.specs,
        step_timeout=args.step_timeout,
        concurrency=args.concurrency,
    )


def _bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from dataclasses import replace

    from .bench.run import FULL, QUICK, BenchOptions, run_cli

    if args.url is not None and not args.url.startswith(("ws://", "wss://")):
        parser.error(f"the adapter URL must be ws:// or wss://, got {args.url}")
    if (args.sessions is not None and args.sessions < 1) or (args.flood is not None and args.flood < 1):
        parser.error("--sessions and --flood must be at least 1")
    sizes = QUICK if args.quick else FULL
    sizes = replace(sizes, sessions=args.sessions or sizes.sessions, flood=args.flood or sizes.flood)
    catalogue = _catalogue(args.specs)
    adapter = None if args.url else _embedded_adapter(argparse.Namespace(fault=[], specs=args.specs), "bench")
    url = adapter.url if adapter is not None else args.url
    if url is None:
        return 2
    options = BenchOptions(
        url=url,
        embedded=adapter is not None,
        profile=(args.profile or default_profile()).resolve(),
        specs=(args.specs or specs_dir()).resolve(),
        cycle=(args.cycle or suites_dir() / "bench" / "cycle.yaml").resolve(),
        reports=(args.reports or reports_dir() / "bench").resolve(),
        sizes=sizes,
        quick=args.quick,
        session_fault=args.session_fault,
    )
    try:
        return run_cli(catalogue, options)
    finally:
        if adapter is not None:
            adapter.stop()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
