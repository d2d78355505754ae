"""The reports of a run that has not ended: written first, replaced by the run, removed if it wrote none."""

from __future__ import annotations

import json
from pathlib import Path

from harness.reporting.unfinished import settle, write_unfinished


def test_the_unfinished_reports_say_interrupted_and_hide_the_url_credentials(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "old-result.json").write_text("{}")
    written = write_unfinished(tmp_path, "wss://user:hunter2@adapter.example/mb")
    certificate = json.loads((tmp_path / "certificate.json").read_text())
    assert certificate["interrupted"] is True and certificate["certified"] is False
    assert "hunter2" not in (tmp_path / "certificate.json").read_text() + (tmp_path / "certificate.md").read_text()
    assert 'errors="1"' in (tmp_path / "junit.xml").read_text()
    assert not list((tmp_path / "allure-results").iterdir())  # no earlier run's results
    assert {path.name for path in written} == {"certificate.json", "certificate.md", "junit.xml"}


def test_settle_removes_what_the_run_did_not_replace_and_keeps_what_it_did(tmp_path: Path) -> None:
    written = write_unfinished(tmp_path, None)
    (tmp_path / "junit.xml").write_text('<testsuite tests="3"/>')  # replaced by the run
    settle(written)
    assert (tmp_path / "junit.xml").read_text() == '<testsuite tests="3"/>'
    assert not (tmp_path / "certificate.json").exists() and not (tmp_path / "certificate.md").exists()


def test_a_fuzz_run_gets_no_certificate(tmp_path: Path) -> None:
    written = write_unfinished(tmp_path, None, certificate=False)
    assert [path.name for path in written] == ["junit.xml"] and not (tmp_path / "certificate.json").exists()


def test_an_earlier_runs_summary_is_gone_once_a_run_starts(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text('{"exit_code": 0}')
    write_unfinished(tmp_path, None)
    assert not (tmp_path / "summary.json").exists()  # a stopped run must not leave an earlier run's "exit 0"


def test_a_run_clears_only_the_allure_files_an_earlier_run_wrote(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    (results / "notes").mkdir(parents=True)
    earlier = ["0f1e-result.json", "0f1e-container.json", "0f1e-attachment.txt", "categories.json"]
    for name in earlier:
        (results / name).write_text("{}")
    (results / "README.txt").write_text("mine")
    write_unfinished(tmp_path, None)
    assert sorted(path.name for path in results.iterdir()) == ["README.txt", "notes"]
