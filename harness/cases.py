"""The test cases: generated from each command of the catalogue, and one per scenario file.

Every case has a stable id that says what it checks, ``MB-<LEVEL>-<COMMAND>-<NNN>`` for generated cases
(001: success from a state where the command is legal; 002: failure for a target that does not exist) and
the scenario's own id for call flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core.runevents import CaseInfo
from .core.steps import Step
from .runner.flow import Flow, Goal
from .spec.catalogue import Catalogue, CommandSpec, SpecRef
from .suite import Profile, Scenario


@dataclass(frozen=True)
class TestCase:
    id: str
    title: str
    level: str
    feature: str  # the command, or "call flows"
    story: str  # the path: "success", "unknown target", or the scenario's title
    flow: Flow
    ref: SpecRef
    markers: tuple[str, ...]
    applicable: bool = True
    why_not: str = ""
    description: str = ""

    @property
    def info(self) -> CaseInfo:
        return CaseInfo(self.id, self.title, self.level, self.feature, self.story, self.description, str(self.ref))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def case_id(catalogue: Catalogue, command: CommandSpec, number: int) -> str:
    name = command.name.split(".", 1)[1] if "." in command.name else command.name
    code = catalogue.levels[command.level].code
    return f"MB-{code}-{name.upper().replace('.', '-')}-{number:03d}"


def command_cases(catalogue: Catalogue, profile: Profile) -> list[TestCase]:
    cases = []
    for command in sorted(catalogue.commands.values(), key=lambda c: (c.level, c.name)):
        applicable = profile.declares(command.name)
        why_not = "" if applicable else f"the profile {profile.name} does not declare {command.name}"
        markers = (command.level, command.marker)
        cases.append(
            TestCase(
                id=case_id(catalogue, command, 1),
                title=f"{command.name} succeeds from {' or '.join(sorted(command.when_states))} with its events",
                level=command.level,
                feature=command.name,
                story="success",
                flow=Flow(
                    (Step("command", command.name, "$goal", ref=command.ref),),
                    goal=Goal(command.level, command.when_states),
                ),
                ref=command.ref,
                markers=(*markers, "success"),
                applicable=applicable,
                why_not=why_not,
                description=command.summary,
            )
        )
        cases.append(
            TestCase(
                id=case_id(catalogue, command, 2),
                title=f"{command.name} fails for {_article(command.level)} {command.level} that does not exist",
                level=command.level,
                feature=command.name,
                story="unknown target",
                flow=Flow(
                    (Step("command", command.name, "$missing", expect=frozenset({"failure"}), ref=command.ref),),
                    missing_level=command.level,
                ),
                ref=command.ref,
                markers=(*markers, "unknown_target"),
                applicable=applicable,
                why_not=why_not,
                description=command.summary,
            )
        )
    return cases


def scenario_case(scenario: Scenario, profile: Profile) -> TestCase:
    missing_commands = sorted(scenario.commands - profile.commands)
    missing_stimuli = sorted(scenario.stimuli - profile.stimuli)
    why_not = ""
    if missing_commands:
        why_not = f"the profile {profile.name} does not declare {', '.join(missing_commands)}"
    elif missing_stimuli:
        why_not = f"the profile {profile.name} cannot produce {', '.join(missing_stimuli)}"
    markers = ("scenario", scenario.level, *sorted(name.replace(".", "_") for name in scenario.commands))
    return TestCase(
        id=scenario.id,
        title=scenario.title,
        level=scenario.level,
        feature="call flows",
        story=scenario.title,
        flow=Flow(scenario.steps),
        ref=scenario.ref,
        markers=markers,
        applicable=not why_not,
        why_not=why_not,
        description=scenario.description,
    )
