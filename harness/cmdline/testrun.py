"""``mbconform run`` and ``mbconform fuzz``: the options checked, the adapter started if none is given, then
pytest with the plugin; pytest's exit status under the contract of ``cmdline/exits.py``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..paths import default_profile, project_root, reference_profiles, reports_dir, specs_dir, suites_dir
from .common import connection_pytest_args
from .exits import Exit, from_pytest
from .parser import PROGRESS_SECONDS

if TYPE_CHECKING:
    from ..reference.process import RunningAdapter


class _Outcome:
    """A plugin of this run only: whether the adapter could not be reached (plugin/preflight.py)."""

    def __init__(self) -> None:
        self.config: Any = None
        self.collection_failed = False  # a file could not be collected (a scenario with problems)

    def pytest_configure(self, config: Any) -> None:
        self.config = config

    def pytest_collectreport(self, report: Any) -> None:
        self.collection_failed = self.collection_failed or bool(report.failed)

    def unreachable(self) -> bool:
        from ..plugin.pytest_plugin import CONTEXT

        context = self.config.stash.get(CONTEXT, None) if self.config is not None else None
        return context is not None and context.unreachable is not None


def _pytest_main(argv: list[str]) -> int:
    import pytest

    outcome = _Outcome()
    code = int(pytest.main(argv, plugins=[outcome]))
    if code == pytest.ExitCode.INTERRUPTED and outcome.collection_failed:
        return int(Exit.USAGE)  # pytest stops after a collection error: an input file with problems, not Ctrl-C
    return from_pytest(code, unreachable=code == 3 and outcome.unreachable())


def _profiles_load(command: str, specs: Path, profiles: list[Path], faults: list[str]) -> bool:
    """Every profile (and every --fault) read before anything starts: a bad one is exit 2, with its
    ``file:line`` problems."""
    from ..reference.faults import UnknownFault, parse_fault
    from ..spec.loader import SpecError, load_catalogue
    from ..suite import load_profile

    try:
        catalogue = load_catalogue(specs)
        for path in profiles:
            load_profile(path, catalogue)
        for name in faults:
            parse_fault(name, catalogue)
    except SpecError as exc:
        print(f"mbconform {command}: the specs or the profiles have problems:\n{exc}", file=sys.stderr)
        return False
    except UnknownFault as exc:
        print(f"mbconform {command}: {exc}", file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace, pytest_args: list[str]) -> int:
    reports = (args.reports or reports_dir()).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    written = _unfinished(reports, args.url)
    try:
        gate = _gate_options(args)  # before anything starts: a bad baseline is exit 2 with no test run
        if gate is None:
            _settle(written)
            return int(Exit.USAGE)
        code = _run_tests(args, pytest_args, gate, reports)
    except KeyboardInterrupt:
        return _stopped("run", written)
    _settle(written)
    if not args.no_html and code in (Exit.CONFORMS, Exit.MUST_FAILED):
        from ..reporting.html import build_report

        build_report(reports, project_root(), quiet_if_missing=True)
    return code


def _unfinished(reports: Path, url: str | None, certificate: bool = True) -> list[Path]:
    """The reports of a run that has not ended, written before anything else (see reporting/unfinished.py)."""
    from ..reporting.unfinished import write_unfinished

    return write_unfinished(reports, url, certificate)


def _settle(written: list[Path]) -> None:
    from ..reporting.unfinished import settle

    settle(written)


def _stopped(command: str, written: list[Path]) -> int:
    """Stopped before pytest's session began (or after it ended): the reports of a run that has not ended stay."""
    from ..reference.process import stop_started

    stop_started()
    print(f"mbconform {command}: interrupted before its first test ended; not certified", file=sys.stderr)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return int(Exit.INTERRUPTED)


def _run_tests(args: argparse.Namespace, pytest_args: list[str], gate: list[str], reports: Path) -> int:
    specs = (args.specs or specs_dir()).resolve()
    # Against the embedded reference adapter: every set-up it is certified on; against a URL: one profile.
    profiles = args.profile or (reference_profiles() if args.url is None else [default_profile()])
    if not _profiles_load("run", specs, profiles, args.fault):
        return int(Exit.USAGE)
    adapter: RunningAdapter | None = None
    url = args.url
    if url is None:
        adapter = embedded_adapter(args, "run")
        if adapter is None:
            return int(Exit.UNREACHABLE)
        url = adapter.url
    argv = [
        *_pytest_argv([specs / "commands", suites_dir() / "conformance"], url, profiles, specs, reports),
        *connection_pytest_args(args.connection),
        *gate,
        *(["--case-progress"] if args.case_progress else []),
        *(["--retry-setups"] if args.retry_setups else []),
        *(["--wait-out"] if args.wait_out else []),
        *pytest_args,
    ]
    try:
        return _pytest_main(argv)
    finally:
        if adapter is not None:
            adapter.stop()


def fuzz(args: argparse.Namespace, rest: list[str]) -> int:
    url = args.url
    fuzz_file = Path(args.fuzz_profile)
    if not fuzz_file.suffix:
        fuzz_file = suites_dir() / "fuzz" / f"{args.fuzz_profile}.yaml"
    if not fuzz_file.is_file():
        known = ", ".join(sorted(p.stem for p in (suites_dir() / "fuzz").glob("*.yaml")))
        print(
            f"mbconform fuzz: no fuzz profile {args.fuzz_profile!r} (known: {known}, or a file)", file=sys.stderr
        )
        return int(Exit.USAGE)
    from ..fuzz.run import load_fuzz_profile
    from ..spec.loader import SpecError

    try:
        workers = args.workers or load_fuzz_profile(fuzz_file).workers
    except SpecError as exc:
        print(f"mbconform fuzz: the fuzz profile has problems:\n{exc}", file=sys.stderr)
        return int(Exit.USAGE)
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
    profiles = args.profile or (
        [suites_dir() / "profiles" / f"reference-{name}.yaml" for name in ("generic", "incontact")]
        if url is None
        else [default_profile()]
    )
    specs = (args.specs or specs_dir()).resolve()
    if not _profiles_load("fuzz", specs, profiles, args.fault):
        return int(Exit.USAGE)
    adapter: RunningAdapter | None = None
    if url is None:
        adapter = embedded_adapter(args, "fuzz")
        if adapter is None:
            return int(Exit.UNREACHABLE)
        url = adapter.url
    argv = [
        *_pytest_argv([fuzz_file.resolve()], url, profiles, specs, reports),
        *connection_pytest_args(args.connection),
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
    progress = _fuzz_progress(args.progress, fuzz_file)
    if progress:
        argv.append(f"--fuzz-progress={progress}")
    if workers > 1:
        argv += ["-n", str(workers)]
    argv += rest
    try:
        code = _pytest_main(argv)
    finally:
        if adapter is not None:
            adapter.stop()
    return code


def _fuzz_progress(asked: float | None, fuzz_file: Path) -> float:
    """The status line's interval: as asked, else on for a random (nightly) run on a terminal outside CI."""
    if asked is not None:
        return max(asked, 0.0)
    import os

    from ..fuzz.run import load_fuzz_profile

    quiet = os.environ.get("CI") or not sys.stderr.isatty() or load_fuzz_profile(fuzz_file).derandomize
    return 0.0 if quiet else PROGRESS_SECONDS


def _pytest_argv(paths: list[Path], url: str, profiles: list[Path], specs: Path, reports: Path) -> list[str]:
    """The pytest arguments ``run`` and ``fuzz`` share: what to collect, the adapter, its profiles, the
    catalogue, and where the Allure results, JUnit file and reports go."""
    return [
        *(str(path) for path in paths),
        f"--adapter-url={url}",
        *[f"--profile={profile}" for profile in profiles],
        f"--specs={specs}",
        f"--alluredir={reports / 'allure-results'}",  # cleared of an earlier run's results only (unfinished.py)
        f"--junitxml={reports / 'junit.xml'}",
        f"--reports-dir={reports}",
        f"--rootdir={project_root()}",
        "-p",
        "no:cacheprovider",
    ]


def embedded_adapter(args: argparse.Namespace, command: str) -> RunningAdapter | None:
    """Start the embedded reference adapter (test control, lab HTTP, the asked faults); None if it cannot."""
    from ..reference.process import AdapterStartError, start_reference

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
    from ..reporting.baseline import BaselineError, load_baseline

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
