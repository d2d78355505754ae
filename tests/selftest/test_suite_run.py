"""Self-tests: the conformance suite run by the real CLI against the reference adapter and its faults."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.spec.catalogue import Catalogue

pytestmark = pytest.mark.selftest

HERE = Path(__file__).parent
FAST_PROFILE = HERE / "fast-profile.yaml"
RUN_SECONDS = 120


def mbconform_run(reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "harness", "run", "--reports", str(reports), "--no-html", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_SECONDS, check=False)


def allure_results(reports: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]


def test_the_whole_suite_passes_against_the_reference_adapter(tmp_path: Path, catalogue: Catalogue) -> None:
    done = mbconform_run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    scenarios = len(list((Path(catalogue.root).parent / "suites" / "conformance").glob("*.yaml")))
    expected = 2 * len(catalogue.commands) + scenarios
    assert f"{expected} passed" in done.stdout
    assert f": {expected} pass" in done.stdout
    assert (tmp_path / "junit.xml").is_file()

    results = allure_results(tmp_path)
    assert len(results) == expected
    for result in results:
        labels = {label["name"]: label["value"] for label in result["labels"]}
        assert {"epic", "feature", "story", "testId"} <= set(labels), result["name"]
        assert result["name"].startswith(labels["testId"])
        assert result["status"] == "passed"
        assert any(a["name"] == "transcript" for a in result["attachments"])
        frames = [s for step in result["steps"] for s in step.get("steps", []) if s["name"][0] in "→←"]
        assert frames and all(frame["attachments"] for frame in frames)
    environment = (tmp_path / "allure-results" / "environment.properties").read_text()
    for key in ("adapter.url=", "profile=", "harness.version=", "catalogue.version="):
        assert key in environment
    assert json.loads((tmp_path / "allure-results" / "categories.json").read_text())


def test_a_dial_that_drops_its_preview_fails_naming_the_event_the_command_and_the_spec_line(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    entry = next(e for e in catalogue.commands["channel.dial"].events.entries if e.event == "interaction.preview")
    done = mbconform_run(tmp_path, "--fault", "dial-without-preview", "--profile", str(FAST_PROFILE))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED specs/commands/channel.dial.yaml::MB-CHAN-DIAL-001" in done.stdout
    assert "[missing event]" in done.stdout
    assert "channel.dial: interaction.preview about" in done.stdout
    assert f"spec:     {entry.ref.file}:{entry.ref.line}" in done.stdout
    failed = [r for r in allure_results(tmp_path) if r["status"] != "passed"]
    assert [r["name"].split(" ")[0] for r in failed] == ["MB-CHAN-DIAL-001"]
    assert "interaction.preview" in failed[0]["statusDetails"]["message"]
    assert f"{entry.ref.file}:{entry.ref.line}" in failed[0]["statusDetails"]["message"]


def _drop_cases(catalogue: Catalogue) -> list[tuple[str, str]]:
    return sorted({(c.name, e.event) for c in catalogue.commands.values() for e in c.events.entries})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dropped" in metafunc.fixturenames:
        from harness.paths import specs_dir
        from harness.spec.loader import load_catalogue

        cases = _drop_cases(load_catalogue(specs_dir()))
        metafunc.parametrize("dropped", cases, ids=[f"{c}:{e}" for c, e in cases])


def test_a_command_that_drops_any_one_of_its_events_is_caught_by_its_own_test(
    tmp_path: Path, catalogue: Catalogue, dropped: tuple[str, str]
) -> None:
    command, event = dropped
    spec = catalogue.commands[command]
    from harness.cases import case_id

    success_case = case_id(catalogue, spec, 1)
    done = mbconform_run(
        tmp_path, "--fault", f"drop-event:{command}:{event}", "--profile", str(FAST_PROFILE), "-k", success_case
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"FAILED specs/commands/{command}.yaml::{success_case}" in done.stdout
    assert f"{command}: {event} about" in done.stdout
    assert "[missing event]" in done.stdout
