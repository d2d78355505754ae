"""The test cases: generated from each command of the catalogue, and one per scenario file.

Every case has a stable id that says what it checks, ``MB-<LEVEL>-<COMMAND>-<NNN>`` for generated cases
(001: success from a state where the command is legal; 002: failure for a target that does not exist;
003: failure for invalid data; 1NN: failure from the NNth state of its level in states.yaml, where the
command is illegal and the declared commands can reach it) and the scenario's own id for call flows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core.invalid import invalid_data
from .core.plan import find_plan
from .core.runevents import CaseInfo
from .core.simulate import Platform
from .core.steps import Step
from .runner.flow import Flow, Goal
from .spec.catalogue import Catalogue, CommandSpec, SpecRef
from .suite import Profile, Scenario


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # not a pytest test class, though its name says "Test"

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


def reachable_states(catalogue: Catalogue, profile: Profile) -> dict[str, frozenset[str]]:
    """The states of each level that the profile's commands and stimuli can reach from a fresh session,
    simulated on the catalogue (the reference start-up: one channel per the start-up spec)."""
    platform = Platform(catalogue)
    platform.startup([{}], "reach")
    reachable: dict[str, frozenset[str]] = {}
    for level, spec in catalogue.levels.items():
        reachable[level] = frozenset(
            state
            for state in spec.states
            if find_plan(platform.model, level, {state}, commands=profile.commands, stimuli=profile.stimuli)
        )
    return reachable


def command_cases(catalogue: Catalogue, profile: Profile) -> list[TestCase]:
    reachable = reachable_states(catalogue, profile)
    cases = []
    for command in sorted(catalogue.commands.values(), key=lambda c: (c.level, c.name)):
        applicable = profile.declares(command.name)
        why_not = "" if applicable else f"the profile {profile.name} does not declare {command.name}"

        def case(number: int, title: str, story: str, marker: str, flow: Flow) -> TestCase:
            return TestCase(
                id=case_id(catalogue, command, number),  # noqa: B023 - used at once, inside the loop
                title=title,
                level=command.level,  # noqa: B023
                feature=command.name,  # noqa: B023
                story=story,
                flow=flow,
                ref=command.ref,  # noqa: B023
                markers=(command.level, command.marker, marker),  # noqa: B023
                applicable=applicable,  # noqa: B023
                why_not=why_not,  # noqa: B023
                description=command.summary,  # noqa: B023
            )

        legal = " or ".join(sorted(command.when_states)) or "any state"
        failure = frozenset({"failure"})
        cases.append(
            case(
                1,
                f"{command.name} succeeds from {legal} with its events",
                "success",
                "success",
                Flow(
                    (Step("command", command.name, "$goal", ref=command.ref),),
                    goal=Goal(command.level, command.when_states),
                ),
            )
        )
        level = command.level
        cases.append(
            case(
                2,
                f"{command.name} fails for {_article(level)} {level} that does not exist",
                "unknown target",
                "unknown_target",
                Flow(
                    (Step("command", command.name, "$missing", expect=failure, ref=command.ref),),
                    missing_level=level,
                ),
            )
        )
        invalid = invalid_data(command.request, command.example)
        if invalid is not None:
            data, how = invalid
            cases.append(
                case(
                    3,
                    f"{command.name} fails for data {how}",
                    "invalid data",
                    "invalid_data",
                    Flow(
                        (Step("command", command.name, "$goal", data=data, expect=failure, ref=command.ref),),
                        goal=Goal(level, command.when_states),
                    ),
                )
            )
        states = catalogue.levels[level].states_in_order
        for position, state in enumerate(states, start=1):
            if state in command.when_states or state not in reachable.get(level, frozenset()):
                continue
            cases.append(
                case(
                    100 + position,
                    f"{command.name} fails from {state} (legal only from {legal})",
                    f"illegal from {state}",
                    "illegal_state",
                    Flow(
                        (Step("command", command.name, "$goal", expect=failure, ref=command.ref),),
                        goal=Goal(level, frozenset({state})),
                    ),
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
