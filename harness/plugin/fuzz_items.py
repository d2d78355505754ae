"""Fuzz tests as pytest items: a fuzz profile file (format ``mbconform/fuzz/1``) collects, per adapter
profile, ``MB-FUZZ-MESSAGES`` (malformed and invalid frames, valid requests with any data their schema
allows) and ``MB-FUZZ-FLOWS`` (stateful call flows), marked ``fuzz`` (``-m fuzz`` selects them, ``-m "not
fuzz"`` skips them). With several workers the flows item is repeated, one per worker, for pytest-xdist.

A finding is shrunk by Hypothesis, written as a scenario file (``--fuzz-out``, default
``suites/regression/``), replayed at once with the report's listener (so the report shows the minimal flow
step by step, with its transcript, and says whether the replay reproduces it), and fails the item.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ..core.runevents import CaseInfo, Listener, no_listener
from ..core.shown import SHOWN_CHARS, printable, shown
from ..core.steps import Step
from ..fuzz.run import KINDS, FuzzOutcome, FuzzProfile, fuzz, load_fuzz_profile
from ..paths import regression_dir
from ..runner.flow import Flow, run_flow
from ..spec.loader import SpecError
from ..suite import Profile

TITLES = {
    "messages": "malformed and invalid frames, and valid requests with any data, get the catalogue's answer",
    "flows": "random call flows of the declared commands and stimuli pass every check",
}


class FuzzFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from .pytest_plugin import CONTEXT

        context = self.config.stash[CONTEXT]
        try:
            profile = load_fuzz_profile(self.path)
        except SpecError as exc:
            raise pytest.UsageError(f"mbconform: fuzz profile problems:\n{exc}") from exc
        workers = self.config.getoption("fuzz_workers") or profile.workers
        for adapter_profile in context.profiles:
            for kind in KINDS:
                copies = workers if kind == "flows" and not profile.derandomize else 1
                for worker in range(1, copies + 1):
                    case_id = f"MB-FUZZ-{kind.upper()}" + (f"-W{worker}" if copies > 1 else "")
                    name = case_id if len(context.profiles) == 1 else f"{case_id}[{adapter_profile.name}]"
                    name = shown(name, SHOWN_CHARS)  # a profile's name is the file's: escaped for the terminal
                    yield FuzzItem.from_parent(
                        self, name=name, kind=kind, case_id=case_id, fuzz_profile=profile, profile=adapter_profile
                    )


class FuzzItem(pytest.Item):
    def __init__(
        self, *, kind: str, case_id: str, fuzz_profile: FuzzProfile, profile: Profile, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.kind = kind
        self.case_id = case_id
        self.fuzz_profile = fuzz_profile
        self.profile = profile
        self.add_marker("fuzz")
        self.add_marker(f"fuzz_{kind}")

    def runtest(self) -> None:
        from .pytest_plugin import CONTEXT

        context = self.config.stash[CONTEXT]
        url = context.url_for(self.profile)
        info = CaseInfo(
            self.case_id,
            TITLES[self.kind],
            "fuzz",
            "fuzzing",
            f"{self.kind} ({self.fuzz_profile.name})",
            f"Hypothesis-driven fuzzing, fuzz profile {self.fuzz_profile.name} ({self.fuzz_profile.file}).",
            self.fuzz_profile.file,
        )
        reporter: Any = None
        listener: Listener = no_listener
        if context.allure_dir is not None:
            from ..reporting import allure_report as reporter

            shown = context.shown_url(url)
            listener = reporter.start_test(info, shown, self.profile.name, several=len(context.profiles) > 1)
        settings = context.settings_for(self.profile)
        redact = settings.redactor.text
        database = self.config.getoption("fuzz_database") or self.fuzz_profile.database
        outcome = fuzz(
            self.kind,
            url,
            context.catalogue,
            settings,
            self.fuzz_profile,
            budget=self.config.getoption("fuzz_budget"),
            database=None if self.fuzz_profile.derandomize or not database else Path(database) / self.kind,
            progress=self._progress(context.catalogue),
        )
        lines = outcome.coverage.lines(context.catalogue, self.profile.commands)
        head = (
            f"{self.name}: {outcome.coverage.examples} examples, {outcome.coverage.steps} steps in "
            f"{outcome.seconds:.1f}s ({outcome.coverage.steps / max(outcome.seconds, 1e-9):.0f} steps/s)"
        )
        if outcome.cut:
            head += f"; {outcome.cut}"
        context.end_lines.extend([head, *("  " + line for line in lines)])
        gaps = self._gaps(outcome, context.catalogue)
        replayed = None
        path = None
        if outcome.finding is not None:
            path, replayed = self._reproduce(outcome, context, url, listener)
            context.end_lines.append(f"  finding: {redact(str(outcome.finding.finding))}")
            context.end_lines.append(f"  reproducer: {path} (mbconform replay {path})")
        if reporter is not None:
            reporter.finish_fuzz(
                listener,
                coverage_text="\n".join([head, *lines, *(f"gap: {gap}" for gap in gaps)]),
                coverage_json=json.dumps(outcome.coverage.as_json(), indent=2),
                reproducer=redact(path.read_text(encoding="utf-8")) if path is not None else None,
                transcript=redact(outcome.finding.transcript) if outcome.finding is not None else None,
                failed=outcome.finding is not None or bool(outcome.error),
            )
        if outcome.error:
            from ..reporting.verdicts import AdapterError

            raise AdapterError(f"{self.case_id}: the fuzzer could not run: {redact(outcome.error)}")
        if outcome.finding is not None and outcome.finding.finding is not None:
            from ..reporting.verdicts import ConformanceFailure

            verdict = replayed if replayed is not None else "not replayed"
            raise ConformanceFailure(
                f"{self.case_id}: {redact(str(outcome.finding.finding))}\n"
                f"shrunk to {len(outcome.finding.steps)} steps (from {outcome.shrunk_from}); "
                f"reproducer: {path}; replay: {verdict}"
                + (f"\nHypothesis: {outcome.flaky}" if outcome.flaky else "")
            )
        if outcome.cut:
            warnings.warn(f"{self.case_id}: {outcome.cut}", stacklevel=1)
        for gap in gaps:
            warnings.warn(f"{self.case_id}: the fuzz run never reached {gap}", stacklevel=1)

    def _progress(self, catalogue: Any) -> Any:
        """The status line's writer with ``--fuzz-progress``: to the terminal's stderr past pytest's capture
        (a pytest-xdist worker's stderr is the controller's), flushed at once."""
        interval = self.config.getoption("fuzz_progress")
        if not interval or interval <= 0:
            return None
        from ..fuzz.progress import Progress

        capture = self.config.pluginmanager.getplugin("capturemanager")

        def write(line: str) -> None:
            with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
                print(printable(line), file=sys.stderr, flush=True)

        budget = self.config.getoption("fuzz_budget") or self.fuzz_profile.budget
        return Progress.for_catalogue(self.name, interval, budget, write, catalogue, self.profile.commands)

    def _gaps(self, outcome: FuzzOutcome, catalogue: Any) -> list[str]:
        if self.kind != "flows" or outcome.finding is not None:
            return []
        commands = self.profile.commands if self.fuzz_profile.require_commands else ()
        return outcome.coverage.missing(catalogue, commands, self.fuzz_profile.require_states)

    def _reproduce(self, outcome: FuzzOutcome, context: Any, url: str, listener: Listener) -> tuple[Path, str]:
        """Write the reproducer, and replay it at once (with the report's listener)."""
        from ..fuzz.reproducer import compare, write_reproducer
        from ..suite import load_scenario

        record = outcome.finding
        assert record is not None
        folder = Path(self.config.getoption("fuzz_out") or regression_dir())
        path = write_reproducer(
            folder,
            record,
            level=_level_of(record.steps, context.catalogue),
            profile=self.profile.name,
            platform=self.profile.platform,
            adapter=self._adapter_options(url),
            by=f"mbconform fuzz ({self.kind}, fuzz profile {self.fuzz_profile.name})",
            shrunk_from=outcome.shrunk_from,
            fence=self.fuzz_profile.fence,
            settle=self.fuzz_profile.settle,
            redact=context.settings_for(self.profile).redactor.text,
        )
        try:
            scenario = load_scenario(path, context.catalogue)
        except SpecError as exc:  # our bug: the writer wrote what the loader rejects
            return path, f"the reproducer does not load: {exc}"
        result = asyncio.run(
            run_flow(
                Flow(scenario.steps, fence=scenario.fence, settle=scenario.settle),
                url=url,
                catalogue=context.catalogue,
                settings=context.settings_for(self.profile),
                listener=listener,
            )
        )
        return path, compare(scenario.found, result).summary

    def _adapter_options(self, url: str) -> dict[str, list[str]]:
        """The reference adapter's session options the finding needs: the URL's query (test control) and the
        embedded adapter's options, without the profile's own connection parameters (a replay adds those) and
        without credentials (a reproducer is a file to commit: an access token in the URL stays out of it)."""
        options: dict[str, list[str]] = {}
        redactor = self.profile.settings().redactor
        for key, values in parse_qs(urlsplit(url).query).items():
            if redactor.secret_field(key):
                continue
            own = self.profile.connect_params.get(key)
            kept = [value for value in values if value != own]
            if kept:
                options[key] = kept
        for item in self.config.getoption("fuzz_adapter_option"):
            key, _, value = item.partition("=")
            options.setdefault(key, []).append(value)
        return options

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from ..reporting.verdicts import AdapterError, ConformanceFailure

        if isinstance(excinfo.value, ConformanceFailure | AdapterError):
            return printable(str(excinfo.value))
        return printable(str(super().repr_failure(excinfo)))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.case_id} {TITLES[self.kind]}"


def _level_of(steps: list[Step], catalogue: Any) -> str:
    for step in reversed(steps):
        if step.kind == "command" and step.name in catalogue.commands:
            return str(catalogue.commands[step.name].level)
        if step.kind == "stimulus" and step.name in catalogue.stimuli:
            return str(catalogue.stimuli[step.name].level)
    return "session"
