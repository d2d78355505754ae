"""``mbconform cases`` lists the whole catalogue of test cases, the call flows included, per profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cases import command_cases, scenario_case
from harness.cli import main
from harness.paths import reference_profiles, suites_dir
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile, load_scenario

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
SECONDS = 60


def mbconform(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=SECONDS, check=False
    )


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mbconform ARGS`` run by :func:`harness.cli.main` in this process (the subcommand's wiring as a real
    process: the test below and tests/selftest/test_hostile_files_cli.py): (exit status, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cases_json_lists_every_generated_case_and_every_call_flow_of_the_profile(
    catalogue: Catalogue, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = in_process(capsys, "cases", "--profile", str(FAST_PROFILE), "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["catalogue_version"] == catalogue.version
    [profile_listing] = listed["profiles"]
    profile = load_profile(FAST_PROFILE, catalogue)
    scenarios = [load_scenario(p, catalogue) for p in sorted((suites_dir() / "conformance").rglob("*.yaml"))]
    expected = command_cases(catalogue, profile) + [scenario_case(s, profile) for s in scenarios]
    assert [(c["id"], c["applicable"], c["why_not"]) for c in profile_listing["cases"]] == [
        (c.id, c.applicable, c.why_not) for c in expected
    ]
    assert "MB-FLOW-HOLD-001" in {c["id"] for c in profile_listing["cases"]}


def test_cases_without_a_profile_lists_each_reference_profile_one_line_per_case() -> None:
    done = mbconform("cases")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    headers = [line for line in lines if line.startswith("# profile ")]
    assert len(headers) == len(reference_profiles())
    cases = [line for line in lines if not line.startswith("#")]
    assert any(line.startswith("MB-FLOW-HOLD-001 ") and "  applicable  " in line for line in cases)
    not_applicable = [line for line in cases if "  n/a: " in line]
    assert any("this outcome happens only on incontact (profile: generic)" in line for line in not_applicable)
    assert all(line.split()[0].startswith("MB-") for line in cases)


def test_invalid_data_cases_come_from_the_platforms_own_request_schema(catalogue: Catalogue) -> None:
    """InContact's disposition fields (ERRATA R30) are a request schema of that platform only: a generic adapter
    is not asked to refuse a mistyped InContact field, an InContact adapter is."""
    by_platform = {}
    for path in reference_profiles():
        profile = load_profile(path, catalogue)
        ids = {case.id for case in command_cases(catalogue, profile)}
        by_platform.setdefault(profile.platform, set()).update(ids)
    assert "MB-INTR-COMPLETE-003" in by_platform["incontact"]
    assert "MB-INTR-COMPLETE-003" not in by_platform["generic"]
    assert "MB-CHAN-DIAL-003" in by_platform["generic"]  # the generic request schema still gives its own
