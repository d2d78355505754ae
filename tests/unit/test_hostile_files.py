"""Input files are parsed with limits (issue 15, defects 7 and 8): a hostile profile, scenario, spec file,
baseline or catalogue schema is a ``file:line`` problem, refused quickly and with little memory, never a
traceback; a file with legal YAML aliases, and one just within every limit, still loads."""

from __future__ import annotations

import base64
import json
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.conventions import ConventionError, from_query
from harness.paths import project_root
from harness.reporting.baseline import BaselineError, load_baseline
from harness.spec import yamlfile
from harness.spec.inputfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NUMBER_CHARS, MAX_VALUES, check_json_text
from harness.spec.loader import SpecError, load_catalogue
from harness.spec.yamlfile import LoadedYaml, load_yaml_file, load_yaml_text
from harness.suite import load_profile

HEAD = "format: mbconform/profile/1\nname: hostile\n"
PEAK_BYTES = 16 * 1024 * 1024  # what a refusal may cost at most (the defect: 4.6 GB for 940 bytes)


def laughs(levels: int, width: int) -> str:
    """A "billion laughs": each anchor a list of ``width`` aliases to the one before: width**levels values."""
    lines = [HEAD.rstrip("\n"), f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def flow_deep(depth: int) -> str:
    return HEAD + "x: " + "[" * depth + "]" * depth + "\n"


def block_deep(depth: int) -> str:
    return (
        HEAD
        + "x:\n"
        + "".join(" " * (level + 1) + f"k{level}:\n" for level in range(depth))
        + " " * depth
        + " v\n"
    )


def measured(load: Callable[[], LoadedYaml]) -> tuple[LoadedYaml, int]:
    tracemalloc.start()
    try:
        loaded = load()
        return loaded, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refused(loaded: LoadedYaml) -> str:
    [problem] = loaded.problems
    assert problem.refused, problem
    assert loaded.data is None
    return str(problem)


def write(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("levels", "width"), [(9, 9), (6, 9), (40, 10)], ids=["940-bytes", "531k", "10^40"])
def test_a_billion_laughs_is_refused_at_its_line_with_little_memory(
    tmp_path: Path, levels: int, width: int
) -> None:
    path = write(tmp_path, laughs(levels, width))
    loaded, peak = measured(lambda: load_yaml_file(path, "hostile.yaml"))
    text = refused(loaded)
    assert (
        text.startswith("hostile.yaml:") and f"more than {MAX_VALUES:,} values with its aliases expanded" in text
    )
    line = int(text.split(":")[1])
    assert 3 < line <= levels + 2  # the line of the alias that crossed the limit
    assert peak < PEAK_BYTES, f"{peak:,} bytes traced"


def test_aliases_in_mapping_keys_and_values_are_counted_too() -> None:
    text = HEAD + "b0: &b0 {" + ", ".join(f"k{n}: v" for n in range(9)) + "}\n"
    for level in range(1, 8):
        keys = [f"? *b{level - 1} : x"] if level == 3 else []  # an alias as a key expands as well
        keys += [f"k{n}: *b{level - 1}" for n in range(len(keys), 9)]
        text += f"b{level}: &b{level} {{{', '.join(keys)}}}\n"
    loaded, peak = measured(lambda: load_yaml_text(text, "keys.yaml"))
    assert "values with its aliases expanded" in refused(loaded)
    assert peak < PEAK_BYTES


@pytest.mark.parametrize("text", ["a: &a [*a, 1]\n", "a: &a {k: *a}\n", "a: 1\nb: &b {k: [1, {x: *b}]}\n"])
def test_an_alias_inside_its_own_anchor_is_refused_not_expanded_forever(text: str) -> None:
    # PyYAML composes it as a cycle: converting it was a RecursionError traceback
    problem = refused(load_yaml_text(HEAD + text, "cycle.yaml"))
    assert problem.startswith("cycle.yaml:") and "an alias inside the value of its own anchor" in problem


def test_a_flat_file_of_too_many_values_is_refused() -> None:
    text = HEAD + "x: [" + ", ".join(["1"] * (MAX_VALUES + 1)) + "]\n"
    assert f"more than {MAX_VALUES:,} values" in refused(load_yaml_text(text, "flat.yaml"))


def test_legal_aliases_within_the_bound_still_load_expanded(tmp_path: Path) -> None:
    text = HEAD + "base: &base {step_timeout: 5, settle: 0.2}\ntiming: *base\nlists: [*base, *base]\n"
    loaded = load_yaml_text(text, "aliases.yaml")
    assert not loaded.problems
    assert loaded.data["timing"] == {"step_timeout": 5, "settle": 0.2} == loaded.data["lists"][1]
    assert loaded.line_of(("lists", 1, "settle")) == 3


@pytest.mark.parametrize("depth", [600, 990, 5000])
@pytest.mark.parametrize("shape", [flow_deep, block_deep], ids=["flow", "block"])
def test_deep_nesting_is_refused_at_its_line(depth: int, shape: Callable[[int], str]) -> None:
    text = shape(depth)  # 5000 deep in block style is 12 MB of indentation: made before measuring
    loaded, peak = measured(lambda: load_yaml_text(text, "deep.yaml"))
    problem = refused(loaded)
    assert problem.startswith("deep.yaml:") and f"over the limit of {MAX_DEPTH}" in problem, problem
    if shape is block_deep and depth < 1000:  # deeper, libyaml stops at its own limit (1,000) first
        assert problem.startswith(f"deep.yaml:{MAX_DEPTH + 3}:")  # the key that opened the 65th mapping
    assert peak < PEAK_BYTES


def test_nesting_at_the_limit_loads_and_one_more_is_refused() -> None:
    assert not load_yaml_text(flow_deep(MAX_DEPTH - 1), "ok.yaml").problems  # the document's mapping is one
    assert "over the limit" in refused(load_yaml_text(flow_deep(MAX_DEPTH), "deep.yaml"))


def test_nesting_reached_only_through_an_alias_is_refused() -> None:
    half = MAX_DEPTH // 2 + 2
    text = HEAD + "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    problem = refused(load_yaml_text(text, "alias-deep.yaml"))
    assert (
        problem.startswith("alias-deep.yaml:4: nested 69 deep") and "counted with its aliases expanded" in problem
    )


@pytest.mark.parametrize(
    "value",
    ["1" * 100_000, "-" + "9" * 5000, "0x" + "f" * 200, "1." + "5" * 100_000, "1" * (MAX_NUMBER_CHARS + 1)],
)
def test_a_huge_number_is_refused_at_its_line(value: str) -> None:
    loaded, peak = measured(lambda: load_yaml_text(HEAD + "timing:\n  step_timeout: " + value + "\n", "n.yaml"))
    text = refused(loaded)
    assert text.startswith("n.yaml:4: a number written with") and f"limit of {MAX_NUMBER_CHARS}" in text
    assert peak < PEAK_BYTES


def test_a_long_number_in_quotes_is_a_string_and_loads() -> None:
    loaded = load_yaml_text(HEAD + f"id: '{'1' * 100_000}'\nn: {'9' * MAX_NUMBER_CHARS}\n", "q.yaml")
    assert not loaded.problems and loaded.data["id"] == "1" * 100_000 and loaded.data["n"] == int("9" * 100)


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.encode() + b"description: caf\xe9\n")
    assert refused(load_yaml_file(path, "latin1.yaml")).startswith("latin1.yaml:3: not UTF-8 text: byte")


def test_a_file_with_a_nul_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(HEAD.encode() + b"description: a\x00b\n")
    assert refused(load_yaml_file(path, "nul.yaml")).startswith("nul.yaml:3: a NUL character")


@pytest.fixture
def sparse_gigabyte(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:
        stream.write(HEAD.encode())
        stream.truncate(1024**3)  # a sparse file: 1 GB that takes no disk
    yield path
    path.unlink()


def test_a_huge_file_is_refused_before_it_is_read(sparse_gigabyte: Path) -> None:
    loaded, peak = measured(lambda: load_yaml_file(sparse_gigabyte, "huge.yaml"))
    text = refused(loaded)
    assert (
        text
        == f"huge.yaml:1: the file is 1,073,741,824 bytes, over the limit of {MAX_FILE_BYTES:,} for input files"
    )
    assert peak < PEAK_BYTES


def test_a_file_without_a_size_is_read_no_further_than_the_bound() -> None:
    # /dev/zero says it is empty and never ends: reading stops one byte past the bound
    loaded, peak = measured(lambda: load_yaml_file(Path("/dev/zero"), "zero"))
    assert (
        refused(loaded)
        == f"zero:1: the file holds more than {MAX_FILE_BYTES:,} bytes, the limit for an input file"
    )
    assert peak < 2 * MAX_FILE_BYTES + PEAK_BYTES


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "profile.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    assert refused(load_yaml_file(fifo, "profile.yaml")).startswith(
        "profile.yaml:1: a pipe or a socket, not a file"
    )


def test_a_hostile_profile_is_a_spec_error_naming_file_and_line(tmp_path: Path, catalogue: Any) -> None:
    path = write(tmp_path, laughs(9, 9))
    with pytest.raises(SpecError) as caught:
        load_profile(path, catalogue)
    assert [problem.refused for problem in caught.value.problems] == [True]
    assert "hostile.yaml:" in str(caught.value)


def test_every_shipped_file_is_within_the_limits() -> None:
    root = project_root()
    files = sorted((root / "specs").rglob("*.yaml")) + sorted((root / "suites").rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        assert not [p for p in load_yaml_file(path).problems if p.refused], path


# JSON inputs: baselines, the catalogue's schemas


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('{"format":\n' + "[" * 5000 + "]" * 5000 + "}", 2, f"nested {MAX_DEPTH + 1} deep"),
        ('{"format": "mbconform/baseline/1",\n "n": ' + "1" * 100_000 + "}", 2, "a number written with 100,000"),
        ("[" + "0," * (MAX_VALUES + 1) + "0]", 1, f"more than {MAX_VALUES:,} values"),
    ],
    ids=["deep", "huge-int", "many-values"],
)
def test_a_hostile_baseline_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    assert str(caught.value).startswith(f"baseline {path}:{line}: ") and words in str(caught.value)


def test_json_strings_holding_brackets_and_digits_are_not_counted() -> None:
    check_json_text(json.dumps({"a": "[" * 10_000 + "1" * 10_000, "b": '\\"[[['}))


def test_a_hostile_schema_in_a_catalogue_folder_is_a_problem(specs_copy: Path) -> None:
    schema = specs_copy / "meta" / "profile-v1.schema.json"
    schema.write_text('{"type":\n' + "[" * 1000 + "]" * 1000 + "}", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(specs_copy)
    [problem] = caught.value.problems
    assert problem.refused and str(problem).endswith(
        f"meta/profile-v1.schema.json:2: nested {MAX_DEPTH + 1} deep, over the limit of {MAX_DEPTH} for an input"
        " file"
    )


def test_a_hostile_spec_file_in_a_catalogue_folder_is_a_problem(specs_copy: Path) -> None:
    (specs_copy / "commands" / "zz-hostile.yaml").write_text(laughs(12, 10), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_catalogue(specs_copy)
    assert any(p.refused and "commands/zz-hostile.yaml:" in str(p) for p in caught.value.problems)


def test_a_value_quoted_in_a_problem_is_escaped_and_cut() -> None:
    key = "\\e[2J" + "k" * 1000  # ESC in YAML's escape; an implicit key holds at most 1024 characters
    loaded = load_yaml_text(HEAD + f'"{key}": 1\n"{key}": 2\nwhen: 2001-01-01\n', "dup.yaml")
    [duplicate, date] = map(str, loaded.problems)
    assert duplicate.startswith("dup.yaml:4: duplicate key '\\x1b[2Jkkk") and duplicate.endswith(
        "(1,004 characters)"
    )
    assert len(duplicate) < 200 and "\x1b" not in duplicate
    assert date.startswith("dup.yaml:5: value '2001-01-01' is not plain JSON data")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[" * 3000 + b"]" * 3000, f"nested {MAX_DEPTH + 1} deep"),
        (b'{"a": ' + b"1" * 5000 + b"}", "5,000 characters"),
    ],
)
def test_the_reference_adapters_conventions_option_is_parsed_with_limits(
    catalogue: Any, raw: bytes, words: str
) -> None:
    with pytest.raises(ConventionError) as caught:
        from_query(catalogue, base64.urlsafe_b64encode(raw).decode())
    assert words in str(caught.value)


@pytest.mark.parametrize("text", [flow_deep(200), block_deep(100), laughs(9, 9), HEAD + "a: &a [*a]\n"])
def test_the_pure_python_loader_is_held_to_the_same_limits(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    # without libyaml, PyYAML composes in Python, recursively, and has no nesting limit of its own (its
    # scanner is slow on deep flow nesting: seconds for 990 levels, a limit of the fallback, not tested here)
    monkeypatch.setattr(yamlfile, "_Loader", yaml.SafeLoader)
    loaded, peak = measured(lambda: load_yaml_text(text, "pure.yaml"))
    assert refused(loaded).startswith("pure.yaml:")
    assert peak < PEAK_BYTES
