"""Allure output. The only module that imports ``allure``.

Each test: epic / feature / story labels from level / command / path, the stable id as a label and in
the title, one Allure step per flow step with one sub-step per message sent or received (the step's
messages attached to it), the whole transcript attached, and the failure text that names the spec line. Each run:
``environment.properties`` and ``categories.json`` in the results folder.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import allure
import allure_commons
from allure_commons.logger import AllureFileLogger
from attr import asdict

from ..core.results import FlowResult
from ..core.runevents import CaseInfo, FrameReceived, FrameSent, Note, RunEvent, StepFinished, StepStarted
from ..core.shown import SHOWN_CHARS, printable, shown
from ..core.violations import Severity, Verdict
from .verdicts import ConformanceFailure, categories

MAX_FRAME_STEPS = 400  # per test; the transcript attachment keeps every frame
MAX_ATTACHMENT_CHARS = 16384  # of one message in a step's attachment (the transcript's cut of a frame)
MAX_STEP_ATTACHMENT_CHARS = 262144  # of all the messages of one step: the rest are named, not shown
STEP_NAME_CHARS = 300  # an Allure step's name: a frame's summary, a note (they quote the adapter's ids)


class AllureListener:
    """Receives run events during one test and turns them into Allure steps: a sub-step per message, and the
    messages of a step in one attachment of that step (one file per step, not per message: a file costs more
    than the message, and a suite run sends thousands)."""

    def __init__(self) -> None:
        self.open: list[Any] = []
        self.messages: list[list[str]] = []  # per open step: its messages, as the attachment shows them
        self.sizes: list[int] = []  # per open step: the characters of its messages kept
        self.frames = 0

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, StepStarted):
            step = allure.step(shown(("set-up: " if event.step.setup else "") + event.title, STEP_NAME_CHARS))
            step.__enter__()
            self.open.append(step)
            self.messages.append([])
            self.sizes.append(0)
        elif isinstance(event, FrameSent | FrameReceived):
            self.frames += 1
            if self.frames > MAX_FRAME_STEPS:
                return
            arrow = "→" if isinstance(event, FrameSent) else "←"
            kind = "request" if isinstance(event, FrameSent) else event.kind
            name = event.summary if event.summary.startswith(kind) else f"{kind} {event.summary}"
            name = shown(name, STEP_NAME_CHARS)
            with allure.step(f"{arrow} {name}"):
                pass
            if self.messages:
                self._keep(f"{arrow} {name}", event.text)
        elif isinstance(event, StepFinished):
            if not self.open:
                return
            step = self.open.pop()
            self.sizes.pop()
            _attach_messages(self.messages.pop())
            for violation in event.violations:
                failure = ConformanceFailure(str(violation))
                must = violation.severity is Severity.MUST
                mark = "✗" if must else "⚠ SHOULD"
                sub = allure.step(f"{mark} [{violation.category.value}] {violation.message.splitlines()[0][:300]}")
                sub.__enter__()
                if must:
                    sub.__exit__(ConformanceFailure, failure, None)
                else:
                    sub.__exit__(None, None, None)
            if event.verdict >= Verdict.FAIL:
                failure = ConformanceFailure("; ".join(f"{v.title}: {v.message}" for v in event.violations))
                step.__exit__(ConformanceFailure, failure, None)
            else:
                step.__exit__(None, None, None)
        elif isinstance(event, Note):
            with allure.step(shown(event.text, STEP_NAME_CHARS)):
                pass

    def _keep(self, heading: str, text: str) -> None:
        """A message for the open step's attachment, while the step's messages stay within their bound."""
        if self.sizes[-1] >= MAX_STEP_ATTACHMENT_CHARS:
            self.messages[-1].append(
                f"{heading} (not shown: the step's messages are over {MAX_STEP_ATTACHMENT_CHARS} chars)"
            )
            return
        shown_text = f"{heading}\n{_pretty(text)}"
        self.sizes[-1] += len(shown_text)
        self.messages[-1].append(shown_text)

    def close(self) -> None:
        while self.open:
            self.sizes.pop()
            _attach_messages(self.messages.pop())
            self.open.pop().__exit__(None, None, None)


def _attach_messages(messages: list[str]) -> None:
    if messages:
        allure.attach(
            printable("\n\n".join(messages)),
            name="messages of this step",
            attachment_type=allure.attachment_type.TEXT,
        )


def _pretty(text: str) -> str:
    """A frame as an attachment shows it: indented JSON, escaped like every adapter text (a ``\\ud800`` in
    the frame stays an escape, never a lone surrogate that no writer can encode)."""
    if len(text) > MAX_ATTACHMENT_CHARS:
        return printable(text[:MAX_ATTACHMENT_CHARS]) + f"\n… [{len(text)} chars, cut; see the transcript]"
    try:
        return printable(json.dumps(json.loads(text), indent=2, ensure_ascii=False))
    except (ValueError, RecursionError):
        return printable(text)


def not_applicable(why: str) -> None:
    allure.dynamic.label("verdict", "not applicable")
    allure.dynamic.tag("not applicable")


def start_test(case: CaseInfo, adapter_url: str, profile: str, several: bool = False) -> AllureListener:
    """``several``: the run has several profiles, so the title names this one."""
    allure.dynamic.title(f"{case.id} · {case.title}" + (f" [{profile}]" if several else ""))
    allure.dynamic.epic(case.level)
    allure.dynamic.feature(case.feature)
    allure.dynamic.story(case.story)
    allure.dynamic.label("testId", case.id)
    allure.dynamic.parameter("adapter", shown(adapter_url, SHOWN_CHARS))
    allure.dynamic.parameter("profile", profile)
    description = case.description + f"\n\nSpec: {case.spec}" if case.description else f"Spec: {case.spec}"
    allure.dynamic.description(description)
    return AllureListener()


def finish_test(listener: AllureListener, case: CaseInfo, result: FlowResult | None) -> None:
    listener.close()
    if result is None:
        return
    # Allure has passed, failed, broken and skipped; the verdict label keeps warn and inconclusive apart.
    allure.dynamic.label("verdict", result.verdict.name.lower())
    if result.verdict == Verdict.WARN:
        allure.dynamic.tag("warn (a SHOULD was not met)")
    allure.attach(printable(result.transcript), name="transcript", attachment_type=allure.attachment_type.TEXT)


def finish_fuzz(
    listener: AllureListener,
    *,
    coverage_text: str,
    coverage_json: str,
    reproducer: str | None,
    transcript: str | None,
    failed: bool,
) -> None:
    """A fuzz test: its coverage, and for a finding the reproducer file and the shrunk run's transcript (the
    replay's steps are already in the report, through the listener)."""
    listener.close()
    allure.dynamic.label("verdict", "fail" if failed else "pass")
    allure.attach(printable(coverage_text), name="coverage", attachment_type=allure.attachment_type.TEXT)
    allure.attach(coverage_json, name="coverage.json", attachment_type=allure.attachment_type.JSON)
    if reproducer is not None:
        allure.attach(
            printable(reproducer), name="reproducer (scenario file)", attachment_type=allure.attachment_type.YAML
        )
    if transcript is not None:
        allure.attach(printable(transcript), name="shrunk transcript", attachment_type=allure.attachment_type.TEXT)


class _GuardedWrite:
    """Allure's file logger writing one result: UTF-8 where it can be encoded, else JSON with ASCII escapes (a
    lone surrogate the adapter sent is data: ``\\ud800``); a result that still cannot be written becomes a
    note for the run's summary, never an error that stops pytest (issue 15)."""

    def __init__(self, logger: AllureFileLogger, problems: list[str]) -> None:
        self.folder = Path(logger._report_dir)
        self.problems = problems

    def __call__(self, item: Any) -> None:
        try:
            data = asdict(item, filter=lambda _, v: v or v is False)
            try:
                body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                body = json.dumps(data, ensure_ascii=True).encode("ascii")
            name = item.file_pattern.format(prefix=uuid.uuid4())
            temporary = self.folder / f"{name}.tmp"
            temporary.write_bytes(body)
            os.replace(temporary, self.folder / name)
        except Exception as exc:  # any failure of the writer is a note, the run goes on
            test = shown(getattr(item, "name", None) or type(item).__name__, SHOWN_CHARS)
            self.problems.append(f"mbconform: the Allure result of {test} could not be written: {shown(exc)}")


def guard_writer(problems: list[str]) -> int:
    """Make every Allure file logger of this process write through :class:`_GuardedWrite`; how many."""
    guarded = 0
    for plugin in allure_commons.plugin_manager.get_plugins():
        own = plugin.__dict__.get("_report_item") if isinstance(plugin, AllureFileLogger) else None
        if isinstance(plugin, AllureFileLogger) and not isinstance(own, _GuardedWrite):
            plugin._report_item = _GuardedWrite(plugin, problems)  # type: ignore[method-assign]
            guarded += 1
    return guarded


def write_run_files(results_dir: Path, environment: dict[str, str]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={_escape(value)}" for key, value in environment.items()]
    (results_dir / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (results_dir / "categories.json").write_text(json.dumps(categories(), indent=2), encoding="utf-8")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("=", "\\=").replace(":", "\\:")
