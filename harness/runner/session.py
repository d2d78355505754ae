"""One media bar session against the IUT: start it up, then run steps and check what comes back.

Every frame the IUT sends is classified (core.messages), applied to the shadow object model
(core.objects), correlated if it is a response (core.correlation) and offered to the expectations of the
current and the last few steps (core.expect). Waiting happens only in :meth:`MediaBarSession._pump`, and
only through the deadline helper.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..core.conventions import (
    incoming,
    outgoing,
    resolve_shared,
    shared_name,
    undeclared_creation_target,
    undeclared_state,
)
from ..core.correlation import Correlator
from ..core.expect import EventExpectation, certain, check_response
from ..core.extras import extended
from ..core.facet_events import undeclared as undeclared_facet
from ..core.lists import bound_names
from ..core.media import catalogue_media
from ..core.media import undeclared as undeclared_media
from ..core.messages import (
    RESPONSE_WITHOUT_ADDRESS,
    Event,
    Malformed,
    Message,
    Request,
    Response,
    classify,
    encode,
    preview,
    quoted,
    sent,
)
from ..core.objects import SEPARATOR, ObjectModel
from ..core.results import StepResult
from ..core.runevents import Listener, Note, StepFinished, StepStarted
from ..core.simulate import Decision, Platform, command_basis
from ..core.steps import Step
from ..core.testcontrol import stimulus_request
from ..core.violations import Category, Severity, Verdict, Violation, adopted, capped, evidence
from ..jsonpaths import MISSING, find
from ..spec.catalogue import Catalogue, SpecRef, facts_in, facts_sent, with_facts, with_response
from .connection import Connection
from .deadline import Deadline, StepTimeout
from .settings import Settings
from .stimuli import StimulusFailed, produce

LINGERING = 4  # how many finished steps may still take their optional trailing events
RECENT = 20  # frames remembered to say what arrived when a deadline expires
MAX_STEP_VIOLATIONS = 100
OWN_REMEMBERED = 1024  # objects of the test the oracle watches for unexplained events
DRAINED = 64  # frames already arrived after a step, judged with it
TEMPLATE = re.compile(r"\$\{([a-z][a-z0-9_]*)\}")  # ${name} inside a literal target or a frame


def startup_bindings(catalogue: Catalogue) -> dict[str, str]:
    """The flow variables the start-up binds (its entries' ``as`` names) and the level of each."""
    bound = {}
    for entry in catalogue.startup.per_channel.entries:
        spec = catalogue.events.get(entry.event)
        if entry.binds and spec is not None and spec.creates_level:
            bound[entry.binds] = spec.creates_level
    return bound


ORIGINAL = "original"  # the failure response's echo of the request (specs/protocol.yaml)
UNREADABLE_ORIGINAL = "what a failure answer to a frame that is no JSON object echoes as original (ERRATA R37)"
UNREADABLE_ECHO = (
    "what a failure answer to a frame that is no readable request echoes as its command and target (ERRATA R37)"
)
# A binary frame: the seeds' requests are JSON text and R37 rules only on text frames, so whether a binary frame
# holding a request is refused, left unanswered or carried out is the adapter's own; R37's MUST (it stays usable)
# is what is judged
BINARY_FRAME = (
    "what an adapter does with a binary frame (no answer, a failure, or the request its bytes hold carried out) "
    "is its own: only that it stays usable is a MUST (ERRATA R37)"
)
SESSION_PLACEHOLDER = "${session}"  # in a start-up request: the session the adapter's first event names


def _filled(value: Any, fill: Callable[..., str]) -> Any:
    """``value`` with ``${name}`` in every string replaced by the flow variable's address (unknown names stay)."""
    if isinstance(value, str):
        return fill(value, strict=False)
    if isinstance(value, dict):
        return {key: _filled(item, fill) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, fill) for item in value]
    return value


class Inconclusive(Exception):
    """The IUT could not be brought into the state a test needs."""


class MediaBarSession:
    def __init__(
        self, catalogue: Catalogue, settings: Settings, connection: Connection, listener: Listener, url: str = ""
    ):
        self.catalogue = catalogue = extended(catalogue, settings.conventions.extras)  # with declared extras
        self.url = url  # the adapter's URL (for stimulus drivers' {adapter_http})
        self.settings = settings
        self.connection = connection
        self.listener = listener
        self.model = ObjectModel(catalogue)
        self.model.shared_states = settings.conventions.shared_states
        # a channel whose media the adapter does not name (core/media.py): the profile's only media, or a guess
        if len(settings.media) == 1:
            self.model.only_media = settings.media[0]
        else:
            self.model.guess_media = catalogue_media(catalogue)
        # The catalogue's view of what each request brings, decided on the shadow model (never changed by it).
        self.oracle = Platform(catalogue, self.model, platform=settings.platform, facts=settings.facts)
        self.variables: dict[str, str] = {}
        self.correlator = Correlator()
        self.lingering: deque[EventExpectation] = deque(maxlen=LINGERING)
        self.current: EventExpectation | None = None
        self.awaiting: dict[str, Any] | None = None
        self.response: Response | None = None
        self.violations: list[Violation] = []
        self.suppressed = 0
        self.recent: deque[str] = deque(maxlen=RECENT)
        self.ready = False
        # objects created after start-up (by this test's requests and stimuli), the newest remembered
        self.own: dict[str, None] = {}
        # objects the test's requests acted on with success (the start-up's channels too): what the adapter
        # sends about them with its answer to the fence is judged (bounded like ``own``)
        self.touched: dict[str, None] = {}
        self.flushing: str | None = None  # the fence's flush request, while its answer is awaited
        self.refused: str | None = None  # during a step the catalogue refuses: what was refused
        self.refused_target = ""  # and its target ("" for a frame that is no readable request)
        self.refused_basis: str | None = None  # why refusing it is the catalogue's reading, if it is
        self.carried: list[str] = []  # events about a refused request's objects that its list would bring
        self.unreadable = 0  # frames sent that are no readable request: each may get one failure response
        self.binary = False  # while a binary frame's answer and effects may come (BINARY_FRAME)
        self.probe: tuple[str, str] | None = None  # (command, target) of the last responsiveness probe
        # End each step with a fence (:meth:`_fence`) instead of reading what already came: the fuzzer's, and
        # a reproducer's that was found with fences
        self.fences = False
        self.fence_command: str | None = None  # refused for its unknown target
        self.ping: dict[str, Any] | None = None  # the fence's request awaiting its answer
        self.ping_response: Response | None = None

    # -- frames ----------------------------------------------------------------------------------

    def _violate(self, violation: Violation) -> None:
        if len(self.violations) < MAX_STEP_VIOLATIONS:
            self.violations.append(violation)
        else:
            self.suppressed += 1

    async def _send(self, request: dict[str, Any]) -> None:
        """Send a request as the adapter names its command (the profile's conventions)."""
        await self.connection.send(outgoing(self.settings.conventions, request))

    async def _send_readable(self, frame: str, request: dict[str, Any]) -> None:
        """Send a frame step's readable request as it is, unless the adapter names its command otherwise
        (the profile's conventions): then as the adapter names it."""
        label = f"{request.get('command')} on {request.get('target')}"
        renamed = outgoing(self.settings.conventions, request)
        if renamed.get("command") != request.get("command"):
            frame = encode(renamed)
        await self.connection.send_frame(frame, label)

    def _translated(self, message: Message) -> Message | None:
        """A frame from the adapter in the catalogue's names (the profile's conventions); None for an event of
        the adapter's own, which is shown as a note and never judged."""
        conventions = self.settings.conventions
        if conventions.is_default:
            return message
        if isinstance(message, Event):
            level = self._level_of(message.target)
            for title, broken, inferred, area in (
                (
                    "state name not declared",
                    undeclared_state(conventions, self.catalogue, message, level),
                    "state names are the catalogue's reading (ERRATA R9)",
                    "states",
                ),
                (
                    "media not as declared",
                    undeclared_media(conventions.media, self.catalogue, message.raw),
                    "how a channel names its media is the catalogue's reading (ERRATA R23)",
                    "payloads",
                ),
                (
                    "facet not as declared",
                    undeclared_facet(conventions.facet_events, self.catalogue, message.raw),
                    "which event announces a mute or a recording is the catalogue's reading (ERRATA R26)",
                    "payloads",
                ),
                (
                    "creation target not as declared",
                    undeclared_creation_target(conventions, self.catalogue, message, self._level_of),
                    "which object a creation event is about is the catalogue's reading",
                    "targets",
                ),
            ):
                if broken is not None:
                    self._violate(
                        Violation(
                            Category.SHAPE_MISMATCH,
                            title,
                            f"{message.name} about {message.target}: {broken}",
                            ref=self.catalogue.events[message.name].ref,
                            actual=evidence(message.data),
                            inferred=inferred,
                            declared=True,
                            area=area,
                        )
                    )
        translated = incoming(conventions, self.catalogue, message, self._level_of)
        if translated is None and isinstance(message, Event):
            if self.current is not None and self.current.in_scope(message):
                self.current.in_scope_total += 1  # the adapter's own event is still a secondary event
            self.recent.append(f"{message.name} about {message.target} (the adapter's own)")
            self.listener(
                Note(
                    f"{message.name} about {message.target}: an event of the adapter's own "
                    "(conventions.extra_events), not judged"
                )
            )
        return translated

    def _shared_resolved(self, event: Event) -> Event | None:
        """An event that sets a state by a name of the adapter's that stands for several catalogue states, with
        the one it stands for here (see ``conventions.resolve_shared``); the object remembers the name. None for
        the same name said again where no entry expects a change it could stand for: it says nothing new (the
        change it hides is owed no event, and may have been taken already), shown as a note, never judged."""
        obj = self.model.get(event.target)
        if obj is None or not self.model.shared_states:
            return event
        conventions = self.settings.conventions
        name = shared_name(conventions, self.catalogue, event, obj.level)
        spec = self.catalogue.events.get(event.name)
        path = spec.sets_state_path if spec is not None else None
        expected = self.current.expected_states(event.target) if self.current is not None else []
        if name is not None and name == obj.named and isinstance(event.data, dict) and len(event.data) == 1:
            states = conventions.shared_states[obj.level][name]
            if not any(state in states for state in expected):
                if self.current is not None and self.current.in_scope(event):
                    self.current.in_scope_total += 1  # still a secondary event of the request
                self.listener(Note(f"{event.name} about {event.target}: {name!r} again, still {obj.state}"))
                return None
        if path is not None and find(event.data, path) is not MISSING:
            obj.named = name  # a state by another name: the name no longer hides a change
        if name is None:
            return event
        return resolve_shared(conventions, self.catalogue, event, obj.level, obj.state, expected)

    def _level_of(self, address: str) -> str | None:
        obj = self.model.get(address)
        return obj.level if obj is not None else None

    def _dispatch(self, message: Message) -> None:
        translated = self._translated(message)
        if translated is None:
            return
        message = translated
        if isinstance(message, Event):
            self.recent.append(f"{message.name} about {message.target}")
            resolved = self._shared_resolved(message)
            if resolved is not None:
                self._on_event(resolved)
        elif isinstance(message, Response):
            self.recent.append(f"response {message.result} to {message.command} on {message.target}")
            self._on_response(message)
        elif isinstance(message, Request):
            self.recent.append(f"request {message.command} from the IUT")
            self._violate(
                Violation(
                    Category.UNEXPECTED_EVENT,
                    "request from the adapter",
                    f"the adapter sent a request ({message.command} on {message.target!r}); the media bar "
                    f"sends requests, the adapter answers them and sends events",
                    severity=Severity.SHOULD,
                    ref=self.catalogue.protocol.ref,
                    actual=evidence(message.raw),
                )
            )
        else:
            assert isinstance(message, Malformed)
            self.recent.append(f"malformed frame ({message.reason})")
            # while a frame that was no readable request awaits its answer, a response that echoes what it could
            # read of it (a command that is a number) is that answer: the seeds print no such answer
            echo = self.unreadable > 0 and message.reason == RESPONSE_WITHOUT_ADDRESS
            if echo:
                self.unreadable -= 1  # it answered the frame (as the answer counted in _on_response does)
            self._violate(
                Violation(
                    Category.MALFORMED_FRAME,
                    "malformed frame",
                    f"the adapter sent {message.reason}: {message.text}",
                    ref=self.catalogue.protocol.ref,
                    actual=evidence(message.text),
                    inferred=UNREADABLE_ECHO if echo else None,
                    area="payloads" if echo else None,
                )
            )

    def _on_event(self, event: Event) -> None:
        if self.ready:
            for message in self.catalogue.protocol.event_envelope.errors(event.raw):
                self._violate(
                    Violation(
                        Category.SHAPE_MISMATCH,
                        "malformed event",
                        f"{event.name}: {message}",
                        ref=self.catalogue.protocol.ref,
                        actual=sent(event),
                    )
                )
        # An event about an object never announced in this session is the adapter's, whatever the step.
        unknown = self.ready and event.target not in self.model.objects and event.target not in self.model.disposed
        applied = self.model.apply(event)
        relevant = unknown or self._owned(event.target)
        relevant = relevant or self.current is None or self.current.in_scope(event)
        if applied.problems and relevant:
            spec = self.catalogue.events.get(event.name)
            for problem in applied.problems:
                self._violate(
                    Violation(
                        Category.UNEXPECTED_EVENT,
                        "event the object model cannot explain",
                        str(problem),
                        ref=spec.ref if spec else self.catalogue.protocol.ref,
                        actual=evidence(quoted(event)),
                        inferred=problem.inferred,
                        area=problem.area,
                    )
                )
        if applied.created is not None and self.ready:
            self.own[applied.created.address] = None
            if len(self.own) > OWN_REMEMBERED:
                del self.own[next(iter(self.own))]
        after: str | None = None  # the refused request this event came after, if it must not bring it
        if self.flushing is not None and (self._owned(event.target) or self._touched(event.target)):
            after = f"came with the answer to {self.flushing}"
        elif self.refused is not None and self._about_refused(event.target):
            if self.current is not None and self.current.wants(event):
                # the list the request brings if the adapter carries it out: judged once its answer says so
                if len(self.carried) < DRAINED:
                    self.carried.append(f"{event.name} about {event.target}")
            else:
                after = f"came after {self.refused}"
        if after is not None and self.ready:
            self._violate(
                Violation(
                    Category.UNEXPECTED_EVENT,
                    "event after a refused request",
                    f"{event.name} about {event.target} {after}: a request the adapter must refuse changes "
                    "nothing and emits no event",
                    ref=self.catalogue.protocol.ref,
                    actual=evidence(sent(event)),
                    inferred=self.refused_basis if self.refused is not None else None,
                    area="results",
                )
            )
            return
        # The current step has first claim on an event it expects; a finished step may then take an optional
        # trailing event of its own; anything else in the current step's scope is judged by its list.
        if self.current is not None and self.current.wants(event):
            self.current.offer(event)
            return
        for expectation in self.lingering:
            if expectation.absorb(event):
                return
        if self.current is not None and self.current.offer(event):
            return
        if not applied.problems:  # an event the model cannot apply was reported above
            self._unexplained(event)

    def _about_refused(self, target: str) -> bool:
        """An event a refused request must not bring: about its target or inside it, or about the test's own
        objects (traffic about objects the test never made is left alone)."""
        refused = self.refused_target
        if refused and (target == refused or target.startswith(refused + SEPARATOR)):
            return True
        return self._owned(target)

    def _touched(self, target: str) -> bool:
        """An object the test acted on itself (not what is inside it, and not the session: traffic the
        platform sends about those on its own is left alone)."""
        return target in self.touched and SEPARATOR in target

    def _owned(self, target: str) -> bool:
        """The target is an object this test created, or inside one."""
        return any(target == own or target.startswith(own + SEPARATOR) for own in self.own)

    def _unexplained(self, event: Event) -> None:
        """The oracle: an event about an object this test created that no request or stimulus explains.
        Events about objects the test never made (the start-up's channels, another session's traffic) are
        left alone, so unrelated traffic never fails a test."""
        target = event.target
        if not self._owned(target):
            return
        self._violate(
            Violation(
                Category.UNEXPECTED_EVENT,
                "unexplained event",
                f"{event.name} about {target}: no request or stimulus of this step explains it"
                + (f" (the step is about {self.current.scope})" if self.current is not None else ""),
                ref=self.catalogue.events[event.name].ref if event.name in self.catalogue.events else None,
                actual=evidence(sent(event)),
            )
        )

    def _on_response(self, response: Response) -> None:
        if self.unreadable > 0 and self._answers_unreadable(response):
            self.unreadable -= 1  # the answer to a frame that was no readable request: a failure, or nothing
            self._check_unreadable_answer(response)
            return
        request = self.correlator.match(response)
        if request is None:
            self._violate(
                Violation(
                    Category.WRONG_RESULT,
                    "response to no request",
                    f"a {response.result} response for {response.command!r} on {response.target!r} answers "
                    f"no outstanding request (ERRATA R3: it must echo the command and target of one)",
                    ref=self.catalogue.protocol.ref,
                    actual=evidence(sent(response)),
                )
            )
        elif request is self.awaiting:
            self.response = response
        elif request is self.ping:
            self.ping_response = response

    async def _pump(self, deadline: Deadline, until: Callable[[], bool], explain: Callable[[], str]) -> None:
        while not until():
            self._dispatch(await self.connection.receive(deadline, explain))

    def _arrived(self) -> str:
        return "Arrived: " + ("; ".join(self.recent) if self.recent else "nothing") + "."

    # -- start-up --------------------------------------------------------------------------------

    async def bootstrap(self) -> list[Violation]:
        """Run the session start-up: send its requests (a log-in), each of which must succeed, then wait for
        the ready event (specs/session, or the profile's start-up where the adapter differs)."""
        startup = self.catalogue.startup
        step = Step("command", "session.startup", "", title="session start-up", ref=startup.ref)
        self.listener(StepStarted(step, "session start-up"))
        self.violations = []
        ready_name = self.settings.ready_event or startup.ready_event
        requests = self.settings.startup_send
        if requests is None:
            requests = tuple(
                {"command": r.command, "target": r.target, "data": dict(r.data)} for r in startup.send
            )
        deadline = Deadline(self.settings.step_timeout, "session start-up")
        ready: Event | None = None

        def watch(message: Message) -> None:
            nonlocal ready
            self._dispatch(message)
            if ready is None and isinstance(message, Event) and message.name == ready_name:
                ready = message

        try:
            for request in requests:
                if self.model.session is None and SESSION_PLACEHOLDER in json.dumps(request, default=str):
                    # a log-in that names the session: the adapter speaks first (ERRATA R10), wait for it
                    while self.model.session is None:
                        watch(
                            await self.connection.receive(
                                deadline,
                                lambda: (
                                    "Still expected: the adapter's first event, which names the session "
                                    f"(a start-up request names {SESSION_PLACEHOLDER}). " + self._arrived()
                                ),
                            )
                        )
                if self.model.session is not None:
                    self.variables["session"] = self.model.session.address
                sent = {
                    "command": request["command"],
                    "target": self.fill(str(request["target"]), strict=False),
                    "data": _filled(dict(request["data"]), self.fill),
                }
                self.correlator.sent(sent)
                self.awaiting, self.response = sent, None
                await self._send(sent)
                while self.response is None:
                    watch(
                        await self.connection.receive(
                            deadline,
                            lambda command=sent["command"]: (
                                f"Still expected: the response to {command}. " + self._arrived()
                            ),
                        )
                    )
                if self.response.result != "success":
                    self._violate(
                        Violation(
                            Category.WRONG_RESULT,
                            "start-up request refused",
                            f"the start-up request {sent['command']} got {self.response.result}: "
                            f"{evidence(self.response.raw)}",
                            ref=startup.ref,
                            expected="success",
                            actual=self.response.result,
                        )
                    )
            self.awaiting = None
            while ready is None:
                watch(
                    await self.connection.receive(
                        deadline, lambda: f"Still expected: {ready_name}. {self._arrived()}"
                    )
                )
        except StepTimeout as timeout:
            self._violate(Violation(Category.TIMEOUT, "no session start-up", str(timeout), ref=startup.ref))
        self.awaiting = None
        self.ready = ready is not None
        if self.model.session is not None:
            self.variables["session"] = self.model.session.address
        if ready is not None:
            self._check_startup(ready)
        violations = self._weighed(self.violations)
        verdict = max((v.verdict for v in violations), default=Verdict.PASS)
        self.listener(StepFinished(step, verdict, tuple(violations)))
        return violations

    def _check_startup(self, ready: Event) -> None:
        """After the ready event: it names the session, every object announced was initialized, and the
        channels are addressed as the profile says (in channel groups or directly in the session)."""
        startup = self.catalogue.startup
        session = self.model.session
        if session is not None and ready.target != session.address:
            self._violate(
                Violation(
                    Category.SHAPE_MISMATCH,
                    "ready event for another session",
                    f"{ready.name} is about {ready.target!r}, the session is {session.address!r}",
                    ref=startup.ref,
                    inferred="how a session starts is the catalogue's reading (ERRATA R10)",
                    area="startup",
                )
            )
        for name, level in startup_bindings(self.catalogue).items():
            objects = list(self.model.of_level(level))
            if not objects:
                self._violate(
                    Violation(
                        Category.MISSING_EVENT,
                        f"no {level}",
                        f"the start-up announced no {level}",
                        ref=startup.per_channel.ref,
                    )
                )
                continue
            self.variables[name] = objects[0].address
            for obj in objects:  # and the first of each media: $telephony_channel, $chat_channel
                media = self.model.media_of(obj)
                if media is not None:
                    self.variables.setdefault(f"{media}_{name}", obj.address)
        for problem in self.model.uninitialized():
            self._violate(
                Violation(
                    Category.MISSING_EVENT,
                    "never initialized",
                    str(problem),
                    ref=startup.ref,
                    inferred=problem.inferred,
                    area=problem.area,
                )
            )
        wanted = "channelgroup" if self.settings.addressing == "channelgroup" else "session"
        for channel in self.model.of_level("channel"):
            parent = self.model.parent_of(channel)
            if parent is not None and parent.level != wanted:
                self._violate(
                    Violation(
                        Category.SHAPE_MISMATCH,
                        "addressing differs from the profile",
                        f"channel {channel.address} is in a {parent.level}; the profile declares "
                        f"{self.settings.addressing} addressing (channels in a {wanted})",
                        ref=startup.ref,
                    )
                )

    # -- steps -------------------------------------------------------------------------------------

    def resolve(self, target: str) -> str:
        if not target.startswith("$") or target.startswith("${"):
            return self.fill(target)
        name = target[1:]
        if name not in self.variables:
            raise Inconclusive(f"{target} was never bound: the event that creates it did not arrive")
        return self.variables[name]

    def fill(self, text: str, strict: bool = True) -> str:
        """``${name}`` in a literal target or a frame, replaced by the address bound to ``name`` (not
        ``strict``: an unknown name stays as it is, for a frame's text)."""

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in self.variables:
                return self.variables[name]
            if not strict:
                return match.group(0)
            raise Inconclusive(f"${{{name}}} was never bound: the event that creates it did not arrive")

        return TEMPLATE.sub(value, text) if "${" in text else text

    def _request_for(
        self, step: Step, target: str, raw: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, Decision, SpecRef]:
        """The frame to send (None: an external stimulus, produced by the profile's driver) and what the
        catalogue says it brings (decided on the shadow model). ``raw``: a request read from a frame step."""
        facts = self.oracle.facts
        if raw is not None:
            spec_of = self.catalogue.commands.get(raw["command"])
            decision = self._weigh_facts(self.oracle.decide(raw), facts_sent(raw.get("data"), facts))
            return raw, decision, spec_of.ref if spec_of else self.catalogue.protocol.ref
        if step.kind == "command":
            spec = self.catalogue.commands[step.name]
            template = step.data if step.data is not None else spec.example_for(self.settings.platform)
            # a follow-up names its choice among what the answer before offered ($response:, a needinfo's skills)
            data = with_response(with_facts(dict(template), facts), self.response.raw if self.response else None)
            request = {"command": step.name, "target": target, "data": data}
            # platform data it names, or carries already (a fuzzer's data), not what it took from the answer before
            named = facts_in(template) | facts_sent(template, facts)
            return request, self._weigh_facts(self.oracle.decide(request), named), spec.ref
        stimulus = self.catalogue.stimuli[step.name]
        decision = Decision("success", None, stimulus.events)
        driver = self.settings.stimulus
        if driver.external:
            return None, decision, stimulus.ref
        if driver.kind != "in-band":
            raise Inconclusive(f"the profile has no way to produce the stimulus {step.name}")
        return stimulus_request(step.name, target), decision, stimulus.ref

    def _weigh_facts(self, decision: Decision, named: set[str]) -> Decision:
        """The decision, a convention where the request carries platform data the profile does not set
        (``named``: the facts it names by ``$fact:`` or carries the value of, as a fuzzer or a frame sends it; the
        catalogue's default platform's): lab data never sent as if the protocol required it (ERRATA R27)."""
        if decision.inferred is not None:
            return decision
        facts = self.oracle.facts
        defaults = sorted(named - self.settings.declared_facts)
        if not defaults:
            return decision
        shown = ", ".join(f"{name}={facts.get(name)!r}" for name in defaults)
        return replace(decision, inferred=f"the request carries platform data the profile does not set ({shown})")

    async def run(self, step: Step) -> StepResult:
        if step.kind == "frame":
            return await self._run_frame(step)
        return await self._run(step)

    def _fence_command(self) -> str | None:
        """A declared command the catalogue refuses on an address that names nothing (the fence's request)."""
        if self.fence_command is None:
            for command in sorted(self.settings.commands):
                spec = self.catalogue.commands.get(command)
                if spec is None or self.settings.platform not in spec.platforms:
                    continue
                request = {"command": command, "target": self.model.unknown_address(spec.level), "data": {}}
                refusal = self.oracle.decide(request, frozenset({"data"})).refusal
                if refusal is not None and refusal.reason == "invalid_target":
                    self.fence_command = command
                    break
        return self.fence_command

    async def _fence(self) -> bool:
        """End a step with a fence instead of reading what already came (``fences``): a request the catalogue
        refuses (a declared command on an address that names nothing), awaited with the step still current,
        then a second one, awaited as a refused request. An adapter that handles requests in order, and sends
        a request's events after its answer, has then sent every event of the step before the first answer,
        and whatever it sent with the first answer before the second: the step is judged on all of it, the
        same on every run whatever the timing, and the next step starts from the same situation. An event
        about the test's own objects, or an object it acted on, that comes with the first answer is an event
        after a refused request. False if no declared command can be refused that way (nothing was sent)."""
        command = self._fence_command()
        if command is None:
            return False
        address = self.model.unknown_address(self.catalogue.commands[command].level)
        for phase, target in (("the fence", address), ("the fence's flush", address + "-flush")):
            ping = {"command": command, "target": target, "data": {}}
            if phase != "the fence":  # what came with the fence's answer: a refused request's events
                self.current, self.refused, self.refused_target = None, None, ""
                self.flushing = f"the refused {command} on {address!r} (the fence)"
            self.ping, self.ping_response = ping, None
            self.correlator.sent(ping)
            wanted = f"Still expected: the answer to {command} on {target}."
            try:
                await self._send(ping)
                await self._pump(
                    Deadline(self.settings.step_timeout, phase),
                    lambda: self.ping_response is not None,
                    lambda: f"{wanted} {self._arrived()}",  # noqa: B023 (called before the loop goes on)
                )
            except StepTimeout as timeout_error:
                self._violate(Violation(Category.TIMEOUT, "no response", f"{phase}: {timeout_error}"))
                return True
            finally:
                self.ping, self.flushing = None, None
            answer = self.ping_response
            if answer is not None:
                for violation in check_response(
                    self.catalogue, ping, answer, frozenset({"failure"}), self.catalogue.protocol.ref, None
                ):
                    self._violate(replace(violation, message=f"{phase}: {violation.message}"))
        return True

    async def _run(self, step: Step, frame: str | None = None, raw: dict[str, Any] | None = None) -> StepResult:
        """Run a command or stimulus step; ``frame``/``raw``: a frame step whose frame is a readable request,
        sent as it is and checked like a command."""
        target = self.resolve(step.target) if raw is None else raw["target"]
        title = step.title or f"{'stimulus' if step.kind == 'stimulus' else 'send'} {step.name} on {target}"
        self.listener(StepStarted(step, title))
        self.violations = []
        result = StepResult(step, target, title)
        request, decision, ref = self._request_for(step, target, raw)
        expected = step.expect if step.expect is not None else frozenset({decision.result})
        if raw is not None:
            expected = frozenset({decision.result})
        result.expected = expected
        if step.kind == "stimulus":
            expected = frozenset({"success"})
        expectation = None
        if decision.events is not None and decision.result in expected:
            context = self.oracle.context(request.get("data") if request else None)
            expectation = EventExpectation.start(
                step.name, self.catalogue, decision.events, target, self.model, context
            )
            expectation.basis = decision.inferred
        # Where the catalogue refuses the request only by its own reading (a convention), the adapter may carry it
        # out: then its events are judged by the list the command brings where it is legal (and bind its objects)
        alternative = self._if_carried_out(step, request, decision, target)
        self.carried = []
        predicted = decision.result
        self.current = expectation or alternative
        self.response = None
        result.request = request
        timeout = self.settings.step_timeout
        if request is None:  # an external stimulus: the driver produces it, its events come on the WebSocket
            timeout = max(timeout, self.settings.stimulus.timeout or 0)
            await self._produce(step, target, timeout)
        else:
            self.awaiting = request
            self.correlator.sent(request)
            if decision.refusal is not None:
                command, refused_on = request.get("command"), request.get("target")
                self.refused = f"{command} on {refused_on!r}, which the catalogue refuses there"
                self.refused_target = str(request.get("target"))
                self.refused_basis = decision.refusal.inferred
            if frame is None:
                await self._send(request)
            else:
                await self._send_readable(frame, request)
        deadline = Deadline(timeout, f"step '{title}'")

        decided: list[EventExpectation] = []  # the list whose verdict became certain before it was done

        def settled(judged: EventExpectation | None) -> bool:
            """Nothing more to wait for: the list is done, or what arrived already fails the step."""
            if judged is None or judged.done:
                return True
            if not self.settings.wait_out and certain(judged, self.settings.adopted):
                decided.append(judged)
                return True
            return False

        def done() -> bool:
            if request is None:
                return settled(expectation)
            if self.response is None:
                return False  # the answer decides which list is judged (events may come before it)
            if alternative is not None and self.response.result == "success":
                return settled(alternative)
            return self.response.result != predicted or settled(expectation)

        def explain() -> str:
            wanted = (
                []
                if self.response is not None or request is None
                else [f"the response to {step.name} on {target}"]
            )
            if expectation is not None and (self.response is None or self.response.result == predicted):
                wanted += [slot.describe(expectation.env) for slot in expectation.pending()]
            return f"Still expected: {'; '.join(wanted) or 'nothing'}. {self._arrived()}"

        try:
            await self._pump(deadline, done, explain)
            if decided:
                self._ended_early(decided[0])  # and no settle window: nothing that comes can change the verdict
            if (
                not decided
                and expectation is not None
                and expectation.event_list.settle
                and self.settings.settle > 0
            ):
                await self._settle(expectation)
            elif not (self.fences and await self._fence()):
                # what already came after the step is judged with it (never waited for)
                for message in await self.connection.arrived(DRAINED):
                    self._dispatch(message)
        except StepTimeout as timeout_error:
            if self.response is None and request is not None:
                self._violate(Violation(Category.TIMEOUT, "no response", str(timeout_error), ref=ref))
        finally:
            self.current = None
            self.awaiting = None
            self.refused = None
            self.refused_target = ""
            self.refused_basis = None
        response = self.response
        result.response = response
        if response is not None and request is not None:
            if step.kind == "stimulus" and response.result != "success":
                raise Inconclusive(f"the adapter refused to produce the stimulus {step.name}: {response.raw}")
            outcome = decision.outcome
            extra = (outcome.result, outcome.response, outcome.ref) if outcome and outcome.response else None
            result.violations.extend(
                check_response(
                    self.catalogue,
                    request,
                    response,
                    expected,
                    ref,
                    extra,
                    decision.inferred or decision.guess,
                    decision.should,
                    self._shape_basis(request),
                )
            )
        if request is not None and response is not None and response.result == "success":
            self.touched[target] = None
            if len(self.touched) > OWN_REMEMBERED:
                del self.touched[next(iter(self.touched))]
        answered = request is None or (response is not None and response.result == predicted)
        if alternative is not None and response is not None and response.result == "success":
            expectation, answered = alternative, True  # the adapter carried it out: its list is judged
        elif alternative is not None and self.carried:
            self._violate(
                Violation(
                    Category.UNEXPECTED_EVENT,
                    "event after a refused request",
                    f"{step.name} on {target!r} was refused, yet {len(self.carried)} event(s) about its objects "
                    f"came with it: {'; '.join(self.carried[:3])}",
                    ref=self.catalogue.protocol.ref,
                    inferred=decision.inferred,
                    area="results",
                )
            )
        if expectation is not None and answered:
            early = bool(decided) and decided[0] is expectation
            if early and not self.fences:
                expectation.finish("", decided=True)
            elif not expectation.done:
                expectation.finish(
                    "had not arrived when the step's verdict was certain"
                    if early
                    else f"did not arrive within {timeout:g}s"
                )
            else:
                expectation.take_hidden()
            result.violations.extend(expectation.violations)
            if expectation.suppressed:
                self.listener(Note(f"{expectation.suppressed} further violations of this step not shown"))
            for variable, entry_name in step.bind.items():
                if entry_name in expectation.env:
                    self.variables[variable] = expectation.env[entry_name]
            result.bound = bound_names(expectation.env)
            self.lingering.append(expectation)
        result.violations.extend(self.violations)
        result.violations.extend(self._never_initialized(result.violations))
        result.violations = self._weighed(result.violations)
        result.verdict = max((v.verdict for v in result.violations), default=Verdict.PASS)
        self.listener(StepFinished(step, result.verdict, tuple(result.violations)))
        return result

    def _ended_early(self, expectation: EventExpectation) -> None:
        """Say in the report that the step ended once its verdict was certain, and what was not waited for."""
        late = {id(slot) for slot in expectation.late}
        unjudged = [slot.describe(expectation.env) for slot in expectation.pending() if id(slot) not in late]
        self.listener(
            Note(
                "the step's verdict was certain (an entry of a list that forbids reordering was overtaken): "
                "it ended without waiting" + (f"; not waited for: {'; '.join(unjudged)}" if unjudged else "")
            )
        )

    def _if_carried_out(
        self, step: Step, request: dict[str, Any] | None, decision: Decision, target: str
    ) -> EventExpectation | None:
        """For a request the catalogue refuses for a state only by its own reading (a convention), the list the
        command would bring were it legal: the adapter's events are judged by it if the adapter carries it out."""
        refusal = decision.refusal
        if request is None or refusal is None or refusal.reason != "invalid_state" or not decision.inferred:
            return None
        legal = self.oracle.decide(request, frozenset({"state"}))
        if legal.refusal is not None or legal.events is None or legal.result != "success":
            return None
        context = self.oracle.context(request.get("data"))
        expectation = EventExpectation.start(step.name, self.catalogue, legal.events, target, self.model, context)
        expectation.basis = decision.inferred
        return expectation

    async def _run_frame(self, step: Step) -> StepResult:
        """A frame sent as it is. A readable request (a JSON object with a string command and a string target,
        neither an event nor a response) is checked like a command: one response echoing it, with the result
        the catalogue decides (for anything it refuses: a failure that changes nothing and emits no event),
        and its events. Any other frame may get one failure response and nothing else. Either way the adapter
        must stay responsive: a valid request that the catalogue says succeeds follows, the probe."""
        data = step.data or {}
        frame: str | bytes = (
            bytes.fromhex(str(data["hex"]))
            if "hex" in data
            else self.fill(str(data.get("text", "")), strict=False)
        )
        message = classify(frame)
        title = step.title or f"send a frame ({step.name})"
        if isinstance(message, Request) and isinstance(message.raw.get("target"), str) and isinstance(frame, str):
            result = await self._run(replace(step, title=title), frame=frame, raw=message.raw)
            if result.response is not None and result.verdict < Verdict.FAIL:
                return result  # it answered: responsive
        else:
            result = await self._unreadable(replace(step, title=title), frame, message)
        probe = self._probe_step()
        if probe is None:
            self.listener(Note("no declared command succeeds now: the adapter's responsiveness is not probed"))
            return result
        after = await self._run(probe)
        self.unreadable = 0  # frames come in order: an answer to the bad frame came before the probe's
        for violation in after.violations:
            result.violations.append(replace(violation, message=f"after the frame: {violation.message}"))
        result.verdict = max((v.verdict for v in result.violations), default=Verdict.PASS)
        return result

    async def _unreadable(self, step: Step, frame: str | bytes, message: Message) -> StepResult:
        title = step.describe()
        self.listener(StepStarted(step, title))
        self.violations = []
        result = StepResult(step, "", title)
        reason = message.reason if isinstance(message, Malformed) else f"{type(message).__name__.lower()}"
        if isinstance(message, Request):
            reason = "a request whose target is not a string"
        if isinstance(frame, bytes):
            reason = "a binary frame"
        self.unreadable += 1
        self.refused = f"a frame that is no readable request ({reason})"
        binary = isinstance(frame, bytes)
        self.refused_basis = BINARY_FRAME if binary else None
        self.binary = binary
        before_fence = 0
        try:
            await self.connection.send_frame(frame, f"a frame that is no readable request: {preview(frame)[:80]}")
            for arrived in await self.connection.arrived(DRAINED):
                self._dispatch(arrived)
            before_fence = len(self.violations)
            if binary:  # whatever the adapter does with it has come before the fence's answer (in order)
                self.refused = None
                await self._fence()
        finally:
            self.refused, self.refused_basis, self.binary = None, None, False
        found = [*result.violations, *self.violations]
        if binary:  # its answer, and the events it brought (also those that came before the fence's answer)
            found = [
                _binary_effect(v) if index < before_fence or v.category is Category.UNEXPECTED_EVENT else v
                for index, v in enumerate(found)
            ]
        result.violations = self._weighed(found)
        result.verdict = max((v.verdict for v in result.violations), default=Verdict.PASS)
        self.listener(StepFinished(step, result.verdict, tuple(result.violations)))
        return result

    def _shape_basis(self, request: dict[str, Any]) -> str | None:
        spec = self.catalogue.commands.get(str(request.get("command")))
        return command_basis(spec) if spec is not None else None

    def _weighed(self, violations: list[Violation]) -> list[Violation]:
        """The violations as the profile weighs them: a convention of an area it adopts is a MUST
        (ERRATA "Provenance decides the verdict"); their texts bounded per step (``capped``)."""
        areas = self.settings.adopted
        return capped([adopted(violation, areas) for violation in violations] if areas else list(violations))

    def _answers_unreadable(self, response: Response) -> bool:
        """Frames are answered in order, so after a frame that was no readable request the next response is its
        answer, unless it answers an outstanding request: echoes its command and target and, for a failure,
        carries that request as ``original`` (an answer to a bad frame may echo what it could read of it)."""
        pending = self.correlator.peek(response)
        if pending is None:
            return True
        return response.result == "failure" and response.raw.get("original") != pending

    def _check_unreadable_answer(self, response: Response) -> None:
        """The answer to a frame that was no readable request: if there is one, a failure response."""
        rule = self.catalogue.protocol.responses.get("failure")
        errors = [] if rule is None else rule.schema.errors(response.raw)
        # "original": <Contains the original request JSON structure>: a frame that is no JSON object has
        # none, so what such an answer echoes there (the text, nothing, {}) is the adapter's convention
        echoed = [error for error in errors if error.startswith((ORIGINAL, f"'{ORIGINAL}' is a required"))]
        errors = [error for error in errors if error not in echoed]
        basis = BINARY_FRAME if self.binary else None  # any answer to a binary frame is the adapter's own
        original = basis or UNREADABLE_ORIGINAL
        for what, found, inferred in (("", errors, basis), (" (its original)", echoed, original)):
            if (response.result != "failure" and not what) or found:
                self._violate(
                    Violation(
                        Category.WRONG_RESULT if response.result != "failure" else Category.SHAPE_MISMATCH,
                        "bad answer to an unreadable frame" + what,
                        f"a frame that is no readable request may get a failure response and nothing else; got "
                        f"{response.result!r}" + (f": {'; '.join(found)}" if found else ""),
                        ref=rule.ref if rule is not None else self.catalogue.protocol.ref,
                        expected="failure",
                        actual=evidence(sent(response)),
                        inferred=inferred,
                        area=None if basis else "payloads",
                    )
                )

    def _probe_step(self) -> Step | None:
        """A valid request the catalogue says succeeds now, preferring one that brings the fewest events (the
        last one chosen, while it still succeeds)."""
        platform, facts = self.settings.platform, self.oracle.facts

        def request(command: str, target: str) -> dict[str, Any]:
            example = self.catalogue.commands[command].example_for(platform)
            return {"command": command, "target": target, "data": with_facts(dict(example), facts)}

        chosen = self.probe
        if chosen is None or self.oracle.decide(request(*chosen)).result != "success":
            best: tuple[int, str, str] | None = None
            for command in sorted(self.settings.commands):
                spec = self.catalogue.commands.get(command)
                if spec is None or platform not in spec.platforms:
                    continue
                for obj in list(self.model.of_level(spec.level)):
                    decision = self.oracle.decide(request(command, obj.address))
                    if decision.result != "success" or decision.refusal is not None:
                        continue
                    size = len(decision.events.entries) if decision.events is not None else 0
                    if best is None or size < best[0]:
                        best = (size, command, obj.address)
            if best is None:
                return None
            chosen = self.probe = (best[1], best[2])
        command, target = chosen
        return Step("command", command, target, title=f"probe: {command} on {target} still succeeds")

    async def _produce(self, step: Step, target: str, timeout: float) -> None:
        """Have the profile's driver produce an external stimulus; a driver that cannot makes the test
        inconclusive (the adapter was not brought where the test needs it), never failed."""
        driver = self.settings.stimulus
        try:
            done = await produce(driver, step.name, target, self.url, timeout, self._announce)
        except StimulusFailed as exc:
            raise Inconclusive(f"the {driver.kind} stimulus driver could not produce {step.name}: {exc}") from None
        self.listener(Note(f"stimulus {step.name}: {done}"))

    def _announce(self, text: str) -> None:
        """A prompt for a lab operator: on the real terminal (pytest captures the test's own output) and in
        the report; what it says of a secret (the adapter URL's credentials) is redacted on both."""
        text = self.connection.transcript.redactor.text(text)
        print(text, file=sys.__stderr__, flush=True)
        self.listener(Note(text))

    async def _settle(self, expectation: EventExpectation) -> None:
        """The list says "and nothing more happens": watch a quiet window; an in-scope event that arrives in it
        is judged by the list (unexpected, since every entry has arrived)."""
        expectation.settling = True
        window = Deadline(self.settings.settle, "settle window")
        with contextlib.suppress(StepTimeout):
            await self._pump(window, lambda: False, lambda: "")

    def _never_initialized(self, already: list[Violation]) -> list[Violation]:
        """The oracle: an object the adapter created during the step but never initialized (unless the step's
        list already reported its missing event)."""
        reported = " ".join(v.message for v in already if v.category is Category.MISSING_EVENT)
        return [
            Violation(
                Category.MISSING_EVENT,
                "never initialized",
                str(problem),
                ref=self.catalogue.startup.ref,
                inferred=problem.inferred,
                area=problem.area,
            )
            for problem in self.model.uninitialized()
            if problem.split(" ", 2)[1] not in reported
        ]


def _binary_effect(violation: Violation) -> Violation:
    """A violation about what a binary frame brought (its answer, the events of the request it held carried
    out) as a convention (``BINARY_FRAME``); a frame or an answer missing after it (a fence or the probe
    that went unanswered), a malformed frame or a lost connection stays what it is."""
    if violation.inferred or violation.category not in BINARY_EFFECTS:
        return violation
    return replace(violation, inferred=BINARY_FRAME, area=None)


BINARY_EFFECTS = frozenset({Category.WRONG_RESULT, Category.SHAPE_MISMATCH, Category.UNEXPECTED_EVENT})
