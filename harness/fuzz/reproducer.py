"""A fuzzer's finding as a scenario file (the format of ``suites/conformance/``), and its replay.

The file holds the shrunk call flow (targets as flow variables, frames with ``${name}`` for addresses) and a
``found:`` block: the step whose check failed, the violation, and the reference adapter's session options it
was found with. ``mbconform replay FILE`` runs the flow with the same checks and says whether the same
violation comes back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..core.results import FlowResult
from ..core.steps import Step
from ..core.violations import Violation
from .machine import FlowRecord

FORMAT = "mbconform/scenario/1"


def step_node(step: Step) -> dict[str, Any]:
    """A step as a scenario file writes it."""
    node: dict[str, Any] = {}
    if step.kind == "frame":
        data = step.data or {}
        if "hex" in data:
            node["frame_hex"] = data["hex"]
        else:
            node["frame"] = data.get("text", "")
        node["how"] = step.name
    else:
        node[step.kind] = step.name
        node["target"] = step.target
        if step.data is not None:
            node["data"] = dict(step.data)
        if step.expect:
            expect = sorted(step.expect)
            node["expect"] = expect[0] if len(expect) == 1 else expect
        if step.bind:
            node["bind"] = dict(step.bind)
    if step.title:
        node["title"] = step.title
    return node


def scenario_text(
    record: FlowRecord,
    *,
    level: str,
    profile: str,
    platform: str,
    adapter: Mapping[str, Sequence[str]],
    by: str,
    shrunk_from: int = 0,
    fence: bool = False,
    settle: float | None = None,
    redact: Callable[[str], str] | None = None,
) -> tuple[str, str]:
    """The reproducer's scenario id and YAML text. ``redact``: what the violation's texts (quoted from the
    adapter) must not show (the session's redactor; a replay's violations are redacted the same way, so they
    still match); the steps are the harness's own requests, kept as sent so the file replays."""
    finding = record.finding
    assert finding is not None
    steps = [step_node(step) for step in record.steps]
    digest = hashlib.sha256(
        json.dumps([steps, finding.violation.title, profile], sort_keys=True, default=str).encode()
    ).hexdigest()
    scenario_id = f"MB-FUZZ-{digest[:8].upper()}-001"
    violation = finding.violation
    if redact is not None:
        violation = replace(violation, title=redact(violation.title), message=redact(violation.message))
    title = redact(finding.title) if redact is not None else finding.title
    found: dict[str, Any] = {
        "by": by,
        "profile": profile,
        "step": finding.step,
        "category": violation.category.value,
        "title": violation.title,
        "message": violation.message,
    }
    if adapter:
        found["adapter"] = {key: list(values) for key, values in adapter.items()}
    if shrunk_from:
        found["shrunk_from"] = shrunk_from
    if fence:
        found["fence"] = True  # found with a fence after each step: replayed the same way
    if settle is not None:
        found["settle"] = settle  # found with this settle window: replayed the same way
    document = {
        "format": FORMAT,
        "id": scenario_id,
        "title": f"fuzz finding: {violation.title} in step {finding.step} ({title})"[:300],
        "level": level,
        "description": (
            f"Found by {by} and shrunk to {len(steps)} steps. Step {finding.step} fails: "
            f"[{violation.category.value}] {violation.title}: {violation.message}"
        )[:2000],
        "when": {"platform": [platform]},  # its data suits the platform it was found on
        "found": found,
        "steps": steps,
    }
    header = f"# A minimal reproducer written by mbconform fuzz. Replay it: mbconform replay {scenario_id}.yaml\n"
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=115, default_flow_style=False)
    return scenario_id, header + body


def write_reproducer(folder: Path, record: FlowRecord, **options: Any) -> Path:
    scenario_id, text = scenario_text(record, **options)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{scenario_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Replayed:
    reproduced: bool  # the recorded violation came back, in the recorded step
    failed: bool  # any check failed (a MUST or an error)
    matches: tuple[Violation, ...]
    summary: str


def compare(found: Mapping[str, Any] | None, result: FlowResult) -> Replayed:
    """Did the replay bring back the finding the file records?"""
    from ..core.violations import Verdict

    failed = result.verdict >= Verdict.FAIL
    if not found:
        return Replayed(False, failed, (), "the file records no finding")
    index = int(found["step"])
    matches: tuple[Violation, ...] = ()
    if 1 <= index <= len(result.steps):
        step = result.steps[index - 1]
        matches = tuple(
            v for v in step.violations if v.category.value == found["category"] and v.title == found["title"]
        )
    elif index == 0:  # the session start-up
        matches = tuple(
            v for _, v in result.violations if v.category.value == found["category"] and v.title == found["title"]
        )
    if matches:
        summary = f"reproduced: step {index}: [{found['category']}] {found['title']}: {matches[0].message}"
    elif failed:
        summary = f"not the recorded violation ([{found['category']}] {found['title']} in step {index}), another"
    else:
        summary = f"not reproduced: every check passes now (recorded: [{found['category']}] {found['title']})"
    return Replayed(bool(matches), failed, matches, summary)
