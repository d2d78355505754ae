"""The CI gate: each test classified against the accepted baseline; only a newly failing MUST fails the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.reporting.baseline import (
    GONE,
    NEW,
    NEWLY_FAILING,
    NEWLY_PASSING,
    STILL_FAILING,
    STILL_PASSING,
    Baseline,
    BaselineDiff,
    BaselineError,
    ProfileInfo,
    TestVerdict,
    classify,
    compare,
    gate_status,
    load_baseline,
    write_baseline,
)

PROFILES = (ProfileInfo("reference-generic", "suites/profiles/reference-generic.yaml", "generic"),)
PASS = TestVerdict("pass")
WARN = TestVerdict("warn", ("shape mismatch",))
INCONCLUSIVE = TestVerdict("inconclusive")
NOT_APPLICABLE = TestVerdict("not applicable")
FAIL = TestVerdict("fail", ("missing event",))
ERROR = TestVerdict("error", ("connection lost",))


def diff_of(before: dict[str, TestVerdict], after: dict[str, TestVerdict]) -> BaselineDiff:
    baseline = Baseline("0.1.0", "cat1", PROFILES, before)
    return compare(
        baseline,
        after,
        baseline_file="baseline.json",
        harness_version="0.1.0",
        catalogue_version="cat1",
        profiles=PROFILES,
    )


CLASSIFIED = [
    (PASS, PASS, STILL_PASSING),
    (PASS, WARN, STILL_PASSING),
    (PASS, INCONCLUSIVE, STILL_PASSING),
    (NOT_APPLICABLE, PASS, STILL_PASSING),
    (FAIL, FAIL, STILL_FAILING),
    (FAIL, ERROR, STILL_FAILING),
    (PASS, FAIL, NEWLY_FAILING),
    (WARN, ERROR, NEWLY_FAILING),
    (INCONCLUSIVE, FAIL, NEWLY_FAILING),
    (NOT_APPLICABLE, FAIL, NEWLY_FAILING),
    (FAIL, PASS, NEWLY_PASSING),
    (ERROR, INCONCLUSIVE, NEWLY_PASSING),
    (None, PASS, NEW),
    (None, FAIL, NEW),
    (PASS, None, GONE),
    (FAIL, None, GONE),
]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    CLASSIFIED,
    ids=[f"{b.verdict if b else 'absent'}->{a.verdict if a else 'absent'}" for b, a, _ in CLASSIFIED],
)
def test_each_test_is_classified_by_which_side_of_a_must_it_was_and_is_on(
    before: TestVerdict | None, after: TestVerdict | None, expected: str
) -> None:
    assert classify(before, after) == expected


def test_the_gate_fails_exactly_when_a_test_newly_fails_a_must() -> None:
    diff = diff_of(
        {"A": PASS, "B": FAIL, "C": PASS, "D": NOT_APPLICABLE, "E": FAIL, "G": PASS},
        {"A": FAIL, "B": FAIL, "C": WARN, "D": FAIL, "E": PASS, "N": FAIL, "M": PASS},
    )
    assert [c.test_id for c in diff.gate_failures] == ["A", "D", "N"]  # a new test that fails was never accepted
    assert not diff.passed
    assert diff.counts == {
        STILL_PASSING: 1,
        STILL_FAILING: 1,
        NEWLY_FAILING: 2,
        NEWLY_PASSING: 1,
        NEW: 2,
        GONE: 1,
    }
    assert gate_status(1, diff, other_failures=False) == 1


def test_a_baseline_that_accepts_a_failure_keeps_the_exit_status_zero() -> None:
    diff = diff_of({"A": FAIL, "B": PASS}, {"A": FAIL, "B": PASS})
    assert diff.passed and diff.counts[STILL_FAILING] == 1
    assert gate_status(1, diff, other_failures=False) == 0
    assert "gate: passed" in diff.lines()[-1] and "1 accepted failure(s)" in diff.lines()[-1]


def test_a_warning_never_fails_the_gate_and_inconclusive_or_not_applicable_are_shown_as_changes() -> None:
    diff = diff_of(
        {"A": PASS, "B": PASS, "C": PASS, "D": NOT_APPLICABLE},
        {"A": WARN, "B": INCONCLUSIVE, "C": NOT_APPLICABLE, "D": PASS},
    )
    assert diff.passed and gate_status(0, diff, other_failures=False) == 0
    assert [(c.test_id, c.change) for c in diff.other_changes] == [
        ("A", STILL_PASSING),
        ("B", STILL_PASSING),
        ("C", STILL_PASSING),
        ("D", STILL_PASSING),
    ]
    printed = "\n".join(diff.lines())
    assert "B: pass -> inconclusive" in printed and "D: not applicable -> pass" in printed


def test_an_accepted_failure_that_fails_differently_stays_accepted_but_is_listed() -> None:
    diff = diff_of({"A": FAIL}, {"A": ERROR})
    assert diff.passed
    assert [c.describe() for c in diff.other_changes] == ["A: fail [missing event] -> error [connection lost]"]


def test_other_failures_and_other_statuses_are_kept() -> None:
    clean = diff_of({"A": PASS}, {"A": PASS})
    assert gate_status(1, clean, other_failures=True) == 1  # something failed that is no verdict of ours
    assert gate_status(2, clean, other_failures=False) == 2  # interrupted
    assert gate_status(5, clean, other_failures=False) == 5  # nothing collected


def test_the_comparison_is_sorted_by_test_id_whatever_the_order_of_the_run() -> None:
    after = {name: PASS for name in ("MB-X-002[b]", "MB-X-001[b]", "MB-X-001[a]", "MB-A-001[b]")}
    diff = diff_of({"MB-Z-001[a]": PASS}, after)
    assert [c.test_id for c in diff.changes] == sorted([*after, "MB-Z-001[a]"])
    assert diff.to_json()["tests"][0]["test"] == "MB-A-001[b]"


def test_the_printout_names_the_newly_failing_tests_with_their_category_and_why() -> None:
    diff = diff_of(
        {"MB-CONV-HOLD-001": PASS}, {"MB-CONV-HOLD-001": TestVerdict("fail", ("missing event",), "no event")}
    )
    lines = diff.lines()
    assert lines[0] == (
        "baseline baseline.json: 0 still passing, 0 still failing, 1 newly failing, 0 newly passing, 0 new, 0 gone"
    )
    assert "  MB-CONV-HOLD-001: pass -> fail [missing event]: no event" in lines
    assert lines[-1] == "gate: FAILED: 1 test(s) newly fail a MUST"
    markdown = diff.markdown()
    assert "| `MB-CONV-HOLD-001` | newly failing | pass | fail [missing event] | no event |" in markdown


def test_the_notes_say_when_the_baseline_ran_other_profiles_or_another_catalogue() -> None:
    other = (ProfileInfo("a", "a.yaml", "generic"), ProfileInfo("b", "b.yaml", "incontact"))
    diff = compare(
        Baseline("0.0.9", "cat0", other, {}),
        {},
        baseline_file="b.json",
        harness_version="0.1.0",
        catalogue_version="cat1",
        profiles=PROFILES,
    )
    assert len(diff.notes) == 3
    assert "the baseline ran the profiles a, b; this run: reference-generic" in diff.notes[0]


def test_a_written_baseline_reads_back_and_writing_it_again_changes_no_byte(tmp_path: Path) -> None:
    tests = {"MB-B-001": FAIL, "MB-A-001": TestVerdict("inconclusive", (), "shown, not recorded")}
    path = tmp_path / "ci" / "baseline.json"
    write_baseline(path, Baseline("0.1.0", "cat1", PROFILES, tests))
    first = path.read_bytes()
    loaded = load_baseline(path)
    assert loaded.tests == tests and loaded.profiles == PROFILES and loaded.catalogue_version == "cat1"
    assert loaded.tests["MB-A-001"].reason == ""
    write_baseline(path, loaded)
    assert path.read_bytes() == first
    data = json.loads(first)
    assert list(data["tests"]) == ["MB-A-001", "MB-B-001"]
    assert data["tests"]["MB-B-001"] == {"verdict": "fail", "categories": ["missing event"]}


BROKEN = [
    ("missing", None, "no such file"),
    ("not-json", "{\n  nope", ":2:3: not JSON"),
    ("a-list", "[]", "the top level must be an object, not list"),
    ("other-format", '{"format": "junit"}', "format is 'junit', expected 'mbconform/baseline/1'"),
    (
        "bad-verdict",
        '{"format": "mbconform/baseline/1", "harness_version": "0.1.0", "catalogue_version": "c", '
        '"profiles": [], "tests": {"MB-A-001": {"verdict": "passed", "categories": []}}}',
        "tests['MB-A-001'].verdict is 'passed', expected one of pass, warn",
    ),
    (
        "no-tests",
        '{"format": "mbconform/baseline/1", "harness_version": "0.1.0", "catalogue_version": "c", "profiles": []}',
        "tests must be an object",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_missing_or_malformed_baseline_is_an_error_naming_the_file_and_the_problem(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    path = tmp_path / f"{name}.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    assert str(caught.value).startswith(f"baseline {path}")
    assert message in str(caught.value)
