"""The requirements of ``specs/requirements.yaml`` and the ids the other spec files cite.

Every normative statement of the seeds is a requirement with a stable id, its exact quote and seed
section, its provenance (``seed``, or ``ruling`` with the ERRATA ruling on a contradiction) and its
strength. A spec element that encodes one names it (``requirement: REQ-...``); the loader puts the ids on
that element's :class:`SpecRef`, so every violation built from it shows them. Problems are ``file:line``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .catalogue import RequirementSpec, SpecRef
from .inputfile import InputRefused, read_input_text
from .yamlfile import JsonPath, LoadedYaml, SpecProblem

KEY = "requirement"  # the key under which a spec element names the requirement(s) it encodes
ERRATA = "ERRATA.md"
RULING_HEADING = re.compile(r"^## (R\d+)\.", re.MULTILINE)
WHITESPACE = re.compile(r"\s+")


def ids_of(node: Any) -> tuple[str, ...]:
    """The requirement ids a spec element names (``requirement``: one id or a list)."""
    if not isinstance(node, Mapping):
        return ()
    value = node.get(KEY)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def merged(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Ids of several elements, each once, in the order first named."""
    return tuple(dict.fromkeys(item for group in groups for item in group))


def rulings(root: Path) -> frozenset[str]:
    """The ruling ids (``R13``) that ``specs/ERRATA.md`` defines; :class:`InputRefused` over an input limit."""
    path = root / ERRATA
    if not path.is_file():
        return frozenset()
    return frozenset(RULING_HEADING.findall(read_input_text(path)))


def build_requirements(
    doc: LoadedYaml | None, known_rulings: frozenset[str], problems: list[SpecProblem]
) -> dict[str, RequirementSpec]:
    if doc is None:
        return {}
    found: dict[str, RequirementSpec] = {}
    for index, node in enumerate(doc.data["requirements"]):
        at: JsonPath = ("requirements", index)
        rid = node["id"]
        if rid in found:
            problems.append(doc.problem((*at, "id"), f"{rid} is already defined at line {found[rid].ref.line}"))
            continue
        ruling = node.get("ruling")
        if ruling is not None and ruling not in known_rulings:
            problems.append(doc.problem((*at, "ruling"), f"{rid}: ERRATA.md has no ruling {ruling}"))
        found[rid] = RequirementSpec(
            id=rid,
            strength=node["strength"],
            provenance=node["provenance"],
            ruling=ruling,
            seed=node["seed"],
            section=node["section"],
            quote=node["quote"],
            summary=node["summary"],
            ref=SpecRef(doc.file, doc.line_of((*at, "id")), node["seed"], node["section"]),
            unchecked=node.get("unchecked"),
        )
    return found


def _citations(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """Every id named under a ``requirement`` key anywhere in a spec document, with its path."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == KEY:
                if isinstance(item, str):
                    yield (*path, key), item
                elif isinstance(item, list):
                    yield from (((*path, key, i), rid) for i, rid in enumerate(item) if isinstance(rid, str))
            else:
                yield from _citations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _citations(item, (*path, index))


def check_citations(
    documents: list[LoadedYaml], requirements: Mapping[str, RequirementSpec], problems: list[SpecProblem]
) -> None:
    """Each id a spec element names is a requirement of ``specs/requirements.yaml``; each requirement is
    named by some spec element, or says why no check enforces it (``unchecked``), and not both."""
    cited: set[str] = set()
    for doc in documents:
        if doc.data.get("kind") == "requirements":
            continue
        for path, rid in _citations(doc.data, ()):
            cited.add(rid)
            if rid not in requirements:
                problems.append(doc.problem(path, f"{rid} is not a requirement of specs/requirements.yaml"))
    for requirement in requirements.values():
        where = requirement.ref
        if requirement.id not in cited and requirement.unchecked is None:
            problems.append(
                SpecProblem(
                    where.file,
                    where.line,
                    f"{requirement.id}: no spec element names it; add 'requirement: {requirement.id}' where it is "
                    "encoded, or say why nothing checks it ('unchecked')",
                )
            )
        elif requirement.id in cited and requirement.unchecked is not None:
            problems.append(
                SpecProblem(
                    where.file, where.line, f"{requirement.id}: says 'unchecked' but a spec element names it"
                )
            )


def citations(doc: LoadedYaml) -> Iterator[tuple[JsonPath, str]]:
    """The requirement ids a spec document names, each with the path of the element that names it."""
    for path, rid in _citations(doc.data, ()):
        element = path[: path.index(KEY)]
        yield element, rid


def normalized(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def check_quotes(requirements: Mapping[str, RequirementSpec], seeds: Path) -> list[SpecProblem]:
    """Each requirement's quote is in its seed file, word for word (whitespace aside)."""
    texts: dict[str, str | None] = {}
    problems: list[SpecProblem] = []
    for requirement in requirements.values():
        path = seeds / requirement.seed
        if requirement.seed not in texts:
            texts[requirement.seed] = None
            try:
                texts[requirement.seed] = normalized(read_input_text(path)) if path.is_file() else None
            except InputRefused as exc:
                problems.append(SpecProblem(str(path), exc.line, exc.message, refused=True))
            except OSError as exc:
                problems.append(SpecProblem(str(path), 1, f"cannot read: {exc.strerror}"))
        text = texts[requirement.seed]
        where = requirement.ref
        if text is None and path.is_file():
            continue  # refused or unreadable: said once above
        if text is None:
            problems.append(
                SpecProblem(where.file, where.line, f"{requirement.id}: no seed file {seeds / requirement.seed}")
            )
        elif normalized(requirement.quote) not in text:
            problems.append(
                SpecProblem(where.file, where.line, f"{requirement.id}: the quote is not in {requirement.seed}")
            )
    return problems
