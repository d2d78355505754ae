"""``mbconform requirements``: requirement -> checks -> test ids -> proving faults, as text and JSON; a saved
detection matrix names the faults, a stale one is flagged, one without requirement ids refused."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.paths import suites_dir
from harness.spec.catalogue import Catalogue

pytestmark = pytest.mark.selftest

# -- the command --------------------------------------------------------------------------------------------


GENERIC = str(suites_dir() / "profiles" / "reference-generic.yaml")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["requirements", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def coverage_json() -> dict[str, Any]:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["requirements", "--json"]) == 0
    document: dict[str, Any] = json.loads(buffer.getvalue())
    return document


def test_requirements_json_lists_every_requirement_with_checks_tests_and_gaps(
    catalogue: Catalogue, coverage_json: dict[str, Any]
) -> None:
    rows = {row["id"]: row for row in coverage_json["requirements"]}
    assert set(rows) == set(catalogue.requirements)
    dial = rows["REQ-DIAL-EVENTS"]
    assert [check["element"] for check in dial["checks"]] == ["command channel.dial › events"]
    assert "MB-CHAN-DIAL-001[reference-generic]" in dial["tests"]
    assert dial["faults"] is None and coverage_json["matrix"] is None  # not measured without --matrix
    assert not any(test.startswith("MB-CHAN-DIAL-1") for test in dial["tests"])  # illegal states: not the list
    precondition = rows["REQ-DIAL-ACTIVE"]["tests"]
    assert "MB-CHAN-DIAL-102[reference-generic]" in precondition or any("DIAL-1" in t for t in precondition)
    outcome = rows["REQ-DIAL-IC-SKILL-NEEDINFO"]["tests"]
    assert outcome and all("DIAL-31" in test and "incontact" in test for test in outcome)
    gaps = {gap["id"]: gap["reason"] for gap in coverage_json["gaps"]}
    assert gaps["REQ-SETDATA-UPSERT"].startswith("no check: the seeds print no payload")
    assert "REQ-HOLD-EVENTS" not in gaps  # a cut list the seeds say generates events: at least one must come
    assert "REQ-DIAL-EVENTS" not in gaps
    assert all(rows[rid]["gap"] == reason for rid, reason in gaps.items())


def test_requirements_text_names_the_quote_checks_tests_and_gaps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys)
    assert code == 0
    block = out.split("\nREQ-DIAL-EVENTS ", 1)[1].split("\nREQ-", 1)[0]
    assert "MUST  ruling R5" in block and "quote:  Placing an outbound call" in block
    assert re.search(r"check:  specs/commands/channel\.dial\.yaml:\d+ command channel\.dial › events", block)
    assert "MB-CHAN-DIAL-001 ×5" in block and "faults: not measured" in block
    assert "\ngaps: " in out and "  REQ-SETDATA-UPSERT: no check:" in out
    assert "proving faults not measured" in out


def _matrix(path: Path, catalogue: Catalogue, version: str | None = None) -> Path:
    document = {
        "catalogue_version": catalogue.version if version is None else version,
        "faults": [
            {"name": "dial-without-preview", "detected": True, "requirements": {"REQ-DIAL-EVENTS": 3}},
            {"name": "never-detected", "detected": False, "requirements": {}},
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_saved_matrix_names_the_faults_that_prove_a_requirement(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = _matrix(tmp_path / "matrix.json", catalogue)
    code, out, err = _run(capsys, "--json", "--profile", GENERIC, "--matrix", str(matrix))
    assert code == 0 and "warning" not in err
    document = json.loads(out)
    rows = {row["id"]: row for row in document["requirements"]}
    assert rows["REQ-DIAL-EVENTS"]["faults"] == ["dial-without-preview"]
    assert rows["REQ-DIAL-ACTIVE"]["faults"] == []
    assert (
        rows["REQ-DIAL-ACTIVE"]["gap"]
        == "no fault of the reference adapter is caught by a violation that cites it"
    )
    assert document["matrix"]["stale"] is False


def test_a_matrix_of_another_catalogue_is_flagged_stale_and_an_old_one_refused(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "--profile", GENERIC, "--matrix", str(_matrix(tmp_path / "m.json", catalogue, "0" * 12))
    )
    assert code == 0 and "STALE" in out and "may be stale" in err
    (tmp_path / "old.json").write_text(json.dumps({"faults": [{"name": "x", "detected": True}]}), "utf-8")
    code, _, err = _run(capsys, "--matrix", str(tmp_path / "old.json"))
    assert code == 2 and "run mbconform selftest again" in err


def test_a_fault_the_suite_detects_proves_the_requirements_its_violations_cite(
    catalogue: Catalogue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: the detection matrix records the ids of the MUST violations that caught a fault (here a dial
    that forgets interaction.preview), and ``requirements --matrix`` names the fault against those ids only;
    the correct adapter, on the same cases, passes (nothing is cited against it)."""
    from harness.selftest import selftest, write_json

    matrix = selftest(catalogue, [Path(GENERIC)], [], ["dial-without-preview"], quick=True)
    assert matrix.baseline_problems == [] and matrix.catalogue == catalogue.version
    [row] = matrix.rows
    assert row.detected and {"REQ-DIAL-EVENTS", "REQ-NEW-INTERACTION-PREVIEW"} <= set(row.requirements)
    write_json(matrix, tmp_path / "matrix.json")
    code, out, _ = _run(capsys, "--json", "--profile", GENERIC, "--matrix", str(tmp_path / "matrix.json"))
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)["requirements"]}
    assert rows["REQ-DIAL-EVENTS"]["faults"] == ["dial-without-preview"] and rows["REQ-DIAL-EVENTS"]["gap"] is None
    assert rows["REQ-HOLD-FAILURE"]["faults"] == []
