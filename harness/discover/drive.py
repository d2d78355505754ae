"""Drive an adapter to discover its conventions: its start-up, then each declared command where the catalogue
predicts success, each in a session of its own (the set-up planned from the live model, as a test's is).

Every wait is the runner's (bounded by the step timeout); the whole discovery is bounded by its budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.media import named_in
from ..core.messages import Message, Response, classify
from ..core.plan import Goal
from ..core.redact import Redactor
from ..core.results import FlowResult, StepResult
from ..core.simulate import DEFAULT, Platform
from ..core.steps import Step
from ..core.violations import Verdict
from ..runner.connection import Connection, ConnectionLost
from ..runner.deadline import Deadline, StepTimeout, within
from ..runner.flow import _set_up
from ..runner.session import Inconclusive, MediaBarSession, startup_bindings
from ..runner.settings import Settings
from ..spec.catalogue import Catalogue, with_facts
from .observe import Observer, shown

UNKNOWN_SUFFIX = ".mbconform-unknown"  # appended to a catalogue command: a command no adapter has


@dataclass
class CommandOutcome:
    """What one command did where the catalogue predicts success (``status``: works, unknown, refused, no
    answer, other result, not reached, not tried)."""

    command: str
    status: str
    detail: str = ""
    evidence: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what differed in its answer or list (conventions, MUSTs)
    events: list[str] = field(default_factory=list)  # the events that came with it, in order


@dataclass
class Channel:
    address: str
    parent_level: str
    media: str | None
    state: str | None
    media_at: str | None = None  # where its creation data names a catalogue media, if not the catalogue's path


@dataclass
class Discovery:
    """Everything one discovery learned; :mod:`.draft` writes it as a profile."""

    url: str
    settings: Settings
    observer: Observer
    ready: bool = False
    startup_problem: str = ""
    channel_level: str | None = None  # the level of the objects the start-up announces (the catalogue's)
    channels: list[Channel] = field(default_factory=list)
    usable_state: str | None = None  # the state a command makes a channel usable in (the catalogue's)
    unknown_code: str | None = None  # the failure code the adapter gives a command it does not know
    unknown_evidence: str = ""
    commands: dict[str, CommandOutcome] = field(default_factory=dict)
    budget_spent: bool = False


async def discover(
    url: str, catalogue: Catalogue, settings: Settings, commands: list[str], budget: float
) -> Discovery:
    """Start one session (the start-up, the unknown-command probe), then survey ``commands``. No convention is
    held as the adapter's own while discovering them (whatever the base profile adopts)."""
    # nothing adopted; a channel's media observed, never taken from the base profile (a guess where the
    # adapter names it under another field: core/media.py)
    settings = replace(settings, adopted=frozenset(), media=())
    observer = Observer(catalogue)
    found = Discovery(url, settings, observer)
    whole = Deadline(budget, "discovery")
    try:
        await within(whole, _first_session(found, catalogue), lambda: "the start-up did not end")
    except StepTimeout as exc:
        found.budget_spent = True
        found.startup_problem = found.startup_problem or str(exc)
    if found.ready:
        levels = {channel.parent_level for channel in found.channels}
        session_level = _session_level(catalogue)
        flat = not levels or levels == {session_level}
        found.settings = replace(settings, addressing="flat" if flat else "channelgroup")
    for command in commands:
        if not found.ready:
            found.commands[command] = CommandOutcome(command, "not tried", "the session did not start")
            continue
        if whole.remaining() <= 0:
            found.budget_spent = True
            found.commands[command] = CommandOutcome(command, "not tried", "the discovery's budget ran out")
            continue
        try:
            outcome = await within(whole, _survey(found, catalogue, command), lambda: "a command did not end")
        except StepTimeout:
            found.budget_spent = True
            outcome = CommandOutcome(command, "not tried", "the discovery's budget ran out while trying it")
        found.commands[command] = outcome
    return found


def _session_level(catalogue: Catalogue) -> str:
    """The level of the session object (the root: a level with no parents)."""
    return next((name for name, level in catalogue.levels.items() if not level.parents), "session")


class _Following(Connection):
    """A connection whose session reads the adapter's frames with the state names learned so far (the
    transcript and the observer see each frame as the adapter sent it)."""

    observer: Observer | None = None

    def _received(self, frame: str | bytes) -> Message:
        message = super()._received(frame)
        translated = (
            self.observer.translated(frame) if self.observer is not None and isinstance(frame, str) else None
        )
        return message if translated is None else classify(translated)


async def _open(found: Discovery, catalogue: Catalogue) -> tuple[Connection, MediaBarSession]:
    redactor = found.settings.redactor.session()
    listener = redactor.listener(found.observer)
    connection = await _Following.for_settings(found.url, found.settings, listener, redactor)
    assert isinstance(connection, _Following)  # Connection.open builds the class it is called on
    connection.observer = found.observer
    session = MediaBarSession(catalogue, found.settings, connection, listener, found.url)
    found.observer.session = session
    return connection, session


async def _first_session(found: Discovery, catalogue: Catalogue) -> None:
    try:
        connection, session = await _open(found, catalogue)
    except (ConnectionLost, StepTimeout) as exc:
        found.startup_problem = f"cannot connect: {exc}"
        return
    try:
        violations = await session.bootstrap()
        found.ready = session.ready
        if not session.ready:
            found.startup_problem = next((v.message for v in violations if v.title == "no session start-up"), "")
            found.startup_problem = found.startup_problem or "the ready event did not arrive"
            return
        _learn_startup(found, catalogue, session)
        await _probe_unknown(found, catalogue, session)
    except (ConnectionLost, Inconclusive) as exc:
        found.startup_problem = found.startup_problem or str(exc)
    finally:
        await connection.close()


def _learn_startup(found: Discovery, catalogue: Catalogue, session: MediaBarSession) -> None:
    model = session.model
    for level in dict.fromkeys(startup_bindings(catalogue).values()):
        found.channel_level = found.channel_level or level
        for obj in model.of_level(level):
            parent = model.parent_of(obj)
            elsewhere = named_in(obj.info, model.guess_media) if obj.media is None or obj.media_guessed else []
            found.channels.append(
                Channel(
                    obj.address,
                    parent.level if parent else "",
                    model.media_of(obj),
                    obj.state,
                    elsewhere[0][0] if elsewhere else None,
                )
            )
    if found.channel_level is not None:
        found.usable_state = usable_state(catalogue, found.settings, found.channel_level)
        found.observer.learn_startup_states(found.channel_level, found.usable_state)


def usable_state(catalogue: Catalogue, settings: Settings, level: str) -> str | None:
    """The state a declared command brings an object of ``level`` into from its initial state, as the
    catalogue simulates it on a default start-up (a channel: the state its activation makes it usable in)."""
    platform = Platform(catalogue, platform=settings.platform, facts=settings.facts)
    platform.startup([{}], "S")  # one channel, its data from the creating event's example
    obj = next(platform.model.of_level(level), None)
    if obj is None:
        return None
    for command in sorted(settings.commands):
        spec = catalogue.commands.get(command)
        if spec is None or spec.level != level or settings.platform not in spec.platforms:
            continue
        data = with_facts(dict(spec.example_for(settings.platform)), platform.facts)
        request = {"command": command, "target": obj.address, "data": data}
        if platform.decide(request).result != "success":
            continue
        simulated = platform.copy()
        simulated.handle(request)
        after = simulated.model.get(obj.address)
        if after is not None and after.state is not None and after.state != obj.state:
            return after.state
    return None


async def _probe_unknown(found: Discovery, catalogue: Catalogue, session: MediaBarSession) -> None:
    """A request whose command no adapter has (a catalogue command with a suffix): its failure code is how
    this adapter says "unknown command" (the code is the adapter's own, ERRATA R9)."""
    name = sorted(catalogue.commands)[0] + UNKNOWN_SUFFIX
    target = session.model.session.address if session.model.session is not None else ""
    text = json.dumps({"command": name, "target": target, "data": {}})
    result = await session.run(Step("frame", "unknown command", "", data={"text": text}, title="unknown command"))
    response = result.response
    if response is None:
        return
    found.unknown_evidence = shown(session.connection.transcript.redactor.frame(json.dumps(response.raw)))
    code = _failure_code(response)
    if response.result == "failure" and code is not None:
        found.unknown_code = code


def _failure_code(response: Response) -> str | None:
    failure = response.raw.get("failure")
    code = failure.get("code") if isinstance(failure, dict) else None
    return code if isinstance(code, str) else None


async def _survey(found: Discovery, catalogue: Catalogue, command: str) -> CommandOutcome:
    """Bring an object where the catalogue predicts ``command`` succeeds, send it, and say what came back
    (with what the reports must not show redacted, as in the session's transcript)."""
    spec = catalogue.commands[command]
    goal = Goal(spec.level, command, decision=DEFAULT)
    try:
        connection, session = await _open(found, catalogue)
    except (ConnectionLost, StepTimeout) as exc:
        return CommandOutcome(command, "not reached", f"cannot connect: {exc}")
    redactor = connection.transcript.redactor
    try:
        await session.bootstrap()
        if not session.ready:
            return CommandOutcome(command, "not reached", "the session did not start")
        await _set_up(session, goal, None, found.settings, FlowResult())
        result = await session.run(Step("command", command, "$goal"))
        outcome = _outcome(found, command, result, redactor)
        outcome.events = list(found.observer.step_events)
        return outcome
    except Inconclusive as exc:
        return CommandOutcome(command, "not reached", redactor.text(str(exc)))
    except ConnectionLost as exc:
        return CommandOutcome(command, "not reached", redactor.text(f"the connection ended: {exc}"))
    except Exception as exc:  # a harness fault: this command is not judged, the discovery goes on
        return CommandOutcome(command, "not reached", redactor.text(f"harness fault (please report it): {exc!r}"))
    finally:
        await connection.close()


def _outcome(found: Discovery, command: str, result: StepResult, redactor: Redactor) -> CommandOutcome:
    response = result.response
    notes = [
        redactor.text(f"{'convention' if v.is_convention else v.severity.value}: {v.title}: {v.message}")
        for v in result.violations
        if v.verdict >= Verdict.WARN
    ][:5]
    if response is None:
        return CommandOutcome(command, "no answer", f"no response within {found.settings.step_timeout:g}s")
    frame = [shown(redactor.frame(json.dumps(response.raw)))]
    if response.result in result.expected:
        return CommandOutcome(command, "works", f"{response.result} on {result.target}", frame, notes)
    code = _failure_code(response)
    if response.result == "failure" and code is not None and code == found.unknown_code:
        return CommandOutcome(command, "unknown", f"failure {_text(code)}, as for a command no adapter has", frame)
    if response.result == "failure":
        code_text = _text(code) if code is not None else "(no code)"
        return CommandOutcome(command, "refused", f"failure {code_text} on {result.target}", frame, notes)
    return CommandOutcome(command, "other result", f"{_text(response.result)} on {result.target}", frame, notes)


def _text(value: Any) -> str:
    return shown(value if isinstance(value, str) else json.dumps(value), 80)
