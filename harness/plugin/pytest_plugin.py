"""The pytest plugin: collects generated command tests and scenario files and runs them against an IUT.

Active only when ``--adapter-url`` is given, so it never touches an unrelated pytest run. Command spec
files (``specs/commands/*.yaml``) become one item per generated case; scenario files (format
``mbconform/scenario/1``) become one item each. Items carry markers by level, command and path, so
``-m conversation`` or ``-m "channel_dial and success"`` select them.

At the end of a session it writes the certificate (``certificate.md``/``.json``) into the reports folder,
and with ``--baseline`` compares the verdicts with an accepted baseline: the exit status then says whether a
test newly fails a MUST, not whether any test fails (see :mod:`harness.reporting.baseline`).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from .. import __version__
from ..cases import EXTRA_MARKER, TestCase, command_cases, scenario_case
from ..core.redact import Redactor, header_secrets, url_secrets
from ..core.results import FlowResult
from ..core.runevents import Listener, no_listener
from ..core.shown import SHOWN_CHARS, TEXT_CHARS, printable, shown
from ..core.violations import Verdict
from ..paths import default_profile, reports_dir, specs_dir
from ..reporting.baseline import Baseline, BaselineDiff, BaselineError, ProfileInfo, load_baseline
from ..runner.flow import run_flow
from ..runner.settings import Settings
from ..runner.setups import FailedSetups
from ..runner.transport import INSECURE_WARNING, Transport, TransportError, check_ca_bundle, parse_headers
from ..spec.catalogue import Catalogue
from ..spec.loader import SpecError, load_catalogue
from ..suite import Profile, load_profile, load_scenario
from . import fuzz_options
from .preflight import UNREACHABLE_STATUS
from .summary import RunSummary

SCENARIO_FORMAT = "mbconform/scenario/1"


@dataclass
class Context:
    url: str
    catalogue: Catalogue
    profiles: list[Profile]
    allure_dir: Path | None
    summary: RunSummary
    reports: Path = field(default_factory=reports_dir)
    baseline: Baseline | None = None
    baseline_file: Path | None = None
    write_baseline: Path | None = None
    diff: BaselineDiff | None = None
    transport: Transport = field(default_factory=Transport)  # the command line's connection options
    written: list[Path] = field(default_factory=list)  # report files this session wrote, for the summary
    end_lines: list[str] = field(default_factory=list)  # for the summary: the certificate, report problems
    unreachable: str | None = None  # why the adapter could not be tested at all (plugin/preflight.py)
    _cases: dict[str, list[TestCase]] = field(default_factory=dict)
    _scenario_cases: dict[str, dict[str, TestCase]] = field(default_factory=dict)  # profile -> id -> case
    retry_setups: bool = False  # --retry-setups: no set-up step is skipped for having failed before
    wait_out: bool = False  # --wait-out: every step waits to its end, even with its verdict certain
    _failed_setups: dict[str, FailedSetups] = field(default_factory=dict)  # per profile, in this process

    def failed_setups(self, profile: Profile) -> FailedSetups | None:
        """The set-up steps that failed for ``profile`` in this process (None: --retry-setups)."""
        if self.retry_setups:
            return None
        return self._failed_setups.setdefault(profile.name, FailedSetups())

    def command_cases(self, profile: Profile) -> list[TestCase]:
        """The generated cases, computed once per run and profile (finding them simulates the catalogue)."""
        if profile.name not in self._cases:
            self._cases[profile.name] = command_cases(self.catalogue, profile)
        return self._cases[profile.name]

    def url_for(self, profile: Profile) -> str:
        """The adapter URL with the profile's connection parameters (for example the reference adapter's
        ``platform=``)."""
        if not profile.connect_params:
            return self.url
        joiner = "&" if "?" in self.url else "?"
        return self.url + joiner + urlencode(dict(profile.connect_params))

    def settings_for(self, profile: Profile) -> Settings:
        """The profile's settings with the command line's connection options over its own; its redactor also
        knows the command line's header values and the adapter URL's credentials (and ``--wait-out``)."""
        settings = profile.settings(self.transport, self.url)
        return replace(settings, wait_out=True) if self.wait_out else settings

    def own_secrets(self) -> Redactor:
        return Redactor(header_secrets(self.transport.headers) + url_secrets(self.url))

    @functools.cached_property
    def redactor(self) -> Redactor:
        """The run-wide redactor (every profile's secrets): for the adapter URL and whatever reports show."""
        redactor = self.own_secrets()
        for profile in self.profiles:
            redactor = redactor.merged(profile.redactor())
        return redactor

    def shown_url(self, url: str | None = None) -> str:
        """The adapter URL as reports show it: credentials redacted."""
        return self.redactor.url(url or self.url)

    def item_name(self, case: TestCase, profile: Profile) -> str:
        """The test id pytest prints: a profile's name (or a scenario's id) is the file's, shown escaped."""
        name = case.id if len(self.profiles) == 1 else f"{case.id}[{profile.name}]"
        return shown(name, SHOWN_CHARS)

    def collected_scenario(self, case: TestCase, profile: Profile) -> None:
        self._scenario_cases.setdefault(profile.name, {})[case.id] = case

    def all_cases(self, profile: Profile) -> list[TestCase]:
        """Every case of the profile, run or deselected: the generated ones and the collected call flows."""
        return self.command_cases(profile) + list(self._scenario_cases.get(profile.name, {}).values())

    def profile_infos(self) -> list[ProfileInfo]:
        return [ProfileInfo(p.name, p.file, p.platform) for p in self.profiles]


CONTEXT = pytest.StashKey[Context]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mbconform", "media bar conformance")
    group.addoption("--adapter-url", default=None, help="WebSocket URL of the adapter under test")
    group.addoption(
        "--profile",
        action="append",
        default=None,
        help="the adapter's profile (YAML); repeat to run the suite once per profile; default: the reference's",
    )
    group.addoption("--specs", default=None, help="the spec catalogue folder (default: the project's specs/)")
    group.addoption(
        "--reports-dir", default=None, help="where the certificate and the baseline diff go (default: reports/)"
    )
    group.addoption(
        "--baseline",
        default=None,
        metavar="FILE",
        help="compare with this accepted baseline: fail only when a test newly fails a MUST",
    )
    group.addoption(
        "--write-baseline", default=None, metavar="FILE", help="record this run's verdicts as a baseline"
    )
    group.addoption(
        "--ca-bundle", default=None, metavar="FILE", help="PEM file of the CAs that sign the adapter's certificate"
    )
    group.addoption(
        "--insecure", action="store_true", default=False, help="wss:// without certificate verification"
    )
    group.addoption(
        "--adapter-header",
        action="append",
        default=[],
        metavar="NAME: VALUE",
        help="a header for the WebSocket handshake (repeatable); its value never appears in reports",
    )
    group.addoption(
        "--adapter-subprotocol",
        action="append",
        default=[],
        metavar="NAME",
        help="a subprotocol to offer in the WebSocket handshake (repeatable)",
    )
    group.addoption(
        "--case-progress",
        action="store_true",
        default=False,
        help="print each case's id, title and verdict as it ends",
    )
    group.addoption(
        "--retry-setups",
        action="store_true",
        default=False,
        help="run every case's set-up, even a set-up step that already failed from the same situation in this run "
        "(default: such a case is inconclusive at once, naming the case where the step failed)",
    )
    group.addoption(
        "--wait-out",
        action="store_true",
        default=False,
        help="wait every step to its end even once what arrived makes its verdict certain (slower; to compare)",
    )
    fuzz_options.add_options(group)


def pytest_configure(config: pytest.Config) -> None:
    url = config.getoption("adapter_url")
    if not url:
        return
    try:
        catalogue = load_catalogue(Path(config.getoption("specs") or specs_dir()))
        profiles = [load_profile(Path(p), catalogue) for p in config.getoption("profile") or [default_profile()]]
    except SpecError as exc:  # exit 2, as every command that refuses an input file (not pytest's usage error)
        pytest.exit(f"mbconform: the specs or the profile have problems:\n{exc}", returncode=2)
    try:
        ca_bundle = config.getoption("ca_bundle")
        transport = Transport(
            ca_bundle=check_ca_bundle(str(Path(ca_bundle).resolve())) if ca_bundle else None,
            insecure=bool(config.getoption("insecure")),
            headers=parse_headers(config.getoption("adapter_header")),
            subprotocols=tuple(config.getoption("adapter_subprotocol")),
        )
    except TransportError as exc:
        raise pytest.UsageError(f"mbconform: {exc}") from exc
    worker = hasattr(config, "workerinput")
    tls = str(config.getoption("adapter_url") or "").lower().startswith("wss://")
    if (
        tls
        and not worker
        and (transport.insecure or any(p.transport.insecure and not ca_bundle for p in profiles))
    ):
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    names = [profile.name for profile in profiles]
    if len(set(names)) != len(names):
        raise pytest.UsageError(f"mbconform: two profiles have the same name: {names}")
    baseline_file = config.getoption("baseline")
    baseline = None
    if baseline_file:
        try:
            baseline = load_baseline(Path(baseline_file))
        except BaselineError as exc:
            pytest.exit(f"mbconform: {exc}", returncode=2)
    allure_dir = config.getoption("allure_report_dir", None)
    reports = config.getoption("reports_dir")
    write_to = config.getoption("write_baseline")
    config.stash[CONTEXT] = Context(
        url,
        catalogue,
        profiles,
        Path(allure_dir) if allure_dir else None,
        RunSummary(),
        reports=Path(reports) if reports else reports_dir(),
        baseline=baseline,
        baseline_file=Path(baseline_file) if baseline_file else None,
        write_baseline=Path(write_to) if write_to else None,
        transport=transport,
        retry_setups=bool(config.getoption("retry_setups")),
        wait_out=bool(config.getoption("wait_out")),
    )
    from .ci import CiOutputs

    config.pluginmanager.register(CiOutputs(config.stash[CONTEXT], config), "mbconform-ci-outputs")
    for level in catalogue.levels:
        config.addinivalue_line("markers", f"{level}: tests of {level}-level commands")
    for command in catalogue.commands.values():
        config.addinivalue_line("markers", f"{command.marker}: tests of {command.name}")
    for profile in profiles:
        for command in profile.conventions.extras.commands.values():
            config.addinivalue_line("markers", f"{command.marker}: tests of {command.name} (declared extra)")
    for marker, text in (
        ("success", "the command succeeds from a legal state"),
        ("unknown_target", "the command fails for a target that does not exist"),
        ("invalid_data", "the command fails for data its schema rejects"),
        ("illegal_state", "the command fails from a state where it is not legal"),
        ("outcome", "a needinfo, a failure that changes state, or another outcome the spec names"),
        ("scenario", "call flows from suites/"),
        (EXTRA_MARKER, "the commands and stimuli a profile declares as the adapter's own (conventions.extra_*)"),
        ("fuzz", "Hypothesis-driven fuzzing (a fuzz profile file: suites/fuzz/)"),
        ("fuzz_messages", "message-level fuzzing: malformed and invalid frames"),
        ("fuzz_flows", "stateful fuzzing: random call flows"),
    ):
        config.addinivalue_line("markers", f"{marker}: {text}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    context = parent.config.stash.get(CONTEXT, None)
    if context is None or file_path.suffix != ".yaml":
        return None
    if file_path.parent.resolve() == (context.catalogue.root / "commands").resolve():
        return CommandFile.from_parent(parent, path=file_path)
    with file_path.open("rb") as stream:  # only the head: the file is read within limits when it is loaded
        head = stream.read(2000).decode("utf-8", errors="replace")
    if SCENARIO_FORMAT in head:
        return ScenarioFile.from_parent(parent, path=file_path)
    if fuzz_options.is_fuzz_file(head):
        from . import fuzz_items  # Hypothesis, only for a fuzz profile

        return fuzz_items.FuzzFile.from_parent(parent, path=file_path)
    return None


class CommandFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        context = self.config.stash[CONTEXT]
        name = self.path.stem
        if name not in context.catalogue.commands:
            return
        # a profile's declared extras have no spec file: their cases come with the catalogue's first command's
        home = name == min(context.catalogue.commands)
        for profile in context.profiles:
            for case in context.command_cases(profile):
                if case.feature == name or (home and case.feature not in context.catalogue.commands):
                    yield CaseItem.from_parent(
                        self, name=context.item_name(case, profile), case=case, profile=profile
                    )


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        context = self.config.stash[CONTEXT]
        try:
            scenario = load_scenario(self.path, context.catalogue)
        except SpecError as exc:
            raise pytest.UsageError(f"mbconform: scenario file problems:\n{exc}") from exc
        for profile in context.profiles:
            case = scenario_case(scenario, profile)
            context.collected_scenario(case, profile)
            yield CaseItem.from_parent(self, name=context.item_name(case, profile), case=case, profile=profile)


class CaseItem(pytest.Item):
    def __init__(self, *, case: TestCase, profile: Profile, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.profile = profile
        self.result: FlowResult | None = None
        for marker in case.markers:
            self.add_marker(marker)
        self.extra_keyword_matches.update({case.feature, case.story})

    def runtest(self) -> None:
        context = self.config.stash[CONTEXT]
        case, profile = self.case, self.profile
        url = context.url_for(profile)
        listener: Listener = no_listener
        reporter: Any = None
        if context.allure_dir is not None:
            from ..reporting import allure_report as reporter

            address = context.shown_url(url)
            listener = reporter.start_test(case.info, address, profile.name, several=len(context.profiles) > 1)
        test_id = self.name
        if not case.applicable:
            if reporter is not None:
                reporter.not_applicable(case.why_not)
            context.summary.record(case, profile.name, Verdict.PASS, skipped=True, test_id=test_id)
            self._properties(context)
            pytest.skip(f"not applicable: {case.why_not}")
        result = None
        try:
            result = asyncio.run(
                run_flow(
                    case.flow,
                    url=url,
                    catalogue=context.catalogue,
                    settings=context.settings_for(profile),
                    listener=listener,
                    setups=context.failed_setups(profile),
                    case=test_id,
                )
            )
        except Exception as exc:  # our bug: the baseline and the certificate still see this test, as an error
            reason = f"harness: {shown(exc, TEXT_CHARS)}"
            context.summary.record(case, profile.name, Verdict.ERROR, test_id=test_id, reason=reason)
            self._properties(context)
            raise
        finally:
            if reporter is not None:
                reporter.finish_test(listener, case.info, result)
        self.result = result
        context.summary.record(case, profile.name, result.verdict, test_id=test_id, result=result)
        self._properties(context)
        from ..reporting.verdicts import raise_for

        if result.verdict == Verdict.INCONCLUSIVE:
            pytest.skip(f"INCONCLUSIVE: {printable(result.reason, TEXT_CHARS)}")
        if result.verdict == Verdict.WARN:
            for _, violation in result.violations:
                warnings.warn(f"{case.id}: {violation}", stacklevel=1)
        raise_for(case.id, case.title, result)

    def _properties(self, context: Context) -> None:
        """What JUnit and the progress lines show of the case (harness/reporting/ci_outputs.py)."""
        from ..reporting.ci_outputs import case_properties

        record = context.summary.records[self.name]
        self.user_properties.extend(
            case_properties(record.case_id, record.title, record.verdict, record.categories)
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from ..reporting.verdicts import AdapterError, ConformanceFailure

        if isinstance(excinfo.value, ConformanceFailure | AdapterError):
            return printable(str(excinfo.value))
        # our own bug, whose message may quote the adapter: its text escaped for the terminal (issue 15)
        return printable(str(super().repr_failure(excinfo)))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.case.ref.line - 1, 0), shown(f"{self.case.id} {self.case.title}", TEXT_CHARS)


@pytest.hookimpl(trylast=True)  # after -k and -m deselected: only the profiles of the tests that run
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    context = config.stash.get(CONTEXT, None)
    if context is None or hasattr(config, "workerinput") or config.option.collectonly or session.testsfailed:
        return  # (a collection error: pytest stops before the first test anyway)
    if not any(not isinstance(item, CaseItem) or item.case.applicable for item in items):
        return  # only cases that are not applicable: nothing talks to the adapter
    from . import preflight

    context.unreachable = preflight.first_problem(context, items)
    if context.unreachable is not None:
        preflight.replace_items(session, config, items, context.unreachable)
        context.end_lines.append(f"mbconform: {context.unreachable}; no test ran (exit 3)")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Once every plugin is configured: Allure's writer guarded, so a result it cannot encode (a lone surrogate
    the adapter sent) is a note in the summary, never an INTERNALERROR that stops the run (issue 15)."""
    context = session.config.stash.get(CONTEXT, None)
    if context is not None and context.allure_dir is not None:
        from ..reporting.allure_report import guard_writer

        guard_writer(context.end_lines)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    context = session.config.stash.get(CONTEXT, None)
    if context is None:
        return
    if context.unreachable is not None:  # one error, no test ran: nothing to certify
        session.exitstatus = UNREACHABLE_STATUS
        return
    worker = hasattr(session.config, "workerinput")  # a pytest-xdist worker: the controller writes the reports
    conformance = bool(context.summary.records) or context.baseline is not None or context.write_baseline
    if not session.config.option.collectonly and not worker and conformance:
        try:
            _write_run_reports(session, context, exitstatus)
        except OSError as exc:  # a report that cannot be written must not pass a CI gate silently
            context.end_lines.append(f"mbconform: cannot write the reports: {exc}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    if context.allure_dir is None:
        return
    from ..reporting.allure_report import write_run_files

    write_run_files(
        context.allure_dir,
        {
            "adapter.url": context.shown_url(),
            "profiles": ", ".join(f"{p.name} ({p.file}, platform {p.platform})" for p in context.profiles),
            "harness.version": __version__,
            "catalogue.version": context.catalogue.version,
        },
    )


def _write_run_reports(session: pytest.Session, context: Context, exitstatus: int) -> None:
    """The certificate always; with --baseline the comparison, which decides the exit status; with
    --write-baseline this run as a baseline (written after the comparison, so both may name one file)."""
    from ..reporting import baseline as gate
    from ..reporting.certificate import Certificate, certify_profile, write_certificate

    certificate = Certificate(
        context.shown_url(),
        __version__,
        context.catalogue.version,
        datetime.now(UTC).isoformat(timespec="seconds"),
        tuple(
            certify_profile(
                context.catalogue,
                profile,
                context.shown_url(context.url_for(profile)),
                context.all_cases(profile),
                context.summary.outcomes(profile.name),
            )
            for profile in context.profiles
        ),
        interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
    )
    context.written.extend(write_certificate(context.reports, certificate))
    context.end_lines.extend(certificate.lines())
    verdicts = context.summary.verdicts()
    if context.baseline is not None and context.baseline_file is not None:
        context.diff = gate.compare(
            context.baseline,
            verdicts,
            baseline_file=str(context.baseline_file),
            harness_version=__version__,
            catalogue_version=context.catalogue.version,
            profiles=context.profile_infos(),
        )
        context.written.extend(gate.write_diff(context.reports, context.diff))
        unaccounted = session.testsfailed > context.summary.failing_tests
        session.exitstatus = gate.gate_status(int(exitstatus), context.diff, unaccounted)
    else:
        gate.remove_stale_diff(context.reports)
    if context.write_baseline is not None and exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        context.end_lines.append(f"not writing the baseline {context.write_baseline}: the run did not complete")
    elif context.write_baseline is not None:
        gate.write_baseline(
            context.write_baseline,
            Baseline(__version__, context.catalogue.version, tuple(context.profile_infos()), verdicts),
        )
        context.written.append(context.write_baseline)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    context = config.stash.get(CONTEXT, None)
    if context is None:
        return
    terminalreporter.write_sep("=", "mbconform")
    for line in context.summary.lines(context.shown_url()):
        terminalreporter.write_line(printable(line))
    for line in context.end_lines:
        terminalreporter.write_line(printable(line))
    if context.diff is not None:
        for line in context.diff.lines():
            terminalreporter.write_line(printable(line))
    for path in context.written:
        terminalreporter.write_line(f"wrote {path}")
