"""``mbconform lint``: check the catalogue, scenario files and profiles; print every problem."""

from __future__ import annotations

import sys
from pathlib import Path

from .paths import suites_dir
from .spec.loader import SpecError, load_catalogue
from .spec.yamlfile import SpecProblem, load_yaml_file
from .suite import load_profile, load_scenario

FORMATS = {
    "mbconform/scenario/1": "scenario",
    "mbconform/profile/1": "profile",
    "mbconform/fuzz/1": "fuzz",
    "mbconform/bench/1": "bench",
}


def _suite_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.yaml")) if path.is_dir() else [path])
    return files


def _exit_code(problems: list[SpecProblem]) -> int:
    """2, the exit code of an input-file error in every command (cmdline/exits.py): a problem in a file read
    as data, or a file refused (over a limit of harness/spec/inputfile.py: too big, too deep, not UTF-8)."""
    return 2 if problems else 0


def lint_paths(paths: list[Path], specs: Path) -> int:
    problems: list[SpecProblem] = []
    try:
        catalogue = load_catalogue(specs)
    except SpecError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"mbconform lint: {len(exc.problems)} problem(s) in the spec catalogue", file=sys.stderr)
        return _exit_code(exc.problems)
    spec_root = catalogue.root
    targets = [p for p in (paths or [suites_dir()]) if spec_root not in [p.resolve(), *p.resolve().parents]]
    checked = 0
    for path in _suite_files(targets):
        loaded = load_yaml_file(path)
        if loaded.problems:
            problems.extend(loaded.problems)
            continue
        kind = FORMATS.get(str(loaded.data.get("format"))) if isinstance(loaded.data, dict) else None
        try:
            if kind == "scenario":
                load_scenario(path, catalogue)
            elif kind == "profile":
                load_profile(path, catalogue)
            elif kind == "fuzz":
                from .fuzz.run import load_fuzz_profile

                load_fuzz_profile(path)
            elif kind == "bench":
                from .bench.cycle import load_cycle

                load_cycle(path, catalogue)
            else:
                problems.append(loaded.problem(("format",), f"unknown format (expected one of {sorted(FORMATS)})"))
                continue
            checked += 1
        except SpecError as exc:
            problems.extend(exc.problems)
    for problem in sorted(problems, key=lambda p: (p.file, p.line)):
        print(problem)
    commands, events = len(catalogue.commands), len(catalogue.events)
    summary = (
        f"{commands} commands, {events} events, {len(catalogue.requirements)} requirements, {checked} suite files"
    )
    if problems:
        print(f"mbconform lint: {len(problems)} problem(s); {summary}", file=sys.stderr)
        return _exit_code(problems)
    print(f"mbconform lint: clean ({summary}; catalogue {catalogue.version})")
    return 0
