"""The CI outputs of a run: pytest's JUnit file improved, and summary.json against its JSON Schema."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.paths import specs_dir
from harness.plugin.summary import TestRecord
from harness.reporting.ci_outputs import case_properties, improve_junit, summary_json


def _props(case_id: str, title: str, verdict: str, categories: tuple[str, ...] = ()) -> str:
    found = case_properties(case_id, title, verdict, categories)
    return "<properties>" + "".join(f'<property name="{n}" value="{v}" />' for n, v in found) + "</properties>"


SOURCE = "/somewhere/harness/plugin/pytest_plugin.py:"  # where pytest says the skip was raised
JUNIT = f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="3" skipped="2" tests="6">
<testcase classname="specs.commands.conversation.hold.yaml" name="MB-CONV-HOLD-001">
{_props("MB-CONV-HOLD-001", "conversation.hold succeeds", "fail", ("missing event",))}
<failure message="MB-CONV-HOLD-001 ...: fail">[missing event] ...</failure></testcase>
<testcase classname="specs.commands.conversation.hold.yaml" name="MB-CONV-HOLD-002">
{_props("MB-CONV-HOLD-002", "conversation.hold fails", "error", ("connection lost",))}
<failure message="MB-CONV-HOLD-002 ...: error">[connection lost] ...</failure></testcase>
<testcase classname="specs.commands.conversation.hold.yaml" name="MB-CONV-HOLD-003">
{_props("MB-CONV-HOLD-003", "conversation.hold for invalid data", "error")}
<failure message="ValueError: our bug">Traceback ...</failure></testcase>
<testcase classname="specs.commands.conversation.retrieve.yaml" name="MB-CONV-RETRIEVE-001">
{_props("MB-CONV-RETRIEVE-001", "conversation.retrieve succeeds", "inconclusive")}
<skipped type="pytest.skip" message="INCONCLUSIVE: set-up step failed">
{SOURCE}317: INCONCLUSIVE: set-up step failed</skipped></testcase>
<testcase classname="specs.commands.x.yaml" name="MB-CHAN-X-001[incontact]">
{_props("MB-CHAN-X-001", "x succeeds", "not applicable")}
<skipped type="pytest.skip" message="not applicable: only on incontact">
{SOURCE}291: not applicable: only on incontact</skipped></testcase>
<testcase classname="tests.other" name="test_unrelated"><failure message="boom">boom</failure></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def junit(tmp_path: Path) -> ET.Element:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert improve_junit(path)
    return ET.parse(path).getroot()


def _case(root: ET.Element, prefix: str) -> ET.Element:
    found = [case for case in root.iter("testcase") if case.get("name", "").startswith(prefix)]
    assert len(found) == 1, prefix
    return found[0]


def test_junit_names_carry_the_title_and_errors_are_errors(junit: ET.Element) -> None:
    hold = _case(junit, "MB-CONV-HOLD-001")
    assert hold.get("name") == "MB-CONV-HOLD-001 conversation.hold succeeds"
    assert hold.find("failure") is not None and hold.find("error") is None  # a MUST the adapter broke
    lost = _case(junit, "MB-CONV-HOLD-002").find("error")
    assert lost is not None and lost.get("type") == "connection lost"
    assert lost.get("message", "").endswith(": error")
    bug = _case(junit, "MB-CONV-HOLD-003")
    assert bug.find("failure") is None and bug.findtext("error") == "Traceback ..."
    assert _case(junit, "MB-CHAN-X-001[incontact]").get("name") == "MB-CHAN-X-001[incontact] x succeeds"
    other = _case(junit, "test_unrelated")  # not one of the harness's cases: left as pytest wrote it
    assert other.get("name") == "test_unrelated" and other.find("failure") is not None
    suite = junit.find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "2", "2")


def test_junit_skips_tell_inconclusive_from_not_applicable_without_source_paths(junit: ET.Element) -> None:
    for prefix, verdict, message in (
        ("MB-CONV-RETRIEVE-001", "inconclusive", "INCONCLUSIVE: set-up step failed"),
        ("MB-CHAN-X-001", "not applicable", "not applicable: only on incontact"),
    ):
        case = _case(junit, prefix)
        skipped = case.find("skipped")
        assert skipped is not None
        assert (skipped.get("type"), skipped.get("message"), skipped.text) == (verdict, message, message)
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["mbconform.verdict"] == verdict


def test_a_missing_or_broken_junit_file_is_left_alone(tmp_path: Path) -> None:
    assert not improve_junit(tmp_path / "none.xml")
    broken = tmp_path / "broken.xml"
    broken.write_text("<testsuites><testsuite>", encoding="utf-8")
    assert not improve_junit(broken)
    assert broken.read_text(encoding="utf-8") == "<testsuites><testsuite>"


def _record(test_id: str, verdict: str, **kwargs: object) -> TestRecord:
    return TestRecord(test_id, test_id.split("[")[0], "p", verdict, title=f"{test_id} title", **kwargs)  # type: ignore[arg-type]


def test_summary_json_counts_every_verdict_and_follows_its_schema() -> None:
    records = [
        _record("A-001", "pass", requirements=("REQ-A",)),
        _record("A-002", "fail", categories=("missing event", "convention"), reason="it did not come"),
        _record("A-003", "warn", categories=("convention",), reason="a convention"),
        _record("A-004", "not applicable", reason="not declared"),
        _record("A-005", "error", categories=("connection lost",), reason="closed"),
    ]
    summary = summary_json(
        records,
        exit_code=1,
        adapter="ws://127.0.0.1:1",
        harness_version="0",
        catalogue_version="c",
        date="2026-01-01T00:00:00+00:00",
        profiles=["p", "q"],
        baseline={"file": "b.json", "passed": False, "changes": {"newly failing": 1}},
    )
    schema = json.loads((specs_dir() / "meta" / "summary-v1.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(summary)]
    assert not errors
    assert summary["exit_code"] == 1
    assert summary["counts"] == {
        "total": 5, "pass": 1, "warn": 1, "inconclusive": 0, "fail": 1, "error": 1, "not applicable": 1
    }  # fmt: skip
    assert summary["profiles"]["q"]["total"] == 0
    assert summary["categories"] == {"connection lost": 1, "convention": 2, "missing event": 1}
    failed = summary["cases"][1]
    assert failed == {
        "test": "A-002",
        "id": "A-002",
        "title": "A-002 title",
        "profile": "p",
        "verdict": "fail",
        "categories": ["missing event", "convention"],
        "requirements": [],
        "reason": "it did not come",
    }
    assert summary["cases"][0]["requirements"] == ["REQ-A"]
    broken = {**summary, "cases": [{**failed, "verdict": "passed"}]}  # the schema is not a rubber stamp
    assert list(Draft202012Validator(schema).iter_errors(broken))
