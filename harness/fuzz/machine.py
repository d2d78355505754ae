"""Stateful fuzzing: a Hypothesis rule-based state machine built from the catalogue and the profile.

Each example is one media bar session on a new connection. The rules are:

- one per declared command: it sends the command where it takes its main path (half of the time: an unmute
  on a muted call), where it is legal whatever outcome it brings, or where the state refuses it; three times in
  four on the object the flow works on at that level. When no such object is in that situation, the
  planner that builds the conformance suite's set-ups finds the shortest way there from the session's
  current situation, and its steps run first, each checked like any other. This is what takes flows deep (a
  consultation, an alternate, a transfer; a mute, a hold, a retrieve and an unmute of one call) in a bounded
  number of steps, where rules drawn at random would rarely line up;
- one per stimulus the profile can produce, enabled where the state model allows it on some object;
- any command on any object the session ever learned (steps that are often illegal in the current state, or
  about disposed objects, which must fail cleanly);
- a malformed or invalid frame.

The ``objects`` bundle holds the flow variables of the objects learned from events. Every step is run by the
same session code, with the same checks and oracle, as the conformance suite; a step whose verdict is fail
or error is a finding.

Hypothesis shrinks a finding to a minimal call flow; the steps of that last run are kept (targets as flow
variables, frames with ``${name}`` for addresses), so it can be written as a scenario file and replayed.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, multiple, precondition, rule

from ..core.conditions import legal
from ..core.objects import SEPARATOR, MbObject
from ..core.plan import LEGAL, REFUSED_STATE, Explorer, Goal, Plan, anchor, anchored, situation
from ..core.results import StepResult
from ..core.simulate import DEFAULT, Refusal
from ..core.steps import Step
from ..core.violations import Verdict, Violation
from ..runner.connection import Connection, ConnectionLost
from ..runner.deadline import StepTimeout
from ..runner.session import Inconclusive, MediaBarSession
from ..runner.settings import Settings
from ..spec.catalogue import Catalogue, with_facts
from .coverage import Coverage
from .frames import Frame, bad_frames, request_data
from .progress import Progress

ID_CHARS = r"(?![A-Za-z0-9_\-])"  # an address ends where an id character does not follow
PLAN_NODES = 600  # situations the planner may explore for one goal (the deepest plan needs about 130)
BURST = 6  # most commands in a row on one object
OBJECT_PLAN_NODES = 40  # for one given object, with steps on it and inside it only (hold, then retrieve)
MAX_PLANS = 4096  # plans kept per fuzz run (by situation and goal); memory stays bounded in a long run
MAX_EXPLORERS = 24  # the planner's explorations kept (by situation): each holds up to PLAN_NODES models


class Finding(AssertionError):
    """A step of a fuzzed flow failed a check. Subclassed per kind of violation (:func:`finding_class`), so
    Hypothesis keeps each distinct bug apart while it shrinks."""

    def __init__(self, step: int, title: str, violation: Violation) -> None:
        super().__init__(
            f"step {step} ({title}): [{violation.category.value}] {violation.title}: {violation.message}"
        )
        self.step = step
        self.title = title
        self.violation = violation


_FINDING_CLASSES: dict[str, type[Finding]] = {}


def finding_class(violation: Violation) -> type[Finding]:
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{violation.category.value} {violation.title}").strip("_")
    if key not in _FINDING_CLASSES:
        _FINDING_CLASSES[key] = type(f"Finding_{key}", (Finding,), {})
    return _FINDING_CLASSES[key]


@dataclass
class FlowRecord:
    """One example's run: its steps as written in a scenario file, and what each brought."""

    steps: list[Step] = field(default_factory=list)
    results: list[StepResult] = field(default_factory=list)
    finding: Finding | None = None
    transcript: str = ""
    error: str = ""  # the session could not start, or the connection was lost


@dataclass
class FuzzTarget:
    """What the machine runs against, shared by the examples of one fuzz run."""

    url: str
    catalogue: Catalogue
    settings: Settings
    runner: asyncio.Runner
    coverage: Coverage = field(default_factory=Coverage)
    last_failure: FlowRecord | None = None
    # per kind of finding: the steps of its first failing example, and its shortest failing example (with the
    # planner's steps in them, Hypothesis' smallest example is not always the one with the fewest steps)
    first_steps: dict[type, int] = field(default_factory=dict)
    shortest: dict[type, FlowRecord] = field(default_factory=dict)

    def finding(self) -> tuple[FlowRecord | None, int]:
        """The reproducer to write for the finding Hypothesis reported last (its kind's shortest failing
        example), and the steps of that kind's first failing example."""
        last = self.last_failure
        if last is None or last.finding is None:
            return last, 0
        kind = type(last.finding)
        return self.shortest.get(kind, last), self.first_steps.get(kind, len(last.steps))

    inconclusive: int = 0
    # the planner's exploration from each situation, shared by the examples (flows pass through the same
    # situations again and again) and by every goal planned from it; and the plans found
    explorers: dict[tuple[tuple[str, ...], tuple[str, int] | None], Explorer] = field(default_factory=dict)
    plans: dict[tuple[tuple[str, ...], str, tuple[str, int] | None], Plan | None] = field(default_factory=dict)
    reachable: dict[str, bool] = field(default_factory=dict)  # goal -> reachable from the start
    ending: frozenset[str] = frozenset()  # commands whose main path ends their object (a release, a transfer)
    stop_at: float | None = None  # time.monotonic() after which no new example starts (None: run the round out)
    fence: bool = False  # end each step with a fence (MediaBarSession._fence)
    progress: Progress | None = None  # a status line at a steady interval (harness/fuzz/progress.py)

    def run(self, awaitable: Any) -> Any:
        return self.runner.run(awaitable)


class FlowMachine(RuleBasedStateMachine):
    """The base; :func:`build_machine` adds a rule per command and stimulus of the profile."""

    target: ClassVar[FuzzTarget]
    kind: ClassVar[str] = "flows"
    objects = Bundle("objects")

    def __init__(self) -> None:
        super().__init__()
        fuzz = self.target
        if fuzz.stop_at is not None and fuzz.last_failure is None and time.monotonic() >= fuzz.stop_at:
            reject()  # the budget is spent: no new example (a finding's shrinking goes on, within its bound)
        self.fuzz = fuzz
        self.record = FlowRecord()
        self.names: dict[str, str] = {}  # address -> flow variable
        self.counters: dict[str, int] = {}
        self.levels: dict[str, str] = {}  # flow variable -> the level of its object (also once disposed)
        self.connection: Connection | None = None
        self.session: MediaBarSession | None = None
        self.known: dict[Any, Any] = {}  # what the preconditions computed for the current situation
        self.recent: dict[str, str] = {}  # level -> the object of that level the flow works on (see focus)
        fuzz.coverage.examples += 1
        fuzz.run(self._open())

    async def _open(self) -> None:
        fuzz = self.fuzz
        settings = fuzz.settings
        try:
            self.connection = await Connection.for_settings(fuzz.url, settings, lambda event: None)
        except (ConnectionLost, StepTimeout) as exc:
            raise ConnectionError(str(exc)) from exc
        self.session = MediaBarSession(fuzz.catalogue, settings, self.connection, lambda event: None, fuzz.url)
        self.session.fences = fuzz.fence
        self.session.model.on_state = self._entered
        violations = await self.session.bootstrap()
        fuzz.coverage.warned(violations)
        failed = [v for v in violations if v.verdict >= Verdict.FAIL]
        if failed or not self.session.ready:
            self.record.error = "the session did not start"
            if failed:
                raise finding_class(failed[0])(0, "session start-up", failed[0])
            raise ConnectionError("the session did not start")
        for name, address in self.session.variables.items():
            self.names.setdefault(address, name)
            obj = self.session.model.get(address)
            if obj is not None:
                self.levels[name] = obj.level
        if not self.fuzz.reachable and self.kind == "flows":  # what the command rules' goals need
            self._explore_start()

    def _entered(self, level: str, before: str | None, state: str) -> None:
        coverage = self.fuzz.coverage
        coverage.state(level, state)
        if before is not None:
            coverage.transition(level, before, state)

    def teardown(self) -> None:
        if self.connection is not None:
            connection = self.connection
            self.fuzz.run(connection.close())
            self.record.transcript = connection.transcript.render()
        if self.record.finding is not None:
            fuzz, kind = self.fuzz, type(self.record.finding)
            fuzz.last_failure = self.record
            fuzz.first_steps.setdefault(kind, len(self.record.steps))
            if kind not in fuzz.shortest or len(self.record.steps) < len(fuzz.shortest[kind].steps):
                fuzz.shortest[kind] = self.record

    # -- what the session knows ----------------------------------------------------------------------------

    @property
    def model_objects(self) -> list[MbObject]:
        assert self.session is not None
        return list(self.session.model.objects.values())

    def variable(self, address: str) -> str:
        """The flow variable naming ``address`` (``$interaction1``), or the address itself if none does."""
        name = self.names.get(address)
        return f"${name}" if name is not None else address

    def legal_targets(self, name: str, stimulus: bool = False) -> list[str]:
        """The live objects on which the command or stimulus is legal now (its level, media, precondition)."""
        key = ("legal", name, stimulus)
        if key not in self.known:
            self.known[key] = self._legal_targets(name, stimulus)
        return list(self.known[key])

    def _legal_targets(self, name: str, stimulus: bool) -> list[str]:
        session = self.session
        if session is None:
            return []
        catalogue = self.fuzz.catalogue
        spec = catalogue.stimuli[name] if stimulus else catalogue.commands[name]
        oracle = session.oracle
        data: Any = {}
        if not stimulus:
            command = catalogue.commands[name]
            data = with_facts(dict(command.example_for(oracle.platform)), oracle.facts)
        context = oracle.context(data)
        targets = []
        for obj in session.model.objects.values():
            if obj.level != spec.level:
                continue
            kind = session.model.media_of(obj)
            if spec.media and kind is not None and kind not in spec.media:
                continue
            if not legal(spec.when, session.model, obj, context):
                targets.append(obj.address)
        return sorted(targets)

    def targets(self, goal: Goal) -> list[str]:
        """The live objects that meet ``goal`` now (the catalogue decides the command there as the goal says)."""
        key = ("goal", goal.key)
        if key not in self.known:
            session = self.session
            assert session is not None
            oracle = session.oracle
            self.known[key] = sorted(
                obj.address for obj in session.model.of_level(goal.level) if goal.accepts(oracle, obj)
            )
        return list(self.known[key])

    def plan(self, goal: Goal, on: str | None = None) -> Plan | None:
        """The shortest way from the current situation to an object meeting ``goal`` (``on``: to the object at
        that address meeting it), found by the planner on the catalogue's simulation, as the conformance
        suite's set-ups are. Plans are kept by situation, goal and which object (without ids), so a flow that
        passes through a situation another example saw reuses its plan."""
        session = self.session
        assert session is not None
        model = session.model
        now = situation(model)
        place = anchor(model, on) if on is not None else None
        if on is not None:
            obj = model.get(on)
            if place is None or obj is None or not self._live(obj):
                return None  # gone, or ended: nothing brings it back
        key = (now, goal.key, place)
        plans = self.fuzz.plans
        if key not in plans:
            explorers = self.fuzz.explorers
            if len(plans) >= MAX_PLANS:
                del plans[next(iter(plans))]  # the oldest
            if len(explorers) >= MAX_EXPLORERS:
                del explorers[next(iter(explorers))]
            commands, stimuli = self.fuzz.settings.commands, self.fuzz.settings.stimuli
            if place is None:
                if (now, None) not in explorers:
                    explorers[(now, None)] = Explorer(session.oracle, commands, stimuli, max_nodes=PLAN_NODES)
                plans[key] = explorers[(now, None)].plan(goal)
            else:  # steps on that object and inside it only: a few, found fast (or soon known to be none)
                if (now, place) not in explorers:
                    explorers[(now, place)] = Explorer(
                        session.oracle, commands, stimuli, max_nodes=OBJECT_PLAN_NODES, within=on
                    )
                explorer = explorers[(now, place)]
                plans[key] = explorer.plan(replace(goal, address=anchored(explorer.root, place)))
        found = plans[key]
        return found.relocate(model) if found is not None else None

    def _live(self, obj: MbObject) -> bool:
        level = self.fuzz.catalogue.levels.get(obj.level)
        return level is None or level.live is None or obj.state in level.live

    def reachable(self, goal: Goal) -> bool:
        """The planner can bring some object from the session's start into a situation meeting ``goal``.
        Known from the first example's start (:meth:`_explore_start`): planning in every situation a
        precondition sees would cost more than the steps, and a later situation where the goal is out of
        reach makes the rule a step that sends nothing."""
        return self.fuzz.reachable.get(goal.key, False)

    def _explore_start(self) -> None:
        """Which goals of the command rules the declared commands and stimuli can reach from the start."""
        catalogue, settings = self.fuzz.catalogue, self.fuzz.settings
        for name in sorted(settings.commands):
            spec = catalogue.commands.get(name)
            if spec is None or settings.platform not in spec.platforms:
                continue
            for decision in (DEFAULT, LEGAL, REFUSED_STATE):
                goal = Goal(spec.level, name, decision=decision)
                self.fuzz.reachable[goal.key] = bool(self.targets(goal)) or self.plan(goal) is not None
        for name in sorted(settings.stimuli):
            if name in catalogue.stimuli:
                for goal in self.stimulus_goals(name):
                    self.fuzz.reachable[goal.key] = bool(self.targets(goal)) or self.plan(goal) is not None
        self.fuzz.ending = frozenset(
            name
            for name in sorted(settings.commands)
            if name in catalogue.commands and self._ends_its_object(name)
        )

    def _ends_its_object(self, command: str) -> bool:
        """By the catalogue, the command's main path takes its object out of its live states (a release, a
        transfer): simulated from the start along the planner's way to a situation where it takes it."""
        session = self.session
        assert session is not None
        spec = self.fuzz.catalogue.commands[command]
        goal = Goal(spec.level, command, decision=DEFAULT)
        plan = self.plan(goal) if self.reachable(goal) else None
        if plan is None:
            return False
        simulated = session.oracle.copy()
        names: dict[str, str] = {}
        for step in plan.steps:
            target = names.get(step.target, step.target)
            if step.kind == "command":
                example = self.fuzz.catalogue.commands[step.name].example_for(simulated.platform)
                simulated.handle({"command": step.name, "target": target, "data": dict(example)})
            else:
                with suppress(Refusal):
                    simulated.stimulate(step.name, target)
            for variable, entry in step.bind.items():
                if entry in simulated.last_bound:
                    names[f"${variable}"] = simulated.last_bound[entry]
        address = names.get(plan.target, plan.target)
        data = with_facts(dict(spec.example_for(simulated.platform)), simulated.facts)
        simulated.handle({"command": command, "target": address, "data": data})
        obj = simulated.model.get(address)
        level = self.fuzz.catalogue.levels[spec.level]
        return obj is None or (level.live is not None and obj.state not in level.live)

    def follow(self, plan: Plan) -> tuple[list[str], str | None]:
        """Run the plan's steps, each checked like any other step. Returns the flow variables of the objects
        they created, and the address of the object the plan leads to (None if the adapter took another path
        and the plan's object was never announced)."""
        planned: dict[str, str] = {}  # the plan's "$p<step>_<name>" -> the address the adapter announced
        created: list[str] = []
        for step in plan.steps:
            target = planned.get(step.target, step.target)
            if target.startswith("$"):
                return created, None
            created += self.execute(Step(step.kind, step.name, self.variable(target)))
            bound = self.record.results[-1].bound
            for variable, entry in step.bind.items():
                if entry in bound:
                    planned[f"${variable}"] = bound[entry]
        goal = planned.get(plan.target, plan.target)
        return created, None if goal.startswith("$") else goal

    def act(self, command: str, data: st.DataObject, only: str | None = None) -> list[str]:
        """Send ``command`` where it takes its main path (half of the time: an unmute on a muted call), where it
        is legal whatever it brings (an unmute on a call that is not muted), or where the state refuses it (a
        quarter each); three times in four on the object the flow works on at its level. When no object is in
        that situation, the planner's shortest way to one runs first. ``only``: on that object, or nothing if
        the declared steps cannot bring it there. Returns the flow variables of the objects it created."""
        session = self.session
        assert session is not None
        level = self.fuzz.catalogue.commands[command].level
        where = (DEFAULT, DEFAULT, LEGAL, REFUSED_STATE)[data.draw(st.integers(0, 3), label="where")]
        goal = Goal(level, command, decision=where)
        if not self.reachable(goal):  # no situation the declared steps reach from the start: fall back
            goal = Goal(level, command, decision=LEGAL)
        created: list[str] = []
        targets = self.targets(goal)
        plan: Plan | None = None
        recent = only or self.recent.get(level)
        if recent is not None and (
            only is not None or data.draw(st.integers(0, 3), label="on the object the flow works on") < 3
        ):
            if recent in targets:
                targets = [recent]
            else:
                plan = self.plan(goal, on=recent)
                if plan is None and only is not None:
                    return []
        if plan is None and not targets:
            plan = self.plan(goal)
            if plan is None:  # out of reach from this situation (the precondition knows it is from the start)
                return []
        if plan is not None:
            created, reached = self.follow(plan)
            if reached is None:
                return created
            targets = [reached]
        target = targets[0] if len(targets) == 1 else data.draw(st.sampled_from(targets), label="target")
        oracle = session.oracle
        payload = data.draw(
            request_data(self.fuzz.catalogue, command, oracle.platform, oracle.facts), label="data"
        )
        return created + self.execute(Step("command", command, self.variable(target), data=payload), focus=True)

    def stimulus_goals(self, stimulus: str) -> list[Goal]:
        """An object of the stimulus's level in each state its precondition names (all states if it names
        none): where a flow can bring an object to produce the stimulus on it."""
        spec = self.fuzz.catalogue.stimuli[stimulus]
        named: set[str] = set()
        for condition in spec.when:
            if condition.state is None:
                named = set()
                break
            named |= set(condition.state)
        states = sorted(named) or list(self.fuzz.catalogue.levels[spec.level].states)
        return [Goal(spec.level, state=state) for state in states]

    def stimulate(self, stimulus: str, data: st.DataObject) -> list[str]:
        """Produce ``stimulus`` on an object where it is legal: three times in four the object the flow works
        on, brought first into one of the states it needs (a hold before the remote party hangs up) when the
        declared steps can; otherwise on any object where it is legal now, or one the planner brings there."""
        level = self.fuzz.catalogue.stimuli[stimulus].level
        goals = [goal for goal in self.stimulus_goals(stimulus) if self.reachable(goal)]
        goal = data.draw(st.sampled_from(goals), label="state") if goals else None
        created: list[str] = []
        targets = self.legal_targets(stimulus, stimulus=True)
        recent = self.recent.get(level)
        if recent is not None and data.draw(st.integers(0, 3), label="on the object the flow works on") < 3:
            if goal is not None and recent not in self.targets(goal):
                plan = self.plan(goal, on=recent)
                if plan is not None:
                    created, _ = self.follow(plan)
                    targets = self.legal_targets(stimulus, stimulus=True)
            if recent in targets:
                targets = [recent]
        if not targets and goal is not None:
            plan = self.plan(goal)
            if plan is not None:
                created, _ = self.follow(plan)
                targets = self.legal_targets(stimulus, stimulus=True)
        if not targets:
            return created
        target = targets[0] if len(targets) == 1 else data.draw(st.sampled_from(targets), label="target")
        return created + self.execute(Step("stimulus", stimulus, self.variable(target)), focus=True)

    # -- running a step ------------------------------------------------------------------------------------

    def execute(self, step: Step, focus: bool = False) -> list[str]:
        """Run the step with every check; a failed check is a :class:`Finding`. Returns the flow variables of
        the objects the step created (for the ``objects`` bundle). ``focus``: the step's object becomes the one
        the flow works on at its level (a rule's own step, not a planned step or a stray command)."""
        session = self.session
        assert session is not None
        before = {obj.address: obj.state for obj in session.model.objects.values()}
        index = len(self.record.steps) + 1
        self.known.clear()  # the situation changes with the step
        try:
            result = self.fuzz.run(session.run(step))
        except Inconclusive:
            # the adapter would not produce a stimulus the catalogue allows: not a finding, an invalid example
            self.fuzz.inconclusive += 1
            self.record.steps.append(step)
            reject()
        except ConnectionLost as exc:
            self.record.steps.append(step)
            violation = Violation(exc.category, "connection lost", str(exc))
            finding = finding_class(violation)(index, step.describe(), violation)
            self.record.finding = finding
            raise finding from None
        created = self._learn(step, result, before)
        focused: MbObject | None = None
        if focus:
            with suppress(Inconclusive):
                focused = session.model.get(session.resolve(step.target))
                if focused is not None:
                    self.recent[focused.level] = focused.address
        recorded = step
        if step.kind != "frame":
            recorded = replace(step, expect=result.expected or None, bind=created)
        self.record.steps.append(recorded)
        self.record.results.append(result)
        self._cover(step, result, before)
        self.fuzz.coverage.warned(result.violations)
        if result.verdict >= Verdict.FAIL:
            first = next(v for v in result.violations if v.verdict >= Verdict.FAIL)
            finding = finding_class(first)(index, step.describe(), first)
            self.record.finding = finding
            raise finding
        made = [f"${name}" for name in created]
        if focused is not None and session.model.get(focused.address) is not None:
            made += self.reassert(focused.address, self.level_commands(focused.level))
        return made

    def _learn(self, step: Step, result: StepResult, before: dict[str, str | None]) -> dict[str, str]:
        """Name each object the step's list bound (``bind``: variable -> the list's 'as' name)."""
        session = self.session
        assert session is not None
        created: dict[str, str] = {}
        for entry_name, address in sorted(result.bound.items()):
            obj = session.model.get(address)
            if address in before or address in self.names or obj is None:
                continue
            count = self.counters.get(obj.level, 0) + 1
            self.counters[obj.level] = count
            variable = f"{obj.level}{count}"
            self.names[address] = variable
            self.levels[variable] = obj.level
            session.variables[variable] = address
            created[variable] = entry_name
        return created

    def _cover(self, step: Step, result: StepResult, before: dict[str, str | None]) -> None:
        coverage = self.fuzz.coverage
        session = self.session
        assert session is not None
        coverage.steps += 1
        if self.fuzz.progress is not None:
            self.fuzz.progress.tick(coverage, int(self.fuzz.last_failure is not None))
        if step.kind == "command" and result.response is not None:
            coverage.commands[(step.name, str(result.response.result))] += 1
        elif step.kind == "stimulus":
            coverage.stimuli[step.name] += 1
        elif step.kind == "frame":
            coverage.frames[step.name.split(":", 1)[0]] += 1
            command = result.request.get("command") if result.request is not None else None
            if command in self.fuzz.catalogue.commands and result.response is not None:  # not "aaaa…"
                coverage.commands[(str(command), str(result.response.result))] += 1

    # -- rules shared by every catalogue -------------------------------------------------------------------

    @initialize(target=objects)
    def started(self) -> Any:
        """The objects the start-up announced (``$channel``, ``$telephony_channel``, ...)."""
        session = self.session
        assert session is not None
        return multiple(*(f"${name}" for name in sorted(session.variables)))

    @rule(target=objects, known=objects, data=st.data())
    def any_command(self, known: str, data: st.DataObject) -> Any:
        """Any declared command on any object the session learned (often illegal now, or disposed, or of
        another level): the catalogue decides what the adapter must answer."""
        session = self.session
        assert session is not None
        catalogue = self.fuzz.catalogue
        declared = sorted(name for name in self.fuzz.settings.commands if name in catalogue.commands)
        level = self.levels.get(known[1:])
        same_level = [name for name in declared if catalogue.commands[name].level == level]
        variant = data.draw(st.sampled_from(("a command of its level", "any command", "an unknown child")))
        pool = same_level if variant == "a command of its level" and same_level else declared
        command = data.draw(st.sampled_from(pool), label="command")
        target = known
        if variant == "an unknown child":
            spec = self.fuzz.catalogue.commands[command]
            code = self.fuzz.catalogue.levels[spec.level].code.lower()
            target = "${" + known[1:] + "}" + f"{SEPARATOR}{code}999" if known.startswith("$") else known
        payload = with_facts(
            dict(self.fuzz.catalogue.commands[command].example_for(session.oracle.platform)), session.oracle.facts
        )
        return multiple(*self.execute(Step("command", command, target, data=payload)))

    @rule(target=objects, data=st.data())
    def work_on_one_object(self, data: st.DataObject) -> Any:
        """Several commands in a row on the object the flow works on, none of which ends it (a mute, a hold, a
        retrieve, an unmute of one call), each followed by the commands that ask it for what it already is:
        the bugs of an adapter's state hide in such sequences, which single rules drawn among all the commands
        rarely line up."""
        session = self.session
        assert session is not None
        working = sorted(level for level, address in self.recent.items() if session.model.get(address) is not None)
        if not working:
            return multiple()
        level = data.draw(st.sampled_from(working), label="level")
        address = self.recent[level]
        commands = [
            name for name in self.level_commands(level) if self.reachable(Goal(level, name, decision=LEGAL))
        ]
        created: list[str] = []
        keeping = [name for name in commands if name not in self.fuzz.ending]
        if not keeping:
            return multiple()
        for _ in range(data.draw(st.integers(2, BURST), label="commands")):
            if session.model.get(address) is None:  # it is gone (a remote hang-up came with a step)
                break
            created += self.act(data.draw(st.sampled_from(keeping), label="command"), data, only=address)
        return multiple(*created)

    def level_commands(self, level: str) -> list[str]:
        """The declared commands of ``level`` on the profile's platform."""
        catalogue, settings = self.fuzz.catalogue, self.fuzz.settings
        return sorted(
            name
            for name in settings.commands
            if name in catalogue.commands
            and catalogue.commands[name].level == level
            and settings.platform in catalogue.commands[name].platforms
        )

    def reassert(self, address: str, commands: list[str]) -> list[str]:
        """Send each command that, by the catalogue, asks the object for what it already is (a mute of a muted
        call: success, and nothing changes). An adapter whose own state drifted from what it announced (a
        retrieve that silently unmuted) answers them with a change, or a refusal."""
        session = self.session
        assert session is not None
        oracle, created = session.oracle, []
        for name in commands:
            obj = session.model.get(address)
            if obj is None:
                break
            spec = self.fuzz.catalogue.commands[name]
            data = with_facts(dict(spec.example_for(oracle.platform)), oracle.facts)
            decision = oracle.decide({"command": name, "target": address, "data": data})
            events = decision.events
            if decision.outcome is None or decision.result != "success" or events is None:
                continue
            if events.complete and not events.entries:
                created += self.execute(Step("command", name, self.variable(address), data=data))
        return created

    def valid_request(self, data: st.DataObject) -> Any:
        """A request valid by its command's schema (any data the schema allows) on any live object of its
        level: whatever the state, the catalogue decides the answer (message-level fuzzing)."""
        session = self.session
        assert session is not None
        catalogue, oracle = self.fuzz.catalogue, session.oracle
        levels = {obj.level for obj in session.model.objects.values()}
        commands = sorted(
            name
            for name in self.fuzz.settings.commands
            if name in catalogue.commands
            and catalogue.commands[name].level in levels
            and oracle.platform in catalogue.commands[name].platforms
        )
        command = data.draw(st.sampled_from(commands), label="command")
        level = catalogue.commands[command].level
        targets = sorted(obj.address for obj in session.model.objects.values() if obj.level == level)
        target = data.draw(st.sampled_from(targets), label="target")
        payload = data.draw(request_data(catalogue, command, oracle.platform, oracle.facts), label="data")
        return multiple(*self.execute(Step("command", command, self.variable(target), data=payload)))

    @rule(data=st.data())
    def bad_frame(self, data: st.DataObject) -> None:
        """A malformed or invalid frame: it must be refused cleanly and the adapter must stay responsive."""
        session = self.session
        assert session is not None
        live = sorted((obj.address, obj.level) for obj in session.model.objects.values())
        oracle = session.oracle
        frame = data.draw(
            bad_frames(
                self.fuzz.catalogue,
                oracle.platform,
                oracle.facts,
                sorted(self.fuzz.settings.commands),
                live,
                sorted(session.model.disposed)[-8:],
            ),
            label="frame",
        )
        self.execute(frame_step(frame, self.names))


def frame_step(frame: Frame, names: dict[str, str]) -> Step:
    """A frame as a step, with every address it contains written as ``${variable}`` (a replay in another
    session then sends the same frame about its own objects)."""
    if frame.binary is not None:
        return Step("frame", frame.how, "", data={"hex": frame.binary.hex()}, title=f"send a frame: {frame.how}")
    text = frame.text or ""
    for address in sorted(names, key=len, reverse=True):
        if address in text:
            text = re.sub(re.escape(address) + ID_CHARS, "${" + names[address] + "}", text)
    return Step("frame", frame.how, "", data={"text": text}, title=f"send a frame: {frame.how}")


def _command_rule(command: str) -> Callable[..., Any]:
    def send(self: FlowMachine, data: st.DataObject) -> Any:
        return multiple(*self.act(command, data))

    send.__name__ = "send_" + command.replace(".", "_")
    send.__doc__ = (
        f"{command} where it takes its main path, or where it is legal, or where the state refuses it; when no "
        "object is in such a situation, the planner's shortest way to one is run first, step by step"
    )

    def possible(self: FlowMachine) -> bool:
        session = self.session
        if session is None:
            return False
        return self.reachable(Goal(self.fuzz.catalogue.commands[command].level, command, decision=LEGAL))

    guarded = precondition(possible)(send)
    return rule(target=FlowMachine.objects, data=st.data())(guarded)


def _stimulus_rule(stimulus: str) -> Callable[..., Any]:
    def produce(self: FlowMachine, data: st.DataObject) -> Any:
        return multiple(*self.stimulate(stimulus, data))

    produce.__name__ = "stimulus_" + stimulus.replace(".", "_")
    produce.__doc__ = (
        f"the stimulus {stimulus} on an object in one of the states where the state model allows it; when none "
        "is there, the planner's shortest way to one runs first"
    )

    def possible(self: FlowMachine) -> bool:
        return bool(self.legal_targets(stimulus, stimulus=True)) or any(
            self.reachable(goal) for goal in self.stimulus_goals(stimulus)
        )

    guarded = precondition(possible)(produce)
    return rule(target=FlowMachine.objects, data=st.data())(guarded)


def build_machine(target: FuzzTarget, kind: str = "flows") -> type[FlowMachine]:
    """The state machine for one profile. ``flows``: a rule per declared command and per stimulus it can
    produce, any command on any learned object, and bad frames. ``messages``: valid requests with any data
    their schema allows, and bad frames, a few per session."""
    settings = target.settings
    rules: dict[str, Any] = {"target": target}
    if kind == "messages":
        rules["any_command"] = rules["work_on_one_object"] = None  # not rules here
        rules["kind"] = "messages"
        rules["valid_request"] = rule(target=FlowMachine.objects, data=st.data())(FlowMachine.valid_request)
        return type("MediaBarMessages", (FlowMachine,), rules)
    for command in sorted(settings.commands):
        spec = target.catalogue.commands.get(command)
        if spec is not None and settings.platform in spec.platforms:
            rules["send_" + command.replace(".", "_")] = _command_rule(command)
    for stimulus in sorted(settings.stimuli):
        spec_s = target.catalogue.stimuli.get(stimulus)
        if spec_s is not None and (not spec_s.platforms or settings.platform in spec_s.platforms):
            rules["stimulus_" + stimulus.replace(".", "_")] = _stimulus_rule(stimulus)
    return type("MediaBarFlows", (FlowMachine,), rules)
