"""``mbconform requirements``: requirement -> the spec elements that encode it -> the test ids that exercise
them -> the reference adapter's faults that prove the check catches a violation of it.

- The spec elements come from the spec files: each names the requirement ids it encodes (``requirement:``).
- The test ids are the applicable generated cases and call flows on the default reference profiles
  (``CASE[profile]``, as ``mbconform selftest`` names them). Which cases exercise an element follows from
  what the element is: a command's precondition is exercised by its success and illegal-state cases, its
  event list by its success case and the call flows that send it, an outcome by that outcome's cases, a
  response rule by every case that expects that result, the start-up by every case.
- The proving faults come from a detection matrix (``mbconform selftest --json FILE``): a fault proves a
  requirement when a test that detects it fails with a MUST violation citing that requirement. Without
  ``--matrix`` they are *not measured*; the whole matrix is never run from here.

A requirement without a check, without a case, or (measured) without a proving fault is a gap, with why.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cases import TestCase
from .paths import project_root, reference_profiles, suites_dir
from .spec.catalogue import Catalogue, RequirementSpec
from .spec.inputfile import InputRefused, load_json_file
from .spec.loader import SpecError, spec_files
from .spec.requirements import check_quotes, citations
from .spec.yamlfile import display_path, load_yaml_file
from .suite import Profile, load_profile

SHOWN = 6  # test ids and faults shown per requirement in the text (all of them in the JSON)
QUOTE_CHARS = 110
ALL_CASES = "every case (each session's start-up)"


@dataclass(frozen=True)
class Encoding:
    """A spec element that names a requirement: where it is, and what it is."""

    file: str
    line: int
    kind: str  # command, stimulus, event, startup, protocol
    owner: str  # the command's, stimulus's or event's name; the file's kind otherwise
    part: tuple[str | int, ...]  # the path of the element in its file: () the whole spec, ("events",) ...

    @property
    def element(self) -> str:
        if not self.part:
            return self.kind if self.owner == self.kind else f"{self.kind} {self.owner}"
        if self.part[0] == "outcomes" and len(self.part) > 1:
            return f"{self.kind} {self.owner} › outcome #{int(self.part[1]) + 1}"
        head = self.kind if self.owner == self.kind else f"{self.kind} {self.owner}"
        return f"{head} › {'.'.join(str(p) for p in self.part)}"

    def describe(self) -> str:
        return f"{self.file}:{self.line} {self.element}"


@dataclass
class Row:
    requirement: RequirementSpec
    encodings: list[Encoding] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    every_case: bool = False
    faults: list[str] | None = None  # None: not measured
    gap: str = ""


@dataclass
class Matrix:
    """What a saved ``mbconform selftest --json`` says: per fault, the requirement ids its detections cite."""

    file: str
    catalogue: str
    faults: Mapping[str, frozenset[str]]  # fault -> requirement ids

    @classmethod
    def read(cls, path: Path) -> Matrix:
        try:
            data = load_json_file(path)
        except InputRefused as exc:
            raise ValueError(f"{path}:{exc.where}: {exc.message}") from None
        if not isinstance(data, dict) or not isinstance(data.get("faults"), list):
            raise ValueError(f"{path}: not a matrix written by mbconform selftest --json")
        faults = {}
        for row in data["faults"]:
            if "requirements" not in row:
                raise ValueError(f"{path}: written before faults named requirements; run mbconform selftest again")
            faults[str(row["name"])] = frozenset(row["requirements"]) if row.get("detected") else frozenset()
        return cls(str(path), str(data.get("catalogue_version", "")), faults)


def encodings(catalogue: Catalogue) -> dict[str, list[Encoding]]:
    """Requirement id -> the spec elements that name it, read from the spec files."""
    root = catalogue.root
    found: dict[str, list[Encoding]] = {}
    for path in spec_files(root):
        doc = load_yaml_file(path, display_path(path, root.parent))
        if doc.problems or not isinstance(doc.data, dict):
            continue  # the loader reported it already (the catalogue would not have loaded)
        kind = str(doc.data.get("kind"))
        owner = str(doc.data.get("name", kind))
        for element, rid in citations(doc):
            line = doc.line_of((*element, "requirement"))
            found.setdefault(rid, []).append(Encoding(doc.file, line, kind, owner, tuple(element)))
    return found


def _steps(case: TestCase) -> list[Any]:
    return list(case.flow.steps)


def _sends(case: TestCase, kind: str, name: str) -> bool:
    return any(step.kind == kind and step.name == name for step in _steps(case))


def _lists_naming(catalogue: Catalogue, event: str) -> tuple[set[str], set[str]]:
    """The commands and stimuli whose event lists (an outcome's too) name the event."""
    commands = {
        command.name
        for command in catalogue.commands.values()
        for events in (command.events, *(o.events for o in command.outcomes if o.events is not None))
        if events is not None and any(entry.event == event for entry in events.entries)
    }
    stimuli = {
        stimulus.name
        for stimulus in catalogue.stimuli.values()
        if any(entry.event == event for entry in stimulus.events.entries)
    }
    return commands, stimuli


def exercises(catalogue: Catalogue, encoding: Encoding, case: TestCase) -> bool:
    """Whether the case runs the check built from the element."""
    part = encoding.part[0] if encoding.part else ""
    if encoding.kind == "command":
        own = case.feature == encoding.owner
        if part == "outcomes":
            command = catalogue.commands.get(encoding.owner)
            index = int(encoding.part[1]) if len(encoding.part) > 1 else -1
            name = command.outcomes[index].name if command and 0 <= index < len(command.outcomes) else None
            return own and case.story == f"outcome: {name}"
        if part == "when":
            return own and (case.story == "success" or case.story.startswith("illegal from"))
        if part == "request":
            return own and case.story in ("success", "invalid data")
        if part == "events":
            return (own and case.story == "success") or (
                case.feature == "call flows" and _sends(case, "command", encoding.owner)
            )
        return own and not case.story.startswith("outcome")
    if encoding.kind == "stimulus":
        plan = case.flow.plan.steps if case.flow.plan is not None else ()
        return any(step.kind == "stimulus" and step.name == encoding.owner for step in (*plan, *_steps(case)))
    if encoding.kind == "event":
        commands, stimuli = _lists_naming(catalogue, encoding.owner)
        return any(_sends(case, "command", name) for name in commands) or any(
            _sends(case, "stimulus", name) for name in stimuli
        )
    if encoding.kind == "protocol" and part == "responses" and len(encoding.part) > 1:
        result = str(encoding.part[1])
        return any(result in (step.expect or ()) for step in _steps(case))
    return False


def _every_case(encoding: Encoding) -> bool:
    return encoding.kind == "startup"


def coverage(
    catalogue: Catalogue, profiles: Sequence[Profile], matrix: Matrix | None, scenario_files: Sequence[Path]
) -> list[Row]:
    from .selftest import suite_cases  # the cases the self-test runs: the same ids

    cases = [(profile, case) for profile in profiles for case in suite_cases(catalogue, profile, scenario_files)]
    found = encodings(catalogue)
    rows = []
    for requirement in catalogue.requirements.values():
        row = Row(requirement, found.get(requirement.id, []))
        row.every_case = any(_every_case(e) for e in row.encodings)
        row.tests = sorted(
            {
                f"{case.id}[{profile.name}]"
                for profile, case in cases
                if any(exercises(catalogue, encoding, case) for encoding in row.encodings)
            }
        )
        if matrix is not None:
            row.faults = sorted(name for name, cited in matrix.faults.items() if requirement.id in cited)
        row.gap = _gap(row)
        rows.append(row)
    return rows


def _gap(row: Row) -> str:
    if not row.encodings:
        return "no check: " + (row.requirement.unchecked or "no spec element names it")
    if not row.tests and not row.every_case:
        return "no generated case or call flow exercises its check on the reference profiles"
    if row.faults is not None and not row.faults:
        return "no fault of the reference adapter is caught by a violation that cites it"
    return ""


def default_seeds() -> Path | None:
    """The seed files: ``$MBCONFORM_SEEDS``, else ``../shared/seeds`` beside the checkout, if there."""
    env = os.environ.get("MBCONFORM_SEEDS")
    path = Path(env) if env else project_root().parent / "shared" / "seeds"
    return path if path.is_dir() else None


def _shown(items: Sequence[str]) -> str:
    more = len(items) - SHOWN
    return ", ".join(items[:SHOWN]) + (f" (+{more})" if more > 0 else "")


def _by_case(test_ids: Sequence[str]) -> list[str]:
    """``CASE[profile]`` ids as one entry per case, with the number of profiles it runs on."""
    profiles: dict[str, int] = {}
    for test_id in test_ids:
        case = test_id.split("[", 1)[0]
        profiles[case] = profiles.get(case, 0) + 1
    return [f"{case} ×{count}" if count > 1 else case for case, count in profiles.items()]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def render(catalogue: Catalogue, rows: Sequence[Row], matrix: Matrix | None, notes: Iterable[str]) -> str:
    must = sum(row.requirement.strength == "MUST" for row in rows)
    ruled = sum(row.requirement.provenance == "ruling" for row in rows)
    checked = sum(bool(row.encodings) for row in rows)
    lines = [
        f"mbconform requirements: {len(rows)} requirements ({must} MUST, {len(rows) - must} SHOULD; "
        f"{len(rows) - ruled} seed, {ruled} ruling), {checked} with a check; catalogue {catalogue.version}",
        *notes,
        "",
    ]
    for row in rows:
        req = row.requirement
        origin = f"ruling {req.ruling}" if req.ruling else "seed"
        lines.append(f"{req.id}  {req.strength}  {origin}  {req.seed} › {req.section}")
        lines.append(f"  quote:  {_short(req.quote)}")
        if row.encodings:
            lines.extend(f"  check:  {encoding.describe()}" for encoding in row.encodings)
        else:
            lines.append(f"  check:  none ({req.unchecked or 'no spec element names it'})")
        tests = ([ALL_CASES] if row.every_case else []) + _by_case(row.tests)
        lines.append(f"  tests:  {_shown(tests) if tests else 'none'}")
        if row.faults is None:
            lines.append("  faults: not measured")
        else:
            lines.append(f"  faults: {_shown(row.faults) if row.faults else 'none'}")
    gaps = [row for row in rows if row.gap]
    lines += ["", f"gaps: {len(gaps)} of {len(rows)} requirements"]
    lines += [f"  {row.requirement.id}: {row.gap}" for row in gaps]
    if matrix is None:
        lines.append(
            "  (proving faults not measured: give --matrix FILE, written by mbconform selftest --json FILE)"
        )
    return "\n".join(lines)


def to_json(catalogue: Catalogue, rows: Sequence[Row], matrix: Matrix | None, profiles: Sequence[Profile]) -> Any:
    return {
        "catalogue_version": catalogue.version,
        "profiles": [profile.name for profile in profiles],
        "matrix": None
        if matrix is None
        else {
            "file": matrix.file,
            "catalogue_version": matrix.catalogue,
            "stale": matrix.catalogue != catalogue.version,
        },
        "requirements": [
            {
                "id": row.requirement.id,
                "strength": row.requirement.strength,
                "provenance": row.requirement.provenance,
                "ruling": row.requirement.ruling,
                "seed": row.requirement.seed,
                "section": row.requirement.section,
                "quote": row.requirement.quote,
                "summary": row.requirement.summary,
                "defined": f"{row.requirement.ref.file}:{row.requirement.ref.line}",
                "checks": [
                    {"file": e.file, "line": e.line, "element": e.element, "kind": e.kind, "owner": e.owner}
                    for e in row.encodings
                ],
                "every_case": row.every_case,
                "tests": row.tests,
                "faults": row.faults,
                "gap": row.gap or None,
            }
            for row in rows
        ],
        "gaps": [{"id": row.requirement.id, "reason": row.gap} for row in rows if row.gap],
    }


def run_cli(
    catalogue: Catalogue,
    profile_paths: Sequence[Path] | None,
    matrix_path: Path | None,
    seeds: Path | None,
    as_json: bool,
) -> int:
    """0: printed (every quote verbatim where the seeds were found); 1: a quote is not in its seed; 2: could
    not run (a bad profile, an unreadable matrix)."""
    notes: list[str] = []
    try:
        profiles = [load_profile(path, catalogue) for path in profile_paths or reference_profiles()]
        matrix = Matrix.read(matrix_path) if matrix_path is not None else None
    except SpecError as exc:
        print(f"mbconform requirements: the profiles have problems:\n{exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"mbconform requirements: cannot read the matrix: {exc}", file=sys.stderr)
        return 2
    if matrix is None:
        notes.append("faults: not measured (give --matrix FILE, written by mbconform selftest --json FILE)")
    elif matrix.catalogue != catalogue.version:
        warning = (
            f"the matrix {matrix.file} was measured on catalogue {matrix.catalogue or '(unknown)'}, this is "
            f"{catalogue.version}: its faults may be stale (run mbconform selftest --json again)"
        )
        print(f"mbconform requirements: warning: {warning}", file=sys.stderr)
        notes.append(f"faults: from {matrix.file}, STALE ({warning})")
    else:
        notes.append(f"faults: from {matrix.file} (catalogue {matrix.catalogue})")
    seeds = seeds or default_seeds()
    problems = check_quotes(catalogue.requirements, seeds) if seeds is not None else []
    if seeds is None:
        notes.append("quotes: not checked (no seed folder: --seeds DIR or MBCONFORM_SEEDS)")
    elif not problems:
        notes.append(f"quotes: all {len(catalogue.requirements)} found verbatim in {seeds}")
    for problem in problems:
        print(f"mbconform requirements: {problem}", file=sys.stderr)
    scenario_files = sorted((suites_dir() / "conformance").glob("*.yaml"))
    rows = coverage(catalogue, profiles, matrix, scenario_files)
    if as_json:
        print(json.dumps(to_json(catalogue, rows, matrix, profiles), indent=2))
    else:
        print(render(catalogue, rows, matrix, notes))
    return 1 if problems else 0
