"""core/shown.py: what the adapter controls is bounded and escaped for where it goes (issue 15), and the
bounds built on it: a violation's texts, one step's violations, Allure's writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import TestResult as AllureResult

from harness.core.shown import SHOWN_CHARS, code, markdown, printable, shown
from harness.core.violations import (
    MESSAGE_CHARS,
    STEP_VIOLATION_CHARS,
    TITLE_CHARS,
    Category,
    Severity,
    Verdict,
    Violation,
    capped,
    size,
)

ESC = "\x1b"


def test_shown_writes_control_characters_and_lone_surrogates_as_their_escapes() -> None:
    text = shown(f"S{ESC}[2J\r\n\x00\x7f\x9b\ud800\u202e\ufeffé€")
    assert text == "S\\x1b[2J\\r\\n\\x00\\x7f\\x9b\\ud800\\u202e\\ufeffé€"
    text.encode("utf-8")  # every writer can encode it


def test_shown_cuts_a_long_value_before_escaping_it_and_says_how_long_it_was() -> None:
    text = shown("x" * 1_000_000 + ESC)
    assert text == "x" * SHOWN_CHARS + "… (1000001 chars)"
    assert shown(ESC * 1000, 10) == "\\x1b" * 10 + "… (1000 chars)"  # at most a few times the limit


def test_shown_gives_json_for_data_and_a_repr_for_what_json_cannot_write() -> None:
    assert shown({"target": f"S1.{ESC}\ud800"}) == '{"target": "S1.\\u001b\\ud800"}'
    assert shown(b"\x1b\x00") == "b'\\x1b\\x00'"
    looped: list[object] = []
    looped.append(looped)
    assert shown(looped) == "[[...]]"


def test_printable_keeps_line_breaks_and_escapes_the_rest() -> None:
    assert printable(f"line one\n\tline{ESC}[31m two\r\ud800") == "line one\n\tline\\x1b[31m two\\r\\ud800"
    assert printable("y" * 50, 10) == "y" * 10 + "… (50 chars)"


@pytest.mark.parametrize(
    "hostile",
    [
        "<img src=x onerror=alert(1)>",
        "</table><script>alert(1)</script>",
        "![x](http://outside.example/x.png)",
        "[click](javascript:alert(1))",
        "a | b | c\n| --- |",
        "`code` **bold** ~~gone~~ _it_",
        "&lt;already an entity&gt;",
    ],
)
def test_markdown_leaves_no_tag_image_link_or_cell_boundary_of_the_adapter(hostile: str) -> None:
    text = markdown(hostile)
    assert "<" not in text and ">" not in text and "\n" not in text
    assert "![" not in text and "](" not in text.replace("\\](", "")
    assert "|" not in text.replace("\\|", "")
    assert "`" not in text.replace("\\`", "") and "&lt;already" not in text


def test_a_code_span_cannot_be_closed_or_end_its_cell() -> None:
    assert code("ws://a`<b>|c") == "`ws://a'<b>\\|c`"


def test_a_violation_bounds_and_escapes_what_it_quotes_once_also_when_copied() -> None:
    huge = "t" * 1_000_000
    violation = Violation(Category.UNEXPECTED_EVENT, f"title {ESC}" * 100, f"about {huge}{ESC}", actual=huge)
    assert len(violation.message) < MESSAGE_CHARS + 40 and ESC not in violation.message
    assert len(violation.title) < TITLE_CHARS + 40 and ESC not in violation.title
    assert isinstance(violation.actual, str) and len(violation.actual) < 2100
    from dataclasses import replace

    copied = replace(violation, severity=Severity.SHOULD)
    assert (copied.title, copied.message, copied.actual) == (violation.title, violation.message, violation.actual)


def test_one_step_keeps_a_bounded_text_of_violations_of_every_kind_and_the_worst_verdict() -> None:
    many = [Violation(Category.UNEXPECTED_EVENT, "unexpected", "u" * 3000, severity=Severity.SHOULD)] * 40
    many.append(Violation(Category.HARNESS_FAULT, "worst", "last"))
    kept = capped(many)
    assert sum(size(v) for v in kept) <= STEP_VIOLATION_CHARS + MESSAGE_CHARS + TITLE_CHARS
    assert max(v.verdict for v in kept) == Verdict.ERROR  # what was not kept still decides the verdict
    assert "further violation(s) of this step" in kept[-1].message and len(kept) < len(many)
    few = many[:3]
    assert capped(few) == few


def test_the_allure_writer_writes_a_lone_surrogate_as_an_escape_and_never_stops_the_run(tmp_path: Path) -> None:
    from harness.reporting.allure_report import _GuardedWrite

    logger = AllureFileLogger(str(tmp_path / "results"))
    with pytest.raises(UnicodeEncodeError):  # what the unguarded writer does (issue 15, defect 2)
        logger.report_result(AllureResult(uuid="a", name="target S1.\ud800"))
    problems: list[str] = []
    logger._report_item = _GuardedWrite(logger, problems)  # type: ignore[method-assign]
    logger.report_result(AllureResult(uuid="b", name="target S1.\ud800"))
    [written] = (tmp_path / "results").glob("*-result.json")
    assert "\\ud800" in written.read_text(encoding="ascii") and json.loads(written.read_text())["uuid"] == "b"
    assert not problems
    (tmp_path / "results").rename(tmp_path / "gone")  # a writer that fails: a note, not an exception
    logger.report_result(AllureResult(uuid="c", name=f"test {ESC}"))
    [note] = problems
    assert "could not be written" in note and ESC not in note


def test_the_replay_command_prints_the_adapter_s_ids_and_reasons_escaped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.core.runevents import Note, StepFinished
    from harness.core.steps import Step
    from harness.fuzz.replay import _printer

    step = Step("command", "channel.activate", f"S{ESC}[2J.chan1")
    violation = Violation(Category.MALFORMED_FRAME, "malformed frame", f"not JSON: {ESC}[2J CERTIFIED")
    _printer(StepFinished(step, Verdict.FAIL, (violation,)))
    _printer(Note(f"inconclusive: the adapter said {ESC}]0;title\x07"))
    out = capsys.readouterr().out
    assert ESC not in out and "\x07" not in out and "S\\x1b[2J.chan1" in out and "\\x1b]0;title\\x07" in out


def test_a_failure_text_is_bounded_however_many_steps_failed() -> None:
    from harness.core.results import FlowResult
    from harness.reporting.verdicts import FAILURE_CHARS, explain

    result = FlowResult()
    for step in range(200):  # a long fuzz flow: every step at its own cap
        result.add(f"step {step} on S{ESC}", [Violation(Category.UNEXPECTED_EVENT, "unexpected", "m" * 5000)] * 8)
    text = explain("MB-FUZZ-FLOWS", "random call flows", result)
    assert len(text) < FAILURE_CHARS + MESSAGE_CHARS + 1000 and ESC not in text
    assert text.endswith(f"further violation(s) not shown: the failure text keeps {FAILURE_CHARS} chars")


def test_every_allure_file_logger_of_the_process_is_guarded_once(tmp_path: Path) -> None:
    import allure_commons

    from harness.reporting.allure_report import _GuardedWrite, guard_writer

    logger = AllureFileLogger(str(tmp_path / "results"))
    allure_commons.plugin_manager.register(logger)
    try:
        problems: list[str] = []
        assert guard_writer(problems) >= 1 and guard_writer(problems) == 0  # not wrapped twice
        assert isinstance(logger.__dict__["_report_item"], _GuardedWrite)
        allure_commons.plugin_manager.hook.report_result(result=AllureResult(uuid="d", name="S1.\ud800"))
        assert [p.name for p in (tmp_path / "results").glob("*-result.json")] and not problems
    finally:
        allure_commons.plugin_manager.unregister(logger)


def test_a_test_id_shows_a_profile_name_s_control_characters_escaped() -> None:
    from types import SimpleNamespace
    from typing import Any

    from harness.plugin.pytest_plugin import Context

    several: Any = SimpleNamespace(profiles=[1, 2])
    case: Any = SimpleNamespace(id="MB-CHAN-ACTIVATE-001")
    profile: Any = SimpleNamespace(name=f"vendor{ESC}[2J{ESC}[32mCERTIFIED")
    name = Context.item_name(several, case, profile)
    assert name == "MB-CHAN-ACTIVATE-001[vendor\\x1b[2J\\x1b[32mCERTIFIED]"
