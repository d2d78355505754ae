"""Self-tests of the fault catalogue: every named fault is detected by the suite, and the correct reference
adapter passes every case on every reference profile (``mbconform selftest --quick``, in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SharedRuns

from harness.cli import main
from harness.paths import reference_profiles, suites_dir
from harness.reference.faults import FAMILIES, NAMED
from harness.selftest import Matrix, selftest
from harness.spec.catalogue import Catalogue

pytestmark = pytest.mark.selftest

LIST_SECONDS = 60


@pytest.fixture(scope="module")
def quick_matrix(catalogue: Catalogue, shared_runs: SharedRuns) -> Matrix:
    """Run once per ``pytest`` invocation: with xdist the module's tests may land on both workers."""
    scenarios = sorted((suites_dir() / "conformance").glob("*.yaml"))
    return shared_runs.get(
        "selftest-quick-matrix", lambda: selftest(catalogue, reference_profiles(), scenarios, quick=True)
    )


def test_the_correct_reference_adapter_passes_every_case_on_every_reference_profile(quick_matrix: Matrix) -> None:
    assert quick_matrix.baseline_problems == []
    assert quick_matrix.baseline_runs > 0
    assert quick_matrix.profiles == [path.stem for path in reference_profiles()]


def test_every_named_fault_is_detected_by_a_test_that_passes_without_it(quick_matrix: Matrix) -> None:
    assert quick_matrix.undetected == [], quick_matrix.render()
    assert {row.fault.name for row in quick_matrix.rows} == set(NAMED)
    for row in quick_matrix.rows:
        assert row.categories and not row.strays, row.fault.name
        if row.fault.platforms:
            assert all(test.endswith("]") and "incontact" in test for test in row.detected_by), row.fault.name
    assert quick_matrix.ok


def test_the_matrix_names_each_fault_its_verdict_tests_and_categories(quick_matrix: Matrix) -> None:
    text = quick_matrix.render()
    for row in quick_matrix.rows:
        [line] = [line for line in text.splitlines() if line.split(" ")[0] == row.fault.name]
        assert " yes " in line and row.detected_by[0] in line
    assert f"{len(NAMED)} of {len(NAMED)} faults detected" in text
    document = quick_matrix.to_json()
    assert document["ok"] and document["mode"] == "quick"
    assert {fault["name"] for fault in document["faults"] if fault["detected"]} == set(NAMED)


def test_serve_lists_at_least_30_named_faults_besides_the_families() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--list-faults"],
        capture_output=True,
        text=True,
        timeout=LIST_SECONDS,
        check=True,
    )
    lines = done.stdout.splitlines()
    transport = [line for line in lines if "[transport]" in line]
    named = [line for line in lines if "[family]" not in line and line not in transport]
    assert len(named) >= 30 and len(lines) == len(named) + len(FAMILIES) + len(transport)
    assert sum("multi-step" in line for line in named) * 3 >= len(named)
    assert len(transport) >= 15 and any("flood:<events>" in line for line in transport)


def test_an_undetectable_fault_makes_selftest_exit_1_and_its_json_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dropping an optional entry of a list is no violation, so no test can detect it."""
    profile = suites_dir() / "profiles" / "reference-generic.yaml"
    fault = "drop-event:session.addchannelgroup:channel.infochanged"
    report = tmp_path / "matrix.json"
    code = main(["selftest", "--quick", "--fault", fault, "--profile", str(profile), "--json", str(report)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"{fault}" in out and " NO " in out
    [row] = json.loads(report.read_text())["faults"]
    assert (
        row["name"] == fault
        and not row["detected"]
        and row["runs"] > 0
        and row["verdicts"] == {"pass": row["runs"]}
    )


def test_selftest_refuses_an_unknown_fault_before_running_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest", "--fault", "no-such-fault"]) == 2
    assert "unknown fault" in capsys.readouterr().err
