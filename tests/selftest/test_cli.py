"""The command line: lint reports every problem with file and line; markers and -k select tests.

One test per subcommand starts ``mbconform`` as a real process (its wiring: ``python -m harness``, the exit
status, the streams); the others call :func:`harness.cli.main` in this process, where a child process would
prove nothing more and cost a start-up (imports, the catalogue, the cases' planning) each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cases import TestCase, command_cases
from harness.cli import main
from harness.paths import default_profile, suites_dir
from harness.spec.catalogue import Catalogue
from harness.suite import Scenario, load_profile, load_scenario

pytestmark = pytest.mark.selftest
SECONDS = 60


def mbconform(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=SECONDS, check=False
    )


def test_lint_is_clean_on_the_shipped_files() -> None:
    done = mbconform("lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mbconform lint: clean" in done.stdout


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``mbconform ARGS`` run by :func:`harness.cli.main` in this process: (exit status, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lint_lists_every_problem_as_file_line_message(
    specs_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dial = specs_copy / "commands" / "channel.dial.yaml"
    dial.write_text(dial.read_text().replace("level: channel", "level: channels", 1))
    accept = specs_copy / "commands" / "interaction.accept.yaml"
    accept.write_text(accept.read_text() + "extra: 1\nextra: 2\n")
    code, out, _ = in_process(capsys, "lint", "--specs", str(specs_copy))
    assert code == 2  # an input-file error (the exit-code contract)
    lines = out.splitlines()
    assert any(
        line.endswith(
            "commands/channel.dial.yaml:4: level: 'channels' is not one of "
            "['session', 'channelgroup', 'channel', 'interaction', 'conversation']"
        )
        for line in lines
    ), out
    assert any("commands/interaction.accept.yaml:" in line and "duplicate key 'extra'" in line for line in lines)


def _case_ids(catalogue: Catalogue, keep: Callable[[TestCase], bool]) -> set[str]:
    profile = load_profile(default_profile(), catalogue)
    return {case.id for case in command_cases(catalogue, profile) if keep(case)}


def _scenario_ids(catalogue: Catalogue, keep: Callable[[Scenario], bool]) -> set[str]:
    scenarios = [load_scenario(path, catalogue) for path in sorted((suites_dir() / "conformance").glob("*.yaml"))]
    return {scenario.id for scenario in scenarios if keep(scenario)}


SELECTIONS: list[tuple[list[str], Callable[[TestCase], bool], Callable[[Scenario], bool]]] = [
    (
        ["-m", "conversation_hold"],
        lambda c: c.feature == "conversation.hold",
        lambda s: "conversation.hold" in s.commands,
    ),
    (
        ["-m", "conversation and success"],
        lambda c: c.level == "conversation" and c.story == "success",
        lambda s: False,
    ),
    (["-k", "MB-CHAN-DIAL"], lambda c: c.feature == "channel.dial", lambda s: False),
    (
        ["-m", "illegal_state and channel"],
        lambda c: c.level == "channel" and c.story.startswith("illegal"),
        lambda s: False,
    ),
    (["-m", "scenario"], lambda c: False, lambda s: True),
]


@pytest.mark.parametrize(("selection", "keep", "scenarios"), SELECTIONS, ids=[" ".join(s[0]) for s in SELECTIONS])
def test_markers_and_keywords_select_tests(
    selection: list[str],
    keep: Callable[[TestCase], bool],
    scenarios: Callable[[Scenario], bool],
    tmp_path: Path,
    catalogue: Catalogue,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The first selection through a real ``mbconform run`` process (the arguments it hands to pytest), the
    others through ``main`` in this process (pytest in pytest, as pytester's in-process runs do)."""
    expected = _case_ids(catalogue, keep) | _scenario_ids(catalogue, scenarios)
    assert expected
    args = ("run", "ws://127.0.0.1:9", "--no-html", "--reports", str(tmp_path), "--collect-only", "-q", *selection)
    if selection == SELECTIONS[0][0]:
        done = mbconform(*args)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        code, out, err = in_process(capsys, *args)
    assert code == 0, out + err
    collected = {line.rsplit("::", 1)[1] for line in out.splitlines() if "::" in line}
    assert collected == expected


def test_specs_json_lists_every_command_and_event(catalogue: Catalogue) -> None:
    done = mbconform("specs", "--json")  # a real process: the one test of the subcommand's wiring
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    assert {c["name"] for c in exported["commands"]} == set(catalogue.commands)
    assert {e["name"] for e in exported["events"]} == set(catalogue.events)
    dial = next(c for c in exported["commands"] if c["name"] == "channel.dial")
    assert dial["request_required"] == ["destination"] and dial["events_complete"] is True
    assert dial["events"][-2:] == ["interaction.preview", "interaction.initialized"]
    assert dial["source"]["seed"] == "001_a721d25eafd7d182.txt"
    for command in exported["commands"]:
        assert {
            "name",
            "level",
            "platforms",
            "media",
            "request_required",
            "results",
            "events",
            "events_complete",
            "provenance",
            "source",
        } <= set(command)
