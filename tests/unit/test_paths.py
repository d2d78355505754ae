"""Where mbconform finds its catalogue and suites and writes its reports (issue 18): the user's own folders
by option or environment variable, the package's otherwise, and reports in the folder where it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import paths
from harness.cmdline.parser import build_parser, profile_path


def test_reports_go_to_the_current_folder_not_the_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MBCONFORM_REPORTS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.reports_dir() == tmp_path.resolve() / "reports"
    monkeypatch.setenv("MBCONFORM_REPORTS", str(tmp_path / "elsewhere"))
    assert paths.reports_dir() == (tmp_path / "elsewhere").resolve()


def test_own_folders_come_before_the_shipped_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MBCONFORM_SPECS", "MBCONFORM_SUITES", "MBCONFORM_HOME"):
        monkeypatch.delenv(name, raising=False)
    shipped = paths.project_root()
    assert (paths.specs_dir() / "protocol.yaml").is_file() and (paths.suites_dir() / "profiles").is_dir()
    monkeypatch.setenv("MBCONFORM_HOME", str(tmp_path))
    assert (
        paths.specs_dir() == tmp_path.resolve() / "specs" and paths.suites_dir() == tmp_path.resolve() / "suites"
    )
    monkeypatch.setenv("MBCONFORM_SUITES", str(shipped / "suites"))
    assert paths.suites_dir() == (shipped / "suites").resolve()
    assert paths.specs_dir() == tmp_path.resolve() / "specs"  # each variable on its own


def test_fuzz_reproducers_never_go_into_the_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MBCONFORM_SUITES", str(paths.PACKAGED / "suites"))
    assert paths.regression_dir() == tmp_path.resolve() / "regression"
    monkeypatch.setenv("MBCONFORM_SUITES", str(tmp_path / "mine"))
    assert paths.regression_dir() == (tmp_path / "mine").resolve() / "regression"


def test_a_profile_is_a_file_or_the_name_of_a_shipped_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MBCONFORM_SUITES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert profile_path("reference-generic") == paths.suites_dir() / "profiles" / "reference-generic.yaml"
    assert profile_path("my-adapter.yaml") == Path("my-adapter.yaml")
    assert profile_path("lab/adapter") == Path("lab/adapter")


def test_every_subcommand_help_shows_an_example_its_variables_and_the_exit_codes() -> None:
    _, subcommands = build_parser()
    for name, parser in subcommands.items():
        text = parser.format_help()
        assert "example:\n  mbconform " + name in text, name
        assert "MBCONFORM_SPECS" in text and "MBCONFORM_SUITES" in text and "--suites" in text, name
        assert "130  interrupted" in text and "3    the adapter could not be reached" in text, name
    assert "MBCONFORM_SEEDS" in subcommands["requirements"].format_help()
