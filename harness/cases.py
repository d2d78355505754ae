"""The test cases: generated from each command of the catalogue, and one per scenario file.

Every case has a stable id that says what it checks, ``MB-<LEVEL>-<COMMAND>-<NNN>`` for generated cases,
and the scenario's own id for call flows:

- 001: success from a situation where the command is legal, with its secondary events;
- 002: failure for a target that does not exist;
- 003: failure for invalid data;
- 1NN: failure from the NNth state of its level in states.yaml, where the precondition does not hold and
  the declared commands and stimuli can bring an object;
- 2NN: failure where the target's state is legal but another clause of the precondition fails (a count of
  children in given states, the parent's state, a facet): one per distinct reachable situation, at most
  ``BEYOND_STATE_CASES`` per command, first those where other clauses fail, then in the order a plan reaches
  them (:mod:`.core.refusals`); where the seeds do not say a failure is generated (``refusal: seed`` on
  every alternative), the refusal stays a convention (warn), as for 1NN;
- 3N0: the command's Nth outcome (a needinfo, a failure that still changes state, an idempotent repeat);
  3Nk: that outcome followed by its kth follow-up (the retry after a needinfo).

A profile's declared extra commands get the same cases, ``MB-<LEVEL>-X-<NAME>-<NNN>``; a declared extra
stimulus gets one case per state it is legal from (001 on): its declared events, and so its target's new state.

Which cases exist, and whether each can be reached, is computed once per run by simulating the catalogue
for the profile's platform, facts, media, commands and stimuli.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from .core.conditions import Context
from .core.conventions import self_activation
from .core.extras import DECLARED, extended
from .core.invalid import invalid_data
from .core.plan import LEGAL, REFUSED_STATE, Explorer, Goal, Plan
from .core.refusals import BeyondState, beyond_state, refusals_beyond_state
from .core.runevents import CaseInfo
from .core.simulate import Platform, channel_seeds
from .core.steps import Step
from .runner.flow import Flow
from .spec.catalogue import Catalogue, CommandSpec, OutcomeSpec, SpecRef, StimulusSpec, facts_in
from .suite import Profile, Scenario

EXTRA_MARKER = "declared_extra"  # the cases of a profile's declared extra commands and stimuli
CATALOGUE_READING = "the catalogue's reading"  # a refusal case whose refusal the seeds do not print
BEYOND_STATE_CASES = 4  # refusal cases beyond the state per command (2NN)
BEYOND_STATE_NODES = 200  # the situations of the exploration they are looked for in (keeps the planner cheap)


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


def _unreached(what: str) -> str:
    return f"no declared command or stimulus leads to {what}"


def case_id(catalogue: Catalogue, command: CommandSpec | StimulusSpec, number: int) -> str:
    """``MB-<LEVEL>-<COMMAND>-<NNN>``; a declared extra's, ``MB-<LEVEL>-X-<ITS WHOLE NAME>-<NNN>`` (never one of
    the catalogue's, whatever the extra is called)."""
    code = catalogue.levels[command.level].code
    if command.provenance == DECLARED:
        return f"MB-{code}-X-{command.name.upper().replace('.', '-')}-{number:03d}"
    name = command.name.split(".", 1)[1] if "." in command.name else command.name
    return f"MB-{code}-{name.upper().replace('.', '-')}-{number:03d}"


def simulated_platform(catalogue: Catalogue, profile: Profile) -> Platform:
    """The profile's adapter as the catalogue predicts it, just after start-up: one channel per media (each
    activated already if the profile says its channels activate themselves)."""
    platform = Platform(catalogue, platform=profile.platform, facts=profile.facts)
    platform.startup(list(channel_seeds(catalogue, profile.media)), "reach", profile.addressing)
    self_activation(profile.conventions, platform)
    return platform


class _Planner:
    """Plans computed once per goal while the cases are generated."""

    def __init__(self, catalogue: Catalogue, profile: Profile) -> None:
        self.platform = simulated_platform(catalogue, profile)
        self.explorer = Explorer(self.platform, profile.commands, profile.stimuli)
        self.cache: dict[str, Plan | None] = {}

    def plan(self, goal: Goal) -> Plan | None:
        key = goal.key
        if key not in self.cache:
            self.cache[key] = self.explorer.plan(goal)
        return self.cache[key]

    def reachable(self, goal: Goal) -> bool:
        return self.plan(goal) is not None

    def beyond_state(self, command: CommandSpec) -> list[BeyondState]:
        """The situations of the 2NN cases of ``command`` (see :mod:`.core.refusals`)."""
        situations = self.explorer.walk(BEYOND_STATE_NODES)
        return refusals_beyond_state(command, situations, BEYOND_STATE_CASES)


def command_cases(catalogue: Catalogue, profile: Profile) -> list[TestCase]:
    catalogue = extended(catalogue, profile.conventions.extras)  # the profile's declared extras too
    planner = _Planner(catalogue, profile)
    cases: list[TestCase] = []
    for command in sorted(catalogue.commands.values(), key=lambda c: (c.level, c.name)):
        cases.extend(_cases_of(catalogue, profile, planner, command))
    for stimulus in sorted(profile.conventions.extras.stimuli.values(), key=lambda s: (s.level, s.name)):
        cases.extend(_extra_stimulus_cases(catalogue, profile, planner, stimulus))
    return cases


def _extra_stimulus_cases(
    catalogue: Catalogue, profile: Profile, planner: _Planner, stimulus: StimulusSpec
) -> list[TestCase]:
    """A declared extra stimulus does what the profile says (its events, its target's new state): one case per
    state it is declared legal from, 001 on (a command's own extras get the command's cases)."""
    level = catalogue.levels[stimulus.level]
    cases = []
    states = [state for state in level.states_in_order if state in stimulus.when_states]
    for number, state in enumerate(states, start=1):
        goal = Goal(
            stimulus.level, state=state, description=f"{_article(stimulus.level)} {stimulus.level} in {state}"
        )
        reason = ""
        if stimulus.name not in profile.stimuli:
            reason = f"the profile {profile.name} cannot produce stimuli (driver: {profile.stimulus_driver})"
        elif not planner.reachable(goal):
            reason = _unreached(f"{_article(stimulus.level)} {stimulus.level} in {state}")
        step = Step("stimulus", stimulus.name, "$goal", ref=stimulus.ref, title=f"produce {stimulus.name}")
        flow = Flow((step,), goal=goal, plan=None if reason else planner.plan(goal))
        cases.append(
            TestCase(
                id=case_id(catalogue, stimulus, number),
                title=f"{stimulus.name} (declared) brings its declared events from {state}",
                level=stimulus.level,
                feature=stimulus.name,
                story="declared extra",
                flow=flow,
                ref=stimulus.ref,
                markers=(stimulus.level, EXTRA_MARKER),
                applicable=not reason,
                why_not=reason,
                description=stimulus.summary,
            )
        )
    return cases


def _cases_of(catalogue: Catalogue, profile: Profile, planner: _Planner, command: CommandSpec) -> list[TestCase]:
    why_not = ""
    if profile.platform not in command.platforms:
        why_not = (
            f"{command.name} exists only on {'/'.join(sorted(command.platforms))} (profile: {profile.platform})"
        )
    elif not profile.declares(command.name):
        why_not = f"the profile {profile.name} does not declare {command.name}"
    level = command.level
    cases: list[TestCase] = []
    extra = (EXTRA_MARKER,) if command.provenance == DECLARED else ()

    def case(number: int, title: str, story: str, marker: str, flow: Flow, not_because: str = "") -> None:
        reason = why_not or not_because
        if flow.goal is not None and not reason:
            flow = replace(flow, plan=planner.plan(flow.goal))
        cases.append(
            TestCase(
                id=case_id(catalogue, command, number),
                title=title,
                level=level,
                feature=command.name,
                story=story,
                flow=flow,
                ref=command.ref,
                markers=(level, command.marker, marker, *extra),
                applicable=not reason,
                why_not=reason,
                description=command.summary,
            )
        )

    legal = " or ".join(condition.describe() for condition in command.when) or "any state"
    failure = frozenset({"failure"})
    success_goal = Goal(
        level, command.name, description=f"{_article(level)} {level} where {command.name} succeeds ({legal})"
    )
    unreachable = (
        ""
        if why_not or planner.reachable(success_goal)
        else (
            _unreached(f"{_article(level)} {level} where {command.name} simply succeeds on {profile.platform}")
            + " (see its outcomes)"
        )
    )
    case(
        1,
        f"{command.name} succeeds ({legal}) with its events",
        "success",
        "success",
        Flow(
            (Step("command", command.name, "$goal", expect=frozenset({"success"}), ref=command.ref),),
            goal=success_goal,
        ),
        unreachable,
    )
    case(
        2,
        f"{command.name} fails for {_article(level)} {level} that does not exist",
        "unknown target",
        "unknown_target",
        Flow((Step("command", command.name, "$missing", expect=failure, ref=command.ref),), missing_level=level),
    )
    legal_goal = Goal(
        level, command.name, decision=LEGAL, description=f"{_article(level)} {level} where {command.name} is legal"
    )
    example = command.example_for(profile.platform)
    platform_schema = command.platform_requests.get(profile.platform, (None, None))[0]
    invalid = invalid_data(command.request, example) or (
        invalid_data(platform_schema, example) if platform_schema is not None else None
    )
    if invalid is not None:
        data, how = invalid
        case(
            3,
            f"{command.name} fails for data {how}",
            "invalid data",
            "invalid_data",
            Flow(
                (Step("command", command.name, "$goal", data=data, expect=failure, ref=command.ref),),
                goal=legal_goal,
            ),
            ""
            if why_not or planner.reachable(legal_goal)
            else f"no declared command or stimulus leads to {legal}",
        )
    if command.when and not why_not:
        for position, state in enumerate(catalogue.levels[level].states_in_order, start=1):
            goal = Goal(level, command.name, decision=REFUSED_STATE, state=state)
            if not planner.reachable(goal):
                continue
            case(
                100 + position,
                f"{command.name} fails from {state} (legal only {legal})",
                f"illegal from {state}",
                "illegal_state",
                Flow((Step("command", command.name, "$goal", expect=failure, ref=command.ref),), goal=goal),
            )
    if any(beyond_state(condition) for condition in command.when) and not why_not:
        for number, refused in enumerate(planner.beyond_state(command), start=201):
            goal = Goal(
                level,
                command.name,
                decision=REFUSED_STATE,
                situation=refused.situation,
                description=f"{_article(level)} {level} where {command.name} is refused: {refused.describe()}",
            )
            case(
                number,
                f"{command.name} fails where {refused.describe()}: {refused.why}"
                + (f" ({CATALOGUE_READING})" if refused.inferred else ""),
                f"illegal: not {refused.failing}",
                "illegal_state",
                Flow((Step("command", command.name, "$goal", expect=failure, ref=command.ref),), goal=goal),
            )
    for number, outcome in enumerate(command.outcomes, start=1):
        _outcome_cases(catalogue, profile, planner, command, outcome, 300 + 10 * number, case, bool(why_not))
    return cases


def _outcome_cases(
    catalogue: Catalogue,
    profile: Profile,
    planner: _Planner,
    command: CommandSpec,
    outcome: OutcomeSpec,
    base: int,
    case: Callable[..., None],
    excluded: bool,
) -> None:
    when = outcome.when
    not_because = ""
    if when.platform is not None and profile.platform not in when.platform:
        not_because = (
            f"this outcome happens only on {'/'.join(sorted(when.platform))} (profile: {profile.platform})"
        )
    elif when.facts:
        context = Context(profile.platform, planner.platform.facts)
        unmet = [
            name
            for name, schema in when.facts.items()
            if name not in context.facts or schema.errors(context.facts[name])
        ]
        if unmet:
            not_because = f"the profile's platform facts ({', '.join(unmet)}) rule this outcome out"
    none = sorted(name for name in facts_in(outcome.example) if planner.platform.facts.get(name, "") is None)
    if none and not not_because:
        not_because = f"the profile names no {', '.join(none)} (facts: {none[0]}: null)"
    data = outcome.example
    goal = Goal(
        command.level,
        command.name,
        data=data,
        decision=outcome.name,
        description=f"{_article(command.level)} {command.level} where {command.name} brings {outcome.name}",
    )
    if not not_because and not excluded and not planner.reachable(goal):
        not_because = _unreached(f"{_article(command.level)} {command.level} where {outcome.name} happens")
    first = Step(
        "command",
        command.name,
        "$goal",
        data=data,
        expect=frozenset({outcome.result}),
        ref=outcome.ref,
        title=f"send {command.name}: expect {outcome.result} ({outcome.name})",
    )
    summary = outcome.summary or outcome.name
    story = f"outcome: {outcome.name}"
    case(base, f"{command.name}: {summary}", story, "outcome", Flow((first,), goal=goal), not_because)
    for index, follow in enumerate(outcome.then, start=1):
        if follow.stimulus is not None:
            target = "$goal_parent" if follow.on == "parent" else "$goal"
            second = Step("stimulus", follow.stimulus, target, title=follow.title, ref=outcome.ref)
        else:
            second = Step("command", command.name, "$goal", data=follow.data, title=follow.title, ref=outcome.ref)
        case(
            base + index,
            f"{command.name}: {summary}, then {follow.title}",
            story,
            "outcome",
            Flow((first, second), goal=goal),
            not_because,
        )


def scenario_case(scenario: Scenario, profile: Profile) -> TestCase:
    steps = scenario.steps_for(profile)  # without the activations a self-activating adapter's start-up did
    commands = frozenset(step.name for step in steps if step.kind == "command")
    missing_commands = sorted(commands - profile.commands)
    missing_stimuli = sorted(scenario.stimuli - profile.stimuli)
    why_not = scenario.ruled_out(profile)
    if why_not:
        pass  # the call flow is for another platform or set-up
    elif missing_commands:
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
        flow=Flow(steps, fence=scenario.fence, settle=scenario.settle),
        ref=scenario.ref,
        markers=markers,
        applicable=not why_not,
        why_not=why_not,
        description=scenario.description,
    )
