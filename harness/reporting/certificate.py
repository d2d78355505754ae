"""The certificate: a verdict per capability the profile declares, for a reviewer (Markdown) and for machines
(JSON), written as ``certificate.md`` and ``certificate.json`` after every run.

Per profile that ran:

- each command of the catalogue: declared, its verdict is the worst of its test cases that ran (a case that
  does not apply to the profile, like an outcome of another platform, does not count), with the ids of the
  cases behind a verdict other than pass; not declared, it is not applicable, with the reason;
- each stimulus: declared, the worst verdict of every step that produced it, in any case (a set-up too:
  an inbound call whose events are wrong is the adapter's fault even where the case ends inconclusive);
- each call flow (scenario): its own verdict, or not applicable with the reason.

Verdicts order as everywhere (pass < warn < inconclusive < fail < error). A declared capability that no case
of this run exercised, though some case would have (a ``-k`` selection, a stopped run), is *not run*; a
declared stimulus that no case of the suite produces at all is *not tested* (a gap of the suite, not of the
adapter). The profile is certified when no declared capability fails or errs and none is left not run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cases import TestCase
from ..core.shown import code, markdown
from ..core.violations import Verdict
from ..spec.catalogue import Catalogue
from ..suite import Profile

CERTIFICATE_FORMAT = "mbconform/certificate/1"
NOT_RUN = "not run"
INTERRUPTED = "the run was interrupted: the verdicts below are those of the tests that ended before it"
NOT_TESTED = "not tested"
NOT_APPLICABLE = "not applicable"
ORDER = ("pass", "warn", "inconclusive", "fail", "error", NOT_RUN, NOT_TESTED)
FAILING = frozenset({"fail", "error"})
CALL_FLOWS = "call flows"  # the feature of scenario cases (harness/cases.py)
EXTRAS = "extras"  # the certificate's table of a profile's declared extra commands and stimuli
MAX_CASES_SHOWN = 10  # per convention in the Markdown (the JSON lists them all)


@dataclass(frozen=True)
class CaseOutcome:
    """What one case of the run gave: its verdict and, per stimulus it produced, the worst verdict of those
    steps."""

    verdict: str  # pass, warn, inconclusive, fail, error, not applicable
    stimuli: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""  # one line: why it did not pass
    conventions: tuple[str, ...] = ()  # the catalogue's conventions the adapter differed in (warnings)


@dataclass(frozen=True)
class Capability:
    kind: str  # "command", "stimulus", "call flow", "extra command", "extra stimulus"
    name: str
    verdict: str  # one of ORDER, or "not applicable"
    title: str = ""
    behind: tuple[tuple[str, str], ...] = ()  # (case id, verdict) of each case that did not pass
    run: int = 0  # cases of this run that exercised it
    applicable: int = 0  # its applicable cases (commands and call flows)
    reason: str = ""  # why not applicable, or why not run
    reasons: tuple[str, ...] = ()  # for each case of ``behind``, one line of why it did not pass

    @property
    def declared(self) -> bool:
        return self.verdict != NOT_APPLICABLE

    def _reasons(self) -> tuple[str, ...]:
        return self.reasons if len(self.reasons) == len(self.behind) else ("",) * len(self.behind)

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "name": self.name, "verdict": self.verdict}
        if self.title:
            found["title"] = self.title
        if self.declared:
            found["cases_run"] = self.run
            if self.kind != "stimulus":
                found["cases_applicable"] = self.applicable
            found["not_passing"] = [
                {"case": case, "verdict": verdict, **({"reason": why} if why else {})}
                for (case, verdict), why in zip(self.behind, self._reasons(), strict=True)
            ]
        if self.reason:
            found["reason"] = self.reason
        return found


def _worst(verdicts: Sequence[str]) -> str:
    return max(verdicts, key=lambda v: Verdict[v.upper()]).lower() if verdicts else NOT_RUN


def _aggregate(
    kind: str, name: str, title: str, applicable: Sequence[TestCase], outcomes: Mapping[str, CaseOutcome]
) -> Capability:
    ran = [(case.id, outcomes[case.id].verdict) for case in applicable if case.id in outcomes]
    # A case the simulation thought applicable may still end not applicable on the live run: it does not count.
    ran = [(case, verdict) for case, verdict in ran if verdict != NOT_APPLICABLE]
    verdict = _worst([v for _, v in ran])
    reason = "no case of this run exercised it" if verdict == NOT_RUN else ""
    if kind == "call flow" and ran:
        reason = outcomes[ran[0][0]].reason  # one case: say why, not which
    return Capability(
        kind,
        name,
        verdict,
        title=title,
        behind=tuple((case, v) for case, v in ran if v != "pass"),
        reasons=tuple(outcomes[case].reason for case, v in ran if v != "pass"),
        run=len(ran),
        applicable=len(applicable),
        reason=reason,
    )


def _produces(case: TestCase, stimulus: str) -> bool:
    """Whether the case's steps, or the set-up planned for it, produce the stimulus."""
    steps = case.flow.steps + (case.flow.plan.steps if case.flow.plan is not None else ())
    return any(step.kind == "stimulus" and step.name == stimulus for step in steps)


def _not_applicable(kind: str, name: str, reason: str, title: str = "") -> Capability:
    return Capability(kind, name, NOT_APPLICABLE, title=title, reason=reason)


@dataclass(frozen=True)
class ProfileCertificate:
    name: str
    file: str
    platform: str
    url: str
    capabilities: tuple[Capability, ...]
    # each catalogue convention the adapter differs in (not declared by the profile) -> the cases that show it
    conventions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cases: tuple[int, int] = (0, 0)  # (cases that apply to the profile, cases of the suite)

    def coverage(self) -> str:
        """How much of the suite applies to the profile, said plainly when it is little."""
        applied, total = self.cases
        if not total:
            return ""
        text = f"{applied} of {total} cases of the suite apply to this profile"
        if applied * 2 < total:
            text += (
                "; most do not, so most of the adapter's behaviour is not exercised: see Not applicable below "
                "(a command the set-ups need, such as the one that makes a channel usable, may be missing "
                "from the profile)"
            )
        return text

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(c.verdict for c in self.capabilities)
        return {verdict: counted[verdict] for verdict in (*ORDER, NOT_APPLICABLE) if counted[verdict]}

    @property
    def failing(self) -> list[Capability]:
        return [c for c in self.capabilities if c.verdict in FAILING]

    @property
    def not_run(self) -> list[Capability]:
        return [c for c in self.capabilities if c.verdict == NOT_RUN]

    @property
    def certified(self) -> bool:
        return not self.failing and not self.not_run

    def overall(self) -> str:
        declared = sum(c.declared for c in self.capabilities)
        counts = ", ".join(f"{n} {verdict}" for verdict, n in self.counts.items() if verdict != NOT_APPLICABLE)
        counted = f"{declared} declared capabilities: {counts or 'none'}"
        counted += f"; {self.counts.get(NOT_APPLICABLE, 0)} not applicable"
        if self.failing:
            failing = len(self.failing)
            fail = "capability fails" if failing == 1 else "capabilities fail"
            return f"not certified: {failing} {fail} ({counted})"
        if self.not_run:
            return f"not certified: a partial run, {len(self.not_run)} declared capabilities not run ({counted})"
        return f"certified ({counted})"

    def to_json(self) -> dict[str, Any]:
        by_kind: dict[str, list[dict[str, Any]]] = {"commands": [], "stimuli": [], "call_flows": [], "extras": []}
        key = {
            "command": "commands",
            "stimulus": "stimuli",
            "call flow": "call_flows",
            "extra command": "extras",
            "extra stimulus": "extras",
        }
        for capability in self.capabilities:
            by_kind[key[capability.kind]].append(capability.to_json())
        return {
            "name": self.name,
            "file": self.file,
            "platform": self.platform,
            "adapter_url": self.url,
            "certified": self.certified,
            "overall": self.overall(),
            "counts": self.counts,
            **by_kind,
            "conventions": [
                {"convention": text, "cases": list(cases)} for text, cases in self.conventions.items()
            ],
            "cases_applicable": self.cases[0],
            "cases_total": self.cases[1],
        }


def certify_profile(
    catalogue: Catalogue,
    profile: Profile,
    url: str,
    cases: Sequence[TestCase],
    outcomes: Mapping[str, CaseOutcome],
) -> ProfileCertificate:
    """``cases``: every case of the profile (generated and call flows), run or not; ``outcomes``: by case id,
    the cases that ran."""
    capabilities: list[Capability] = []
    by_command: dict[str, list[TestCase]] = {}
    for case in cases:
        by_command.setdefault(case.feature, []).append(case)
    for command in sorted(catalogue.commands.values(), key=lambda c: (c.level, c.name)):
        own = by_command.get(command.name, [])
        if profile.platform not in command.platforms or not profile.declares(command.name):
            # The cases say why, in the words of harness/cases.py.
            reason = next((c.why_not for c in own if c.why_not), f"the profile does not declare {command.name}")
            capabilities.append(_not_applicable("command", command.name, reason))
        elif not any(c.applicable for c in own):
            reason = next((c.why_not for c in own if c.why_not), "no case of it applies")
            capabilities.append(_not_applicable("command", command.name, reason))
        else:
            applicable = [c for c in own if c.applicable]
            capabilities.append(_aggregate("command", command.name, "", applicable, outcomes))
    for stimulus in sorted(catalogue.stimuli.values(), key=lambda s: s.name):
        if stimulus.platforms and profile.platform not in stimulus.platforms:
            reason = f"{stimulus.name} exists only on {'/'.join(sorted(stimulus.platforms))}"
            capabilities.append(_not_applicable("stimulus", stimulus.name, reason))
        elif stimulus.name not in profile.stimuli:
            capabilities.append(
                _not_applicable("stimulus", stimulus.name, f"the profile {profile.name} cannot produce it")
            )
        else:
            produced = [
                (case.id, outcomes[case.id].stimuli[stimulus.name])
                for case in cases
                if case.id in outcomes and stimulus.name in outcomes[case.id].stimuli
            ]
            verdict, reason = _worst([v for _, v in produced]), ""
            if verdict == NOT_RUN:
                if any(case.applicable and _produces(case, stimulus.name) for case in cases):
                    reason = "no case of this run produced it"
                else:
                    verdict, reason = NOT_TESTED, "no case of the suite produces it"
            capabilities.append(
                Capability(
                    "stimulus",
                    stimulus.name,
                    verdict,
                    behind=tuple((case, v) for case, v in produced if v != "pass"),
                    run=len(produced),
                    reason=reason,
                )
            )
    for kind, name, summary in profile.conventions.extras.summaries():  # the profile's own (declared extras)
        own = by_command.get(name, [])
        applicable = [c for c in own if c.applicable]
        if not applicable:
            reason = next((c.why_not for c in own if c.why_not), "no case of it applies")
            capabilities.append(_not_applicable(f"extra {kind}", name, reason, summary))
        else:
            capabilities.append(_aggregate(f"extra {kind}", name, summary, applicable, outcomes))
    for case in sorted(by_command.get(CALL_FLOWS, []), key=lambda c: c.id):
        if not case.applicable:
            capabilities.append(_not_applicable("call flow", case.id, case.why_not, case.title))
        else:
            capabilities.append(_aggregate("call flow", case.id, case.title, [case], outcomes))
    conventions: dict[str, list[str]] = {}
    for case_id, outcome in sorted(outcomes.items()):
        for text in outcome.conventions:
            conventions.setdefault(text, []).append(case_id)
    return ProfileCertificate(
        profile.name,
        profile.file,
        profile.platform,
        url,
        tuple(capabilities),
        {text: tuple(cases) for text, cases in sorted(conventions.items(), key=lambda item: -len(item[1]))},
        (sum(case.applicable for case in cases), len(cases)),
    )


@dataclass(frozen=True)
class Certificate:
    adapter_url: str
    harness_version: str
    catalogue_version: str
    date: str  # ISO 8601, UTC
    profiles: tuple[ProfileCertificate, ...]
    interrupted: bool = False  # the run was stopped (Ctrl-C) before it ended: whatever ran is reported

    @property
    def certified(self) -> bool:
        return bool(self.profiles) and all(p.certified for p in self.profiles) and not self.interrupted

    def lines(self) -> list[str]:
        """The console lines: one per profile."""
        lines = [f"certificate (profile {p.name}): {p.overall()}" for p in self.profiles]
        return ([INTERRUPTED] if self.interrupted else []) + lines

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CERTIFICATE_FORMAT,
            "adapter_url": self.adapter_url,
            "harness_version": self.harness_version,
            "catalogue_version": self.catalogue_version,
            "date": self.date,
            "certified": self.certified,
            "interrupted": self.interrupted,
            "profiles": [p.to_json() for p in self.profiles],
        }

    def markdown(self) -> str:
        lines = [
            "# mbconform conformance certificate",
            "",
            "| | |",
            "|---|---|",
            f"| adapter | {code(self.adapter_url)} |",
            f"| harness | mbconform {self.harness_version} |",
            f"| spec catalogue | {code(self.catalogue_version)} |",
            f"| date | {markdown(self.date)} |",
            f"| profiles | {', '.join(code(p.name) for p in self.profiles) or 'none ran'} |",
            "",
            f"**{'Certified' if self.certified else 'Not certified'}**",
        ]
        if self.interrupted:
            lines += ["", f"**{INTERRUPTED}**"]
        for profile in self.profiles:
            lines += ["", *_profile_markdown(profile)]
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Any text in the certificate that is not the harness's own words: an adapter's failure reason, a file's
    title or name, escaped for Markdown and HTML (issue 15: no tag, image, link or table of the adapter's)."""
    return markdown(text.replace("\n", " "))


def _shown(verdict: str) -> str:
    return f"**{verdict}**" if verdict in FAILING or verdict == NOT_RUN else verdict


def _behind(capability: Capability) -> str:
    """Each case that did not pass with its verdict and why (the first ones; the JSON lists them all)."""
    told = [
        f"{code(case)} ({verdict}: {_cell(why)})" if why else f"{code(case)} ({verdict})"
        for (case, verdict), why in zip(
            capability.behind[:MAX_CASES_SHOWN], capability._reasons()[:MAX_CASES_SHOWN], strict=True
        )
    ]
    more = len(capability.behind) - MAX_CASES_SHOWN
    if more > 0:
        told.append(f"and {more} more (certificate.json lists them all)")
    return "; ".join(told)


def _profile_markdown(profile: ProfileCertificate) -> list[str]:
    lines = [
        f"## Profile {code(profile.name)}: {'certified' if profile.certified else 'not certified'}",
        "",
        f"Profile file {code(profile.file)}, platform {markdown(profile.platform)}, adapter {code(profile.url)}.",
        "",
        f"**{_cell(profile.overall())}**",
    ]
    if profile.coverage():
        lines += ["", _cell(profile.coverage()) + "."]
    declared = [c for c in profile.capabilities if c.declared]
    for kind, heading, columns in (
        ("command", "Commands", "| command | verdict | cases run | not passing |"),
        ("stimulus", "Stimuli", "| stimulus | verdict | cases that produced it | not passing |"),
        ("call flow", "Call flows", "| call flow | verdict | title | why not passing |"),
        (
            EXTRAS,
            "Declared extras (the adapter's own commands and stimuli; their cases check what the profile says)",
            "| extra: what the profile says it does | verdict | cases run | not passing |",
        ),
    ):
        rows = [c for c in declared if c.kind == kind or (kind == EXTRAS and c.kind.startswith("extra "))]
        if not rows:
            continue
        lines += ["", f"### {heading}", "", columns, "|---|---|---|---|"]
        for c in rows:
            middle = c.title if kind == "call flow" else f"{c.run}/{c.applicable}" if kind == "command" else c.run
            if kind == EXTRAS:
                lines.append(
                    f"| {markdown(c.kind)} {code(c.name)}: {_cell(c.title)} | {_shown(c.verdict)} | "
                    f"{c.run}/{c.applicable} | {_behind(c)} |"
                )
                continue
            last = (
                _cell(c.reason)
                if (kind == "call flow" and c.verdict != NOT_RUN) or c.verdict == NOT_TESTED
                else _behind(c) or _cell(c.reason)
            )
            lines.append(f"| {code(c.name)} | {_shown(c.verdict)} | {_cell(str(middle))} | {last} |")
    if profile.conventions:
        lines += [
            "",
            "### Conventions the adapter differs in",
            "",
            "Where the seeds are silent the catalogue infers a convention; the adapter did otherwise here and "
            "the profile does not declare it. These are warnings, never failures: declare the adapter's own "
            "convention in the profile's `conventions:` section, or check that it is what you meant.",
            "",
            "| convention | cases |",
            "|---|---|",
        ]
        for text, cases in profile.conventions.items():
            shown = ", ".join(code(case) for case in cases[:MAX_CASES_SHOWN])
            more = f" and {len(cases) - MAX_CASES_SHOWN} more" if len(cases) > MAX_CASES_SHOWN else ""
            lines.append(f"| {_cell(text)} | {shown}{more} |")
    excluded = [c for c in profile.capabilities if not c.declared]
    if excluded:
        lines += ["", "### Not applicable", "", "| capability | why |", "|---|---|"]
        lines.extend(f"| {c.kind} {code(c.name)} | {_cell(c.reason)} |" for c in excluded)
    return lines


def write_certificate(reports: Path, certificate: Certificate) -> tuple[Path, Path]:
    reports.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = reports / "certificate.json", reports / "certificate.md"
    as_json.write_text(json.dumps(certificate.to_json(), indent=2) + "\n", encoding="utf-8")
    as_markdown.write_text(certificate.markdown(), encoding="utf-8")
    return as_json, as_markdown
