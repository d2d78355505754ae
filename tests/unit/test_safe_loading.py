"""No spec, scenario or profile text is ever run as code: a YAML tag that would build a Python object is a
``file:line`` problem and nothing executes; and the package uses no eval, exec or unsafe YAML loader."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from harness.lint import lint_paths
from harness.paths import project_root, suites_dir

ROOT = project_root()


def _payload(marker: Path) -> str:
    return f'!!python/object/apply:os.system ["touch {marker}"]'


def _lint(capsys: pytest.CaptureFixture[str], paths: list[Path], specs: Path) -> str:
    code = lint_paths(paths, specs)
    out = capsys.readouterr()
    assert code == 2, out.out + out.err  # an input-file error (the exit-code contract)
    return out.out


def test_a_spec_file_with_a_python_tag_is_a_problem_and_runs_nothing(
    specs_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "spec-ran"
    dial = specs_copy / "commands" / "channel.dial.yaml"
    lines = dial.read_text(encoding="utf-8").splitlines()
    summary = next(number for number, line in enumerate(lines, 1) if line.startswith("summary:"))
    lines[summary - 1] = f"summary: {_payload(marker)}"
    dial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _lint(capsys, [], specs_copy)
    assert f"commands/channel.dial.yaml:{summary}: YAML tag tag:yaml.org,2002:python/object/apply:os.system" in out
    assert not marker.exists()


@pytest.mark.parametrize(
    ("source", "key"),
    [("conformance/blind-transfer-unreachable.yaml", "title"), ("profiles/reference-generic.yaml", "description")],
)
def test_a_scenario_or_profile_with_a_python_tag_is_a_problem_and_runs_nothing(
    source: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "suite-ran"
    path = tmp_path / Path(source).name
    shutil.copy(suites_dir() / source, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.startswith(f"{key}:"))
    lines[line - 1] = f"{key}: {_payload(marker)}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _lint(capsys, [path], ROOT / "specs")
    assert f"{path.name}:{line}: YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed" in out
    assert not marker.exists()


UNSAFE_CALLS = {"eval", "exec", "compile", "__import__"}
UNSAFE_YAML = re.compile(
    r"yaml\.(load|load_all|unsafe_load|full_load)\(|yaml\.(Unsafe|Full)?Loader\b|UnsafeLoader"
)


def test_the_package_evaluates_no_text_as_code() -> None:
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in UNSAFE_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.id}()")
        for number, line in enumerate(source.splitlines(), 1):
            if UNSAFE_YAML.search(line) or "pickle" in line or "marshal.load" in line:
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_scan_would_see_an_unsafe_loader() -> None:
    assert UNSAFE_YAML.search("data = yaml.load(text, Loader=yaml.Loader)")
    assert UNSAFE_YAML.search("yaml.unsafe_load(text)")
    assert not UNSAFE_YAML.search("from yaml import CSafeLoader as _Loader")
