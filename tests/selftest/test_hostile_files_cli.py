"""Every command that reads a user's file refuses a hostile one the same way (issue 15, defects 7 and 8):
exit 2, a ``file:line`` problem, no traceback and no INTERNALERROR; a billion laughs, a 990-deep nesting,
a 100,000-digit number, a file that is not UTF-8, one with a NUL and a 1 GB file each through every entry
(lint, run, fuzz, requirements, discover, replay, serve, bench, cases, specs, the pytest plugin)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.paths import project_root, suites_dir
from harness.spec.inputfile import MAX_DEPTH

pytestmark = pytest.mark.selftest
SECONDS = 60  # per command: a hostile file is refused in about a second; this only bounds a hang
CLOSED = "ws://127.0.0.1:9"  # nothing listens there: a command that refuses its input never connects

PROFILE = "format: mbconform/profile/1\nname: hostile\n"
SCENARIO = (suites_dir() / "conformance" / "directory.yaml").read_text(encoding="utf-8")
FUZZ = "format: mbconform/fuzz/1\nname: hostile\n"


def _laughs(head: str) -> str:
    lines = [head.rstrip("\n"), "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    return "\n".join(lines) + "\n"


# kind -> (what the file holds after its head, the line of its problem counted from the first line after
# the head (None: any line), the words of its problem)
KINDS: dict[str, tuple[bytes, int | None, str]] = {
    "laughs": (b"", None, "values with its aliases expanded"),
    "deep": (b"x: " + b"[" * 990 + b"]" * 990 + b"\n", 1, f"over the limit of {MAX_DEPTH}"),
    "bigint": (b"x: " + b"7" * 100_000 + b"\n", 1, "a number written with 100,000 characters"),
    "latin1": (b"description: caf\xe9\n", 1, "not UTF-8 text"),
    "nul": (b"description: a\x00b\n", 1, "a NUL character"),
    "huge": (b"", None, "over the limit of 4,194,304 for input files"),
}


LINES: dict[Path, int | None] = {}  # file -> the line its problem names


def hostile(folder: Path, kind: str, head: str, suffix: str = ".yaml") -> Path:
    path = folder / f"{kind}{suffix}"
    offset = KINDS[kind][1]
    LINES[path] = head.count("\n") + offset if offset is not None else (1 if kind == "huge" else None)
    body, _, _ = KINDS[kind]
    path.write_bytes(_laughs(head).encode() if kind == "laughs" else head.encode() + body)
    if kind == "huge":
        with path.open("r+b") as stream:
            stream.truncate(1024**3)  # sparse: 1 GB that takes no disk
    return path


def mbconform(*args: str, module: str = "harness", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
        cwd=cwd or project_root(),
    )


def refused(done: subprocess.CompletedProcess[str], path: Path, kind: str, stream: str = "stderr") -> None:
    text = done.stderr if stream == "stderr" else done.stdout
    everything = done.stdout + done.stderr
    assert "Traceback" not in everything and "INTERNALERROR" not in everything, everything[-3000:]
    assert done.returncode == 2, everything[-3000:]
    _, _, words = KINDS[kind]
    line = LINES[path]
    number = str(line) if line is not None else r"\d+"
    where = re.escape(path.name) + ":" + number + ": "
    assert re.search(where + r".*" + re.escape(words), text), text[-3000:]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for path in tmp_path.glob("huge*"):
        path.unlink()


def test_lint_refuses_each_hostile_file_at_its_line(folder: Path) -> None:
    paths = {kind: hostile(folder, kind, PROFILE) for kind in KINDS}
    done = mbconform("lint", *map(str, paths.values()))
    for kind, path in paths.items():
        refused(done, path, kind, stream="stdout")  # lint lists problems on stdout, its summary on stderr
    assert f"mbconform lint: {len(KINDS)} problem(s)" in done.stderr


def test_lint_refuses_a_hostile_file_in_a_catalogue_folder(specs_copy: Path) -> None:
    path = hostile(specs_copy / "commands", "laughs", "format: mbconform/spec/1\nkind: command\n")
    refused(mbconform("lint", "--specs", str(specs_copy)), path, "laughs", stream="stdout")


@pytest.mark.parametrize("kind", ["laughs", "bigint"])
def test_run_refuses_a_hostile_profile(folder: Path, kind: str) -> None:
    path = hostile(folder, kind, PROFILE)
    # against a URL (nothing connects), and against the embedded reference adapter (started, then stopped)
    url = [CLOSED] if kind == "laughs" else []
    refused(
        mbconform("run", *url, "--profile", str(path), "--no-html", "--reports", str(folder / "r")), path, kind
    )


def test_run_refuses_a_hostile_baseline(folder: Path) -> None:
    path = folder / "baseline.json"
    path.write_text(
        '{"format": "mbconform/baseline/1",\n"tests": ' + "[" * 990 + "]" * 990 + "}", encoding="utf-8"
    )
    done = mbconform("run", CLOSED, "--baseline", str(path), "--no-html", "--reports", str(folder / "r"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"baseline.json:2: nested {MAX_DEPTH + 1} deep" in done.stderr, done.stderr


def test_run_and_specs_refuse_a_hostile_schema_in_a_catalogue_folder(specs_copy: Path, folder: Path) -> None:
    schema = specs_copy / "meta" / "scenario-v1.schema.json"
    schema.write_text('{"x": ' + "1" * 100_000 + "}", encoding="utf-8")
    for done in (
        mbconform("run", CLOSED, "--specs", str(specs_copy), "--no-html", "--reports", str(folder / "r")),
        mbconform("specs", "--specs", str(specs_copy)),
    ):
        everything = done.stdout + done.stderr
        assert done.returncode == 2 and "Traceback" not in everything and "INTERNALERROR" not in everything
        assert "scenario-v1.schema.json:1: a number written with 100,000 characters" in done.stderr, everything


def test_fuzz_refuses_a_hostile_fuzz_profile(folder: Path) -> None:
    fuzz_file = hostile(folder, "deep", FUZZ)
    done = mbconform("fuzz", CLOSED, "--fuzz-profile", str(fuzz_file), "--reports", str(folder / "r"))
    refused(done, fuzz_file, "deep")


def test_fuzz_refuses_a_hostile_adapter_profile(folder: Path) -> None:
    profile = hostile(folder, "nul", PROFILE)
    done = mbconform("fuzz", CLOSED, "--profile", str(profile), "--reports", str(folder / "r"))
    refused(done, profile, "nul")


def test_requirements_refuses_a_hostile_profile_and_matrix(folder: Path) -> None:
    profile = hostile(folder, "latin1", PROFILE)
    refused(mbconform("requirements", "--profile", str(profile)), profile, "latin1")
    matrix = folder / "matrix.json"
    matrix.write_text('{"faults":\n[' + "7" * 100_000 + "]}", encoding="utf-8")
    done = mbconform("requirements", "--matrix", str(matrix))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "matrix.json:2: a number written with 100,000 characters" in done.stderr, done.stderr


def test_discover_refuses_a_hostile_profile_and_writes_no_draft(folder: Path) -> None:
    profile = hostile(folder, "huge", PROFILE)
    refused(
        mbconform("discover", CLOSED, "--profile", str(profile), "--out", str(folder / "d.yaml")), profile, "huge"
    )
    assert not (folder / "d.yaml").exists()


def test_cases_refuses_a_hostile_profile(folder: Path) -> None:
    profile = hostile(folder, "huge", PROFILE)
    refused(mbconform("cases", "--profile", str(profile)), profile, "huge")


def test_bench_refuses_a_hostile_cycle(folder: Path) -> None:
    cycle = hostile(folder, "laughs", "format: mbconform/bench/1\n")
    refused(mbconform("bench", CLOSED, "--cycle", str(cycle), "--reports", str(folder / "b")), cycle, "laughs")


def test_bench_refuses_a_hostile_profile(folder: Path) -> None:
    profile = hostile(folder, "bigint", PROFILE)
    refused(
        mbconform("bench", CLOSED, "--profile", str(profile), "--reports", str(folder / "b")), profile, "bigint"
    )


def test_replay_refuses_a_hostile_scenario(folder: Path) -> None:
    scenario = hostile(folder, "deep", SCENARIO)
    refused(mbconform("replay", str(scenario), CLOSED), scenario, "deep")


def test_serve_refuses_hostile_conventions_before_it_listens(folder: Path) -> None:
    conventions = hostile(folder, "laughs", PROFILE)
    refused(mbconform("serve", "--port", "0", "--conventions", str(conventions)), conventions, "laughs")


def test_the_pytest_plugin_refuses_a_hostile_profile(folder: Path) -> None:
    profile = hostile(folder, "bigint", PROFILE)
    commands = project_root() / "specs" / "commands"
    done = mbconform(
        str(commands), f"--adapter-url={CLOSED}", f"--profile={profile}", "-p", "no:cacheprovider", module="pytest"
    )
    refused(done, profile, "bigint")


def test_a_scenario_with_legal_aliases_is_clean(folder: Path) -> None:
    # within the bounds, aliases stay legal (yaml.safe_dump writes them for a value shared twice)
    text = SCENARIO.replace("target: $session", "target: &session $session", 1)
    assert text.count("target: $session") >= 1
    path = folder / "aliased.yaml"
    path.write_text(text.replace("target: $session", "target: *session"), encoding="utf-8")
    done = mbconform("lint", str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_run_refuses_a_hostile_scenario_given_as_a_path(folder: Path) -> None:
    scenario = hostile(folder, "bigint", SCENARIO)
    done = mbconform("run", CLOSED, str(scenario), "--no-html", "--reports", str(folder / "r"))
    refused(done, scenario, "bigint", stream="stdout")  # pytest reports a collection error on stdout
