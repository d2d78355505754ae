"""Run one flow on a fresh connection: start-up, planned set-up, the steps under test.

Every test case gets its own session, so tests never depend on each other. A flow always ends with a
result: a deadline ends a step that hangs, a lost connection ends the flow with verdict error, and an IUT
that cannot be brought into the needed state ends it as inconclusive.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, replace

from ..core.plan import Goal, Plan, find_plan
from ..core.results import FlowResult
from ..core.runevents import Listener, Note, no_listener
from ..core.steps import Step
from ..core.violations import Category, Verdict, Violation
from ..spec.catalogue import Catalogue
from .connection import Connection, ConnectionLost, Transcript
from .deadline import StepTimeout
from .session import Inconclusive, MediaBarSession
from .settings import Settings
from .setups import FailedSetups, SetupFailure


@dataclass(frozen=True)
class Flow:
    steps: tuple[Step, ...]
    goal: Goal | None = None  # bring some object into this situation first; it becomes ``$goal``
    plan: Plan | None = None  # a plan for the goal found beforehand on the simulated start (a hint)
    missing_level: str | None = None  # bind ``$missing`` to an address at this level that names nothing
    fence: bool = False  # after each step, a request the catalogue refuses and its answer (a fuzz finding's)
    settle: float | None = None  # the settle window instead of the profile's (a fuzz finding's)


async def run_flow(
    flow: Flow,
    *,
    url: str,
    catalogue: Catalogue,
    settings: Settings,
    listener: Listener = no_listener,
    setups: FailedSetups | None = None,
    case: str = "",
) -> FlowResult:
    """Run ``flow``; ``setups``: the set-up steps that failed in this run so far (not tried again; a set-up
    step that fails here is added, as failed in ``case``)."""
    result = FlowResult()
    transcript: Transcript | None = None
    if flow.settle is not None:
        settings = replace(settings, settle=flow.settle)
    redactor = settings.redactor.session()  # learns this session's secret values (a destination dialled)
    listener = redactor.listener(listener)
    try:
        connection = await Connection.for_settings(url, settings, listener, redactor)
    except (ConnectionLost, StepTimeout) as exc:
        result.add("connect", [Violation(Category.CONNECTION_LOST, "cannot connect", str(exc))])
        result.reason = str(exc)
        result.transcript = f"# no frame was exchanged: {exc}\n"
        redactor.result(result)
        return result
    transcript = connection.transcript
    session = MediaBarSession(catalogue, settings, connection, listener, url)
    session.fences = flow.fence
    steps = list(flow.steps)
    try:
        result.add("session start-up", await session.bootstrap())
        if not session.ready:
            result.reason = "the session did not start"
            return result
        if flow.goal is not None:
            await _set_up(session, flow.goal, flow.plan, settings, result, (setups, case))
        if flow.missing_level is not None:
            session.variables["missing"] = session.model.unknown_address(flow.missing_level)
        while steps:
            step = steps.pop(0)
            step_result = await session.run(step)
            result.steps.append(step_result)
            result.add(step_result.title, step_result.violations)
            if result.verdict >= Verdict.FAIL:
                break
    except Inconclusive as exc:
        result.verdict = result.verdict.worst(Verdict.INCONCLUSIVE)
        result.reason = str(exc)
        listener(Note(f"inconclusive: {exc}"))
    except ConnectionLost as exc:
        lost = exc.category is Category.CONNECTION_LOST
        title = "connection lost" if lost else "frame that ended the connection"
        result.add("connection", [Violation(exc.category, title, str(exc))])
        result.reason = str(exc)
    except Exception as exc:  # a harness fault: the test ends with verdict error, never a bare traceback
        detail = "".join(traceback.format_exception(exc)[-6:])
        result.add("harness", [Violation(Category.HARNESS_FAULT, "harness fault", f"{exc!r}\n{detail}")])
        result.reason = f"harness fault: {exc!r}"
    finally:
        result.not_run = [step.describe() for step in steps]
        await connection.close()
        result.transcript = transcript.render()
        redactor.result(result)
    return result


MAX_REPLANS = 3  # how often a set-up plans again after the adapter took another path than predicted


async def _set_up(
    session: MediaBarSession,
    goal: Goal,
    hint: Plan | None,
    settings: Settings,
    result: FlowResult,
    failed: tuple[FailedSetups | None, str] = (None, ""),
) -> None:
    """Bring an object into the goal's situation. The plan follows the catalogue; where the adapter takes
    another path (a convention of its own: a call that keeps ringing after an accept, another state), the
    set-up follows what the adapter did: it plans again from the situation the adapter is really in.
    ``failed``: the run's failed set-up steps (a step that failed from the same situation is not tried again)
    and the case this set-up is for."""
    setups, case = failed
    plan = hint.relocate(session.model) if hint is not None else None
    if plan is None:
        plan = _plan(session, goal, settings)
    session.listener(Note("set-up plan: " + _describe(plan)))
    steps = list(plan.steps)
    replans = 0
    avoid: set[str] = set()  # commands the adapter refused where the catalogue expected success: not again
    while True:
        while steps:
            step = steps.pop(0)
            key = None
            if setups is not None:
                key = FailedSetups.key(step, session.resolve(step.target), session.model)
                known = setups.failed(key)
                if known is not None:
                    raise Inconclusive(
                        f"set-up step '{known.step}' failed in {known.case} from the same situation: "
                        f"{known.violation} (not tried again; --retry-setups tries it)"
                    )
            step_result = await session.run(step)
            result.steps.append(step_result)
            if step_result.verdict >= Verdict.FAIL:
                first = next(v for v in step_result.violations if v.verdict >= Verdict.FAIL)
                if setups is not None and key is not None:
                    setups.record(key, SetupFailure(case, step_result.title, f"{first.title}: {first.message}"))
                raise Inconclusive(f"set-up step '{step_result.title}' failed: {first.title}: {first.message}")
            result.add(f"set-up: {step_result.title}", step_result.violations)  # warnings: shown, never stopping
            answer = step_result.response
            if answer is not None and answer.result not in step_result.expected and step.kind == "command":
                avoid.add(step.name)
            if step_result.violations and steps and replans < MAX_REPLANS:
                replans += 1
                plan = _plan(session, goal, settings, avoid)
                steps = list(plan.steps)
                session.listener(Note("the adapter took another path; set-up plan from here: " + _describe(plan)))
        goal_address = session.resolve(plan.target)
        reached = session.model.get(goal_address)
        if reached is not None and goal.accepts(session.oracle, reached):
            break
        if replans >= MAX_REPLANS:
            # The adapter took another path than the catalogue predicts where its lists leave room for it.
            state = f"it is {reached.state}" if reached is not None else "it is gone"
            raise Inconclusive(f"after the set-up, {goal_address} is not {goal.describe()} ({state})")
        replans += 1
        plan = _plan(session, goal, settings, avoid)
        steps = list(plan.steps)
        session.listener(Note("the adapter took another path; set-up plan from here: " + _describe(plan)))
    session.variables["goal"] = goal_address
    if "." in goal_address:
        session.variables["goal_parent"] = goal_address.rsplit(".", 1)[0]


def _plan(session: MediaBarSession, goal: Goal, settings: Settings, avoid: set[str] | None = None) -> Plan:
    """A plan from where the adapter is, without the commands it refused in this set-up (``avoid``)."""
    commands = settings.commands - (avoid or set())
    plan = find_plan(session.oracle, goal, commands=commands, stimuli=settings.stimuli)
    if plan is None:
        refused = f" (the adapter refused {', '.join(sorted(avoid))} here)" if avoid else ""
        raise Inconclusive(f"no sequence of the declared commands and stimuli leads to {goal.describe()}{refused}")
    return plan


def _describe(plan: Plan) -> str:
    return " → ".join(f"{s.name} on {s.target}" for s in plan.steps) or "nothing to do"
