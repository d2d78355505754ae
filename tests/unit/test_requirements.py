"""Requirements traced: ``specs/requirements.yaml`` loads and is checked (file:line problems), every quote
is in its seed word for word, every id a spec names exists, and a violation shows the ids of the check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.core.expect import check_response
from harness.core.messages import Response
from harness.core.results import FlowResult
from harness.core.violations import Verdict
from harness.reporting.verdicts import explain
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError, load_catalogue
from harness.spec.requirements import check_quotes, rulings
from harness.traceability import default_seeds

SEEDS = default_seeds()
needs_seeds = pytest.mark.skipif(SEEDS is None, reason="no seed folder (MBCONFORM_SEEDS or ../shared/seeds)")


def _problems(specs: Path) -> str:
    with pytest.raises(SpecError) as caught:
        load_catalogue(specs)
    return str(caught.value)


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


# -- the file and its checks --------------------------------------------------------------------------------


def test_the_requirements_load_with_the_catalogue(catalogue: Catalogue) -> None:
    assert len(catalogue.requirements) >= 100
    dial = catalogue.requirements["REQ-DIAL-EVENTS"]
    assert (dial.strength, dial.provenance, dial.ruling) == ("MUST", "ruling", "R5")
    assert dial.ref.file == "specs/requirements.yaml" and dial.ref.line > 1
    assert catalogue.requirements["REQ-REC-START-IDEMPOTENT"].strength == "SHOULD"  # "should successfully return"


def test_every_ruling_a_requirement_cites_is_a_ruling_of_the_errata(catalogue: Catalogue) -> None:
    known = rulings(catalogue.root)
    cited = {req.ruling for req in catalogue.requirements.values() if req.ruling}
    assert cited and cited <= known


def test_every_requirement_is_named_by_a_spec_element_or_says_why_not(catalogue: Catalogue) -> None:
    named = {
        rid
        for command in catalogue.commands.values()
        for ref in (command.ref, command.events.ref, *(o.ref for o in command.outcomes))
        for rid in ref.requirements
    }
    named |= {rid for rule in catalogue.protocol.responses.values() for rid in rule.ref.requirements}
    for requirement in catalogue.requirements.values():
        assert (requirement.unchecked is None) or (requirement.id not in named), requirement.id
    assert {"REQ-DIAL-EVENTS", "REQ-DIAL-ACTIVE", "REQ-RESP-FAILURE-SHAPE", "REQ-COMPLETE-IC-ACW"} <= named


def test_an_id_no_requirement_defines_is_a_file_line_problem(specs_copy: Path) -> None:
    dial = specs_copy / "commands" / "channel.dial.yaml"
    text = dial.read_text(encoding="utf-8").replace("requirement: REQ-DIAL-ACTIVE", "requirement: REQ-DIAL-NOPE")
    dial.write_text(text, encoding="utf-8")
    line = _line_of(dial, "REQ-DIAL-NOPE")
    assert f"specs/commands/channel.dial.yaml:{line}: REQ-DIAL-NOPE is not a requirement" in _problems(specs_copy)


def test_a_requirement_no_element_names_and_that_says_nothing_is_a_problem(specs_copy: Path) -> None:
    hold = specs_copy / "commands" / "conversation.hold.yaml"
    hold.write_text(hold.read_text(encoding="utf-8").replace("requirement: REQ-HOLD-FAILURE\n", ""), "utf-8")
    line = _line_of(specs_copy / "requirements.yaml", "id: REQ-HOLD-FAILURE")
    assert f"specs/requirements.yaml:{line}: REQ-HOLD-FAILURE: no spec element names it" in _problems(specs_copy)


def test_a_malformed_id_is_a_file_line_problem_and_hides_no_other(specs_copy: Path) -> None:
    path = specs_copy / "requirements.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("id: REQ-DIAL-ACTIVE\n", "id: req-dial-active\n"), "utf-8"
    )
    problems = _problems(specs_copy).splitlines()
    [problem] = problems
    assert problem.startswith(f"specs/requirements.yaml:{_line_of(path, 'req-dial-active')}: requirements/")
    assert problem.endswith("/id: 'req-dial-active' does not match '^REQ(-[A-Z0-9]+)+$'")


def test_a_duplicate_id_and_an_unknown_ruling_are_each_a_file_line_problem(specs_copy: Path) -> None:
    path = specs_copy / "requirements.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("id: REQ-HOLD-REQUEST\n", "id: REQ-HOLD-FAILURE\n", 1)
    text = text.replace("ruling: R13\n", "ruling: R99\n", 1)
    path.write_text(text, encoding="utf-8")
    problems = _problems(specs_copy)
    first = _line_of(path, "id: REQ-HOLD-FAILURE")
    assert f"REQ-HOLD-FAILURE is already defined at line {first}" in problems
    assert f"requirements.yaml:{_line_of(path, 'ruling: R99')}: REQ-NEW-INTERACTION-PREVIEW: ERRATA.md has no" in (
        problems
    )


@needs_seeds
def test_every_quote_is_found_word_for_word_in_its_seed(catalogue: Catalogue) -> None:
    assert SEEDS is not None
    assert check_quotes(catalogue.requirements, SEEDS) == []


@needs_seeds
def test_a_quote_the_seed_does_not_say_is_reported_with_its_line(specs_copy: Path) -> None:
    assert SEEDS is not None
    path = specs_copy / "requirements.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "Channels are always added in the INACTIVE state.", "Channels are added ACTIVE."
    )
    path.write_text(text, encoding="utf-8")
    catalogue = load_catalogue(specs_copy)
    [problem] = check_quotes(catalogue.requirements, SEEDS)
    assert problem.line == _line_of(path, "id: REQ-CHAN-ADDED-INACTIVE")
    assert "REQ-CHAN-ADDED-INACTIVE: the quote is not in 000_" in problem.message


def test_quotes_are_compared_with_whitespace_normalized(catalogue: Catalogue, tmp_path: Path) -> None:
    requirement = catalogue.requirements["REQ-DIAL-EVENTS"]
    seed = tmp_path / requirement.seed
    words = requirement.quote.split()
    seed.write_text("\n".join(words[:3]) + "\n\t  " + " ".join(words[3:]) + "\n", encoding="utf-8")
    assert check_quotes({requirement.id: requirement}, tmp_path) == []
    seed.write_text(" ".join(words[1:]), encoding="utf-8")
    assert len(check_quotes({requirement.id: requirement}, tmp_path)) == 1


# -- violations show the ids --------------------------------------------------------------------------------


def _dial(catalogue: Catalogue) -> dict[str, Any]:
    return {"command": "channel.dial", "target": "S1.c1", "data": {"destination": "+15550100"}}


def test_a_wrong_result_of_a_command_shows_the_requirements_of_its_precondition(catalogue: Catalogue) -> None:
    request = _dial(catalogue)
    response = Response("channel.dial", "S1.c1", "success", {**request, "result": "success"})
    command = catalogue.commands["channel.dial"]
    [violation] = check_response(catalogue, request, response, frozenset({"failure"}), command.ref)
    assert "REQ-DIAL-ACTIVE" in violation.requirements
    assert re.search(
        r"spec: specs/commands/channel\.dial\.yaml:\d+ .*requirements: REQ-DIAL-ACTIVE", str(violation)
    )


def test_a_malformed_failure_shows_the_failure_shape_requirement_in_every_report(catalogue: Catalogue) -> None:
    request = _dial(catalogue)
    raw = {"command": "channel.dial", "target": "S1.c1", "result": "failure", "failure": {}, "original": request}
    response = Response("channel.dial", "S1.c1", "failure", raw)
    violations = check_response(catalogue, request, response, frozenset({"failure"}), None)
    assert violations and all("REQ-RESP-FAILURE-SHAPE" in v.requirements for v in violations)
    result = FlowResult()
    result.add("send channel.dial", violations)
    text = explain("MB-CHAN-DIAL-002", "channel.dial fails", result)  # the console, Allure and JUnit text
    assert "requirements: REQ-RESP-FAILURE-SHAPE, REQ-RESP-ECHO-COMMAND" in text
    assert result.verdict == Verdict.FAIL


def test_the_certificate_reason_keeps_the_ids_whole_when_the_message_is_cut(catalogue: Catalogue) -> None:
    from harness.cases import command_cases
    from harness.core.violations import Category, Violation
    from harness.paths import suites_dir
    from harness.plugin.summary import REASON_CHARS, RunSummary
    from harness.suite import load_profile

    profile = load_profile(suites_dir() / "profiles" / "reference-generic.yaml", catalogue)
    case = next(c for c in command_cases(catalogue, profile) if c.id == "MB-CHAN-DIAL-001")
    ref = catalogue.commands["channel.dial"].events.ref
    result = FlowResult()
    result.add("dial", [Violation(Category.MISSING_EVENT, "missing event", "x" * 500, ref=ref)])
    summary = RunSummary()
    summary.record(case, "generic", result.verdict, test_id="t", result=result)
    reason = summary.records["t"].reason
    assert len(reason) <= REASON_CHARS and reason.endswith("… (REQ-DIAL-EVENTS, REQ-NEW-INTERACTION-PREVIEW)")
