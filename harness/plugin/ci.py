"""The run's CI outputs and its progress lines, as a pytest plugin object the mbconform plugin registers.

- As each case ends, with ``--case-progress``: one line with its id, title and verdict (off by default, so a
  CI log stays as pytest makes it unless asked).
- Once the session has ended and pytest has written JUnit (``trylast``, after the junitxml plugin and after
  the baseline gate set the exit status): the JUnit file improved and ``summary.json`` written (see
  :mod:`harness.reporting.ci_outputs`). A pytest-xdist worker writes nothing: its controller does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import __version__
from ..core.shown import printable
from ..reporting.ci_outputs import PROPERTY, improve_junit, summary_json, write_summary

if TYPE_CHECKING:
    from .pytest_plugin import Context


class CiOutputs:
    def __init__(self, context: Context, config: pytest.Config) -> None:
        self.context = context
        self.config = config
        self.progress = bool(config.getoption("case_progress", False))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.progress or report.when != "call":
            return
        props = {
            name[len(PROPERTY) :]: str(value)
            for name, value in report.user_properties
            if name.startswith(PROPERTY)
        }
        if "verdict" not in props:
            return
        reporter: Any = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        name = report.nodeid.rsplit("::", 1)[-1]
        reporter.ensure_newline()
        reporter.write_line(printable(f"{name} {props.get('title', '')}: {props['verdict']}"))

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        context = self.context
        if hasattr(session.config, "workerinput") or session.config.option.collectonly:
            return
        if not context.summary.records:
            return
        xmlpath = getattr(session.config.option, "xmlpath", None)
        if xmlpath:
            improve_junit(Path(xmlpath))
        baseline = None
        if context.diff is not None:
            baseline = {
                "file": context.diff.baseline_file,
                "passed": context.diff.passed,
                "changes": context.diff.counts,
            }
        summary = summary_json(
            context.summary.records.values(),
            exit_code=int(session.exitstatus),
            adapter=context.shown_url(),
            harness_version=__version__,
            catalogue_version=context.catalogue.version,
            date=datetime.now(UTC).isoformat(timespec="seconds"),
            profiles=[profile.name for profile in context.profiles],
            interrupted=int(session.exitstatus) == int(pytest.ExitCode.INTERRUPTED),
            baseline=baseline,
        )
        try:
            context.written.append(write_summary(context.reports, summary))
        except OSError as exc:  # a report that cannot be written must not pass a CI gate silently
            context.end_lines.append(f"mbconform: cannot write the summary: {exc}")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
