"""Expectations: is a response right for its request, and do the events that follow fit the spec's list?

Secondary events (ERRATA R2, R5, R6): collection starts when the request is sent, so events may arrive
before or after the response. A list is matched in order against the in-scope events that follow: events
about the request's target, its descendants and its ancestors. Entries may be optional or repeatable
("one or more"). Where the list forbids interleaving, an in-scope event that the list does not name is a
violation only when the list is complete (printed in full by the seeds); an elided list cannot judge it.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from ..jsonpaths import MISSING, find, with_value
from ..spec.catalogue import Catalogue, EventEntry, EventList, EventSpec, ResponseRule, Schema, SpecRef
from .conditions import Context
from .lists import base_env, bound_names, resolve
from .messages import Event, Response, quoted, sent_data
from .objects import SEPARATOR, ObjectModel, catalogue_spelling
from .violations import Category, Severity, Verdict, Violation, adopted, evidence

# ERRATA R35: "and nothing more happens" is the catalogue's reading of a request that changes nothing
SETTLE_INFERRED = "that nothing more happens is inferred (ERRATA R35)"
MAX_VIOLATIONS = 50  # per expectation; a flood of bad events must not grow memory
KEEP_EVENTS = 64  # recent events kept to explain a missing one
LATE_REASON = (
    "had not arrived when a later entry came, in a list that forbids reordering (it cannot come in order)"
)

# -- responses ------------------------------------------------------------------------------------


def check_response(
    catalogue: Catalogue,
    request: Mapping[str, Any],
    response: Response,
    expected: frozenset[str],
    command_ref: SpecRef | None,
    extra: tuple[str, Schema, SpecRef] | None = None,
    basis: str | None = None,
    should: bool = False,
    shape_basis: str | None = None,
) -> list[Violation]:
    """Check a response against the protocol's rule for its result and against the expected results;
    ``extra``: a result with a schema its response must also satisfy (an outcome's members); ``basis``: why
    the expected result (and the outcome's members) are the catalogue's reading, if they are; ``should``:
    the seeds word the expected result as a should; ``shape_basis``: why the response's shape is the
    catalogue's reading (a command whose sections the seeds do not print: getscripts' answer may carry its
    scripts). Elsewhere the protocol's rule is printed in the seeds."""
    violations: list[Violation] = []
    command = request.get("command")
    result = response.result
    rules = catalogue.protocol.responses
    if not isinstance(result, str) or result not in rules:
        return [
            Violation(
                Category.SHAPE_MISMATCH,
                "unknown result",
                f"{command}: result {result!r} is none of {sorted(rules)}",
                ref=catalogue.protocol.ref,
                expected=sorted(expected),
                actual=result,
            )
        ]
    if result not in expected:
        detail = ""
        failure = response.raw.get("failure")
        if result == "failure" and isinstance(failure, dict):
            detail = f" (code {failure.get('code')!r}: {failure.get('message')!r})"
        violations.append(
            Violation(
                Category.WRONG_RESULT,
                "wrong result",
                f"{command} on {request.get('target')!r}: expected {' or '.join(sorted(expected))}, "
                f"got {result}{detail}",
                severity=Severity.SHOULD if should else Severity.MUST,
                ref=command_ref,
                expected=sorted(expected),
                actual=result,
                inferred=basis,
                area="results",
            )
        )
    violations.extend(
        replace(violation, inferred=shape_basis, area="results") if shape_basis else violation
        for violation in _check_rule(rules[result], request, response)
    )
    if extra is not None and extra[0] == result:
        already = {violation.message for violation in violations}
        violations.extend(
            Violation(
                Category.SHAPE_MISMATCH,
                f"malformed {result} response",
                f"{command}: {message}",
                ref=extra[2],
                actual=evidence(quoted(response)),
                inferred=basis,
                area="results",
            )
            for message in extra[1].errors(response.raw)
            if f"{command}: {message}" not in already  # the protocol's rule said it already
        )
    return violations


def _check_rule(rule: ResponseRule, request: Mapping[str, Any], response: Response) -> list[Violation]:
    violations = [
        Violation(
            Category.SHAPE_MISMATCH,
            f"malformed {rule.result} response",
            f"{request.get('command')}: {message}",
            ref=rule.ref,
            actual=evidence(quoted(response)),
        )
        for message in rule.schema.errors(response.raw)
    ]
    for echo in rule.echo:
        want = find(request, echo.request_path)
        got = find(response.raw, echo.response_path)
        if got is MISSING and want is not MISSING:
            continue  # the schema check already names a missing member
        if got != want:
            violations.append(
                Violation(
                    Category.SHAPE_MISMATCH,
                    "wrong echo",
                    f"{request.get('command')}: the {rule.result} response's {echo.response_path} must equal "
                    f"the request's {echo.request_path}",
                    ref=rule.ref,
                    expected=want,
                    actual=None if got is MISSING else got,
                )
            )
    return violations


# -- secondary events ------------------------------------------------------------------------------


def contains(expected: Any, actual: Any) -> bool:
    """True if ``actual`` has everything ``expected`` has (mappings compared member by member). A name the
    catalogue writes ``CONNECTED`` matches ``connected`` or ``Connected``: how a state is spelled is the
    adapter's convention (the object model reports it once, ERRATA R9), not another state."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and contains(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, str) and isinstance(actual, str) and expected != actual:
        return expected == catalogue_spelling(actual)
    return bool(expected == actual)


@dataclass
class Slot:
    """One expected event: a list entry resolved to the object it is about (an address or a name)."""

    entry: EventEntry
    about: str
    index: int  # 1-based position in the spec's list
    data: Mapping[str, Any] = field(default_factory=dict)  # what the event's data must contain
    matched: int = 0

    @property
    def skippable(self) -> bool:
        """Nothing more is owed to this entry: it is optional or has arrived."""
        return self.entry.optional or self.matched > 0

    @property
    def open(self) -> bool:
        """It may still take an event: it has not arrived yet, or it repeats."""
        return self.matched == 0 or self.entry.repeat

    def describe(self, env: Mapping[str, str], data: Mapping[str, Any] | None = None) -> str:
        about = env.get(self.about, self.about if SEPARATOR in self.about or self.about in env else None)
        where = about if about is not None else f"the new {self.about}"
        text = f"{self.entry.event} about {where}"
        shown = self.data if data is None else data
        if shown:
            text += f" with {dict(shown)}"
        return text


@dataclass
class EventExpectation:
    """Matches the events that follow one request (or stimulus) against a spec's ordered list."""

    owner: str
    catalogue: Catalogue
    event_list: EventList
    scope: str
    env: dict[str, str]
    slots: list[Slot] = field(default_factory=list)
    pos: int = 0
    late: list[Slot] = field(default_factory=list)
    overtaken: dict[int, tuple[Slot, Event]] = field(default_factory=dict)  # late slot -> what came first
    violations: list[Violation] = field(default_factory=list)
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))  # in arrival order
    unlisted_total: int = 0
    suppressed: int = 0  # violations beyond MAX_VIOLATIONS, counted, not kept
    settling: bool = False  # every entry arrived and the list says nothing more happens (settle window)
    in_scope_total: int = 0  # events about the request's objects offered to the list
    model: ObjectModel | None = None  # the live model, to follow the adapter's own state names (learn)
    basis: str | None = None  # why the decision that chose this list is a convention, if it is

    @classmethod
    def start(
        cls,
        owner: str,
        catalogue: Catalogue,
        event_list: EventList,
        target: str,
        model: ObjectModel,
        context: Context,
    ) -> EventExpectation:
        """Resolve the list on the model as it is before the request (see :mod:`.lists`)."""
        expectation = cls(owner, catalogue, event_list, target, base_env(model, target), model=model)
        for index, item in enumerate(resolve(catalogue, event_list, target, model, context), start=1):
            expectation.slots.append(Slot(item.entry, item.about, index, item.data))
        return expectation

    def expected_data(self, slot: Slot) -> Mapping[str, Any]:
        """The slot's data, with the ids its entry refers to (objects bound so far)."""
        if not slot.entry.refer:
            return slot.data
        data: Any = dict(slot.data)
        for path, name in slot.entry.refer.items():
            if name in self.env:
                data = with_value(data, path, self.env[name].rsplit(SEPARATOR, 1)[-1])
        return cast(Mapping[str, Any], data)

    # -- state --------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """All required entries have arrived (optional and satisfied repeatable ones may still come; an entry the
        adapter's state name cannot show is owed no event, :meth:`_hidden`)."""
        return not self.late and all(
            slot.skippable or self._hidden(slot) is not None for slot in self.slots[self.pos :]
        )

    def address_of(self, about: str) -> str | None:
        if about in self.env:
            return self.env[about]
        return about if SEPARATOR in about or about == self.env.get("session") else None

    def in_scope(self, event: Event) -> bool:
        target, scope = event.target, self.scope
        if target == scope or target.startswith(scope + SEPARATOR) or scope.startswith(target + SEPARATOR):
            return True
        return any(target == address for address in self.env.values())

    def pending(self) -> list[Slot]:
        return [slot for slot in [*self.late, *self.slots[self.pos :]] if not slot.skippable]

    # -- matching -----------------------------------------------------------------------------

    def _fits(self, slot: Slot, event: Event, strict: bool = False) -> bool:
        """The event is this entry's (its name and object); ``strict``: its data fits the entry too."""
        if slot.entry.event != event.name:
            return False
        address = self.address_of(slot.about)
        if address != event.target and not (slot.entry.binds and self._about_new_object(event, address)):
            return False
        if not strict:
            return True
        expected = self.expected_data(slot)
        return not expected or contains(expected, self._catalogue_data(event))

    def _state_of(self, event: Event) -> tuple[str, str, frozenset[str]] | None:
        """(the path, the state name, its object level's states) of an event that sets a state."""
        spec = self.catalogue.events.get(event.name)
        path = spec.sets_state_path if spec is not None else None
        obj = self.model.get(event.target) if self.model is not None else None
        level = self.catalogue.levels.get(obj.level) if obj is not None else None
        if path is None or obj is None or level is None or not isinstance(event.data, dict):
            return None
        value = find(event.data, path)
        return (path, value, level.states) if isinstance(value, str) else None

    def _catalogue_data(self, event: Event) -> Any:
        """The event's data with a state name of the adapter's own that the model learned, as the catalogue's."""
        found = self._state_of(event)
        if found is None or self.model is None:
            return event.data
        path, value, _ = found
        obj = self.model.get(event.target)
        learned = self.model.learned.get(obj.level, {}) if obj is not None else {}
        return with_value(event.data, path, learned[value]) if value in learned else event.data

    def _about_new_object(self, event: Event, address: str | None) -> bool:
        """A creation event about the object it creates rather than the one it is created in (a convention the
        object model reports and follows)."""
        spec = self.catalogue.events.get(event.name)
        if address is None or spec is None or not spec.creates_id_path or not isinstance(event.data, dict):
            return False
        new_id = find(event.data, spec.creates_id_path)
        return isinstance(new_id, str) and event.target == address + SEPARATOR + new_id

    def _group_end(self, index: int) -> int:
        group = self.slots[index].entry.group
        end = index
        while end < len(self.slots) and group and self.slots[end].entry.group == group:
            end += 1
        return max(end, index + 1)

    def _reachable(self) -> list[int]:
        """Indexes of the entries the next event may be: the next ones, past optional or satisfied ones; all
        the open members of an unordered group at once."""
        reachable = []
        index = self.pos
        while index < len(self.slots):
            end = self._group_end(index)
            members = range(index, end)
            reachable += [i for i in members if self.slots[i].open]
            if not all(self.slots[i].skippable for i in members):
                break
            index = end
        return reachable

    def _advance(self, index: int) -> None:
        """After entry ``index`` took an event: the list goes on from it (a repeat, or a group still open)
        or from the next entry."""
        slot = self.slots[index]
        if slot.entry.group:
            start = index
            while start > 0 and self.slots[start - 1].entry.group == slot.entry.group:
                start -= 1
            self.pos = start
        else:
            self.pos = index if slot.entry.repeat else index + 1

    def wants(self, event: Event) -> bool:
        """The event is one this list expects next (or one it is still waiting for, late)."""
        return any(self._fits(self.slots[i], event) for i in self._reachable()) or any(
            self._fits(slot, event) for slot in self.late
        )

    def absorb(self, event: Event) -> bool:
        """After this expectation is done: take an event only if it fits a remaining optional entry."""
        for index in self._reachable():
            slot = self.slots[index]
            if self._fits(slot, event, strict=True):
                self._advance(index)
                self._consume(slot, event)
                return True
        return False

    def offer(self, event: Event) -> bool:
        """Offer an in-scope event; returns False (and ignores it) when it is out of scope."""
        if not self.in_scope(event):
            return False
        self.in_scope_total += 1
        # In order: the next entries, skipping only optional or already satisfied repeatable ones. An entry
        # whose data fits is preferred; else, in a complete list, the first with the event's name and object
        # (wrong data). An incomplete list may have more events than it prints, so there an event whose data
        # does not fit is one of those, and the entry waits for its own (missing if it never comes).
        # An entry the seeds print (``printed``) is that event wherever the list is cut: its data is only the
        # catalogue's reading, so other data is a convention, not another event.
        reachable = self._reachable()
        # In a cut list an event may be one the list does not print, so only an event whose data fits takes an
        # entry; but a state name the catalogue does not know can only be the adapter's name for some state,
        # and the entry waiting for a state about that object is the best reading of it (learned, see _learn).
        only_fitting = not self.event_list.complete and not self._own_state_name(event)
        for strict in (True, False):
            for index in reachable:
                slot = self.slots[index]
                if self._fits(slot, event, strict or (only_fitting and not slot.entry.printed)):
                    self._advance(index)
                    self._consume(slot, event)
                    return True
        # Out of order: an entry further down the list arrived before a required one. The skipped entries
        # wait in ``late``: if they come later it is a wrong order, if they never come they are missing.
        for index in range(self.pos, len(self.slots)):
            slot = self.slots[index]
            if slot.matched == 0 and self._fits(slot, event, only_fitting and not slot.entry.printed):
                start = index
                while (
                    start > self.pos and slot.entry.group and self.slots[start - 1].entry.group == slot.entry.group
                ):
                    start -= 1  # the members of its own group are not overtaken
                for skipped in self.slots[self.pos : start]:
                    if not skipped.skippable:
                        self.late.append(skipped)
                        self.overtaken[id(skipped)] = (slot, event)
                self._advance(index)
                self._consume(slot, event)
                return True
        for slot in self.late:
            if self._fits(slot, event, only_fitting and not slot.entry.printed):
                self.late.remove(slot)
                self._consume(slot, event)
                self._wrong_order(slot, event)
                return True
        self._unlisted(event)
        return True

    def _wrong_order(self, slot: Slot, event: Event) -> None:
        overtaking, overtaking_event = self.overtaken.pop(id(slot))
        if self.event_list.interleave_allowed:
            return
        self._violate(self._order_violation(slot, (overtaking, overtaking_event), event))

    def _order_violation(self, slot: Slot, passed: tuple[Slot, Event], event: Event | None) -> Violation:
        """Entry ``slot`` came (``event``; None: were it to come) after ``passed`` (the entry that overtook
        it, and its event)."""
        overtaking, overtaking_event = passed
        came = f"{event.name} about {event.target}" if event is not None else slot.describe(self.env)
        after = f"{overtaking_event.name} about {overtaking_event.target}"
        return Violation(
            Category.WRONG_ORDER,
            "wrong order",
            f"{self.owner}: {came} (entry {slot.index}) arrived after {after} (entry {overtaking.index})",
            ref=slot.entry.ref,
            expected=f"entry {slot.index} before entry {overtaking.index}",
            actual=_event_summary(event) if event is not None else None,
            inferred=self.event_list.basis(slot.entry) or self.event_list.basis(overtaking.entry),
            area="events",
        )

    def _missing_violation(self, slot: Slot, reason: str, passed: tuple[Slot, Event] | None) -> Violation:
        after = f"; {passed[1].name} (entry {passed[0].index}) came without it" if passed else ""
        return Violation(
            Category.MISSING_EVENT,
            "missing event",
            f"{self.owner}: {slot.describe(self.env, self.expected_data(slot))} (entry {slot.index} of "
            f"{len(self.slots)}) {reason}{after}",
            ref=slot.entry.ref,
            expected=slot.describe(self.env, self.expected_data(slot)),
            actual=list(self.seen)[-20:],
            inferred=self.event_list.basis(slot.entry),
            area="events",
        )

    def foregone(self) -> list[tuple[Violation, Violation]]:
        """What the entries overtaken in a list that forbids reordering bring whatever arrives from now on: each
        comes after the entry that overtook it (wrong order) or never (missing), one violation or the other.
        A pair per such entry; the step's verdict is certain once the profile weighs both of a pair as failures
        (the session decides, see ``MediaBarSession``). Empty where the list lets events interleave (a late
        entry is then no violation), and where this list keeps no more violations (they would only be counted)."""
        if self.event_list.interleave_allowed or len(self.violations) + len(self.late) > MAX_VIOLATIONS:
            return []
        return [
            (
                self._order_violation(slot, self.overtaken[id(slot)], None),
                self._missing_violation(slot, LATE_REASON, self.overtaken[id(slot)]),
            )
            for slot in self.late
            if id(slot) in self.overtaken and not slot.skippable and self._hidden(slot) is None
        ]

    def _violate(self, violation: Violation) -> None:
        if len(self.violations) < MAX_VIOLATIONS:
            self.violations.append(violation)
        else:
            self.suppressed += 1

    def _unlisted(self, event: Event) -> None:
        self.seen.append(_event_summary(event) + " (not in the list)")
        self.unlisted_total += 1
        if self.settling:
            self._violate(
                Violation(
                    Category.UNEXPECTED_EVENT,
                    "event after the list settled",
                    f"{self.owner}: {event.name} about {event.target} arrived after every entry of the list; "
                    f"the spec says nothing more happens",
                    ref=self.event_list.ref,
                    actual=_event_summary(event),
                    inferred=self.event_list.inferred or SETTLE_INFERRED,
                    area="events",
                )
            )
            return
        if self.event_list.interleave_allowed or not self.event_list.complete:
            return  # an elided list cannot judge extra events; the object model still does
        duplicate = any(self._fits(slot, event) for slot in self.slots[: self.pos])
        what = "a second" if duplicate else "an event"
        self._violate(
            Violation(
                Category.UNEXPECTED_EVENT,
                "unexpected event",
                f"{self.owner}: {what} {event.name} about {event.target}, which the spec's complete list "
                f"does not allow here",
                ref=self.event_list.ref,
                actual=_event_summary(event),
                inferred=self.event_list.inferred,
                area="events",
            )
        )

    def _consume(self, slot: Slot, event: Event) -> None:
        slot.matched += 1
        self.seen.append(_event_summary(event))
        entry = slot.entry
        spec = self.catalogue.events.get(entry.event)
        data = event.data if isinstance(event.data, dict) else {}
        expected = self.expected_data(slot)
        if expected and not contains(expected, self._catalogue_data(event)):
            self._learn(slot, event, spec, expected)
            self._violate(
                Violation(
                    Category.SHAPE_MISMATCH,
                    "wrong event data",
                    f"{self.owner}: {event.name} about {event.target} must carry {dict(expected)}",
                    ref=entry.ref,
                    expected=dict(expected),
                    actual=evidence(quoted(event, data=True)),
                    inferred=self.event_list.basis(entry, data=True),
                    area="payloads",
                )
            )
        if spec is not None:
            for message in spec.data.errors(event.data):
                self._violate(
                    Violation(
                        Category.SHAPE_MISMATCH,
                        "malformed event data",
                        f"{event.name} about {event.target}: {message}",
                        ref=spec.ref,
                        actual=evidence(quoted(event, data=True)),
                        inferred=spec.inferred,
                        area="payloads",
                    )
                )
            if entry.binds and spec.creates_id_path:
                new_id = find(data, spec.creates_id_path)
                if isinstance(new_id, str) and new_id:
                    about_new = self.address_of(slot.about) != event.target  # matched as about the new object
                    self.env[entry.binds] = event.target if about_new else event.target + SEPARATOR + new_id

    def _own_state_name(self, event: Event) -> bool:
        """The event sets a state by a name that is no state of its object's level, in any spelling, and that
        the model has not learned yet."""
        found = self._state_of(event)
        if found is None or self.model is None:
            return False
        _, value, states = found
        obj = self.model.get(event.target)
        learned = self.model.learned.get(obj.level, {}) if obj is not None else {}
        return value not in states and catalogue_spelling(value) not in states and value not in learned

    def _learn(self, slot: Slot, event: Event, spec: EventSpec | None, expected: Mapping[str, Any]) -> None:
        """Where the entry expects a state and the adapter sent a state name of its own, the model takes that
        name for the expected state from now on (followed: a warning of the states area)."""
        path = spec.sets_state_path if spec is not None else None
        if self.model is None or path is None or not isinstance(event.data, dict):
            return
        want, got = find(expected, path), find(event.data, path)
        if isinstance(want, str) and isinstance(got, str):
            problem = self.model.learn(event.target, got, want)
            if problem is not None:
                self._violate(
                    Violation(
                        Category.UNEXPECTED_EVENT,
                        "state name of the adapter's own",
                        f"{self.owner}: {problem} (entry {slot.index} of the list expects {want})",
                        ref=slot.entry.ref,
                        inferred=problem.inferred,
                        area=problem.area,
                    )
                )

    def finish(self, reason: str, decided: bool = False) -> list[Violation]:
        """Close the expectation: every required entry not seen becomes a missing-event violation; and where
        the seeds say the request generates secondary events (``nonempty``), at least one must have come,
        whatever the catalogue infers them to be. ``decided``: the step ended once its verdict was certain
        (:meth:`foregone`): only the overtaken entries are missing, the others were not waited for."""
        for slot in self.late if decided else self.pending():
            if self._unshown(slot):
                continue
            self._doubt(slot)
            passed = self.overtaken.pop(id(slot), None)
            self._violate(self._missing_violation(slot, LATE_REASON if decided else reason, passed))
        if self.event_list.nonempty and self.in_scope_total == 0:
            self._violate(
                Violation(
                    Category.MISSING_EVENT,
                    "no secondary event",
                    f"{self.owner}: no event about {self.scope} {reason}; the seeds say it generates secondary "
                    "events (the list they print is cut, so which ones is the catalogue's reading)",
                    ref=self.event_list.ref,
                    expected="at least one secondary event",
                    actual=list(self.seen)[-20:],
                    inferred=self.basis,  # the list applies only as far as the decision that chose it does
                    area="results",
                )
            )
        self.late.clear()
        self.pos = len(self.slots)
        return self.violations

    def expected_states(self, address: str) -> list[str]:
        """The states the entries still open expect the object at ``address`` to change to, in list order."""
        found = []
        for slot in [*self.late, *self.slots[self.pos :]]:
            spec = self.catalogue.events.get(slot.entry.event)
            path = spec.sets_state_path if spec is not None else None
            if slot.matched or path is None or self.address_of(slot.about) != address:
                continue
            state = find(self.expected_data(slot), path)
            if isinstance(state, str):
                found.append(state)
        return found

    def _hidden(self, slot: Slot) -> str | None:
        """The state an inferred entry expects, where the adapter cannot show the change: its name for the
        object's state stands for that state too (``conventions.states``, a list), so no event is owed."""
        spec = self.catalogue.events.get(slot.entry.event)
        path = spec.sets_state_path if spec is not None else None
        address = self.address_of(slot.about)
        model = self.model
        obj = model.get(address) if model is not None and address is not None else None
        if model is None or obj is None or obj.named is None or path is None:
            return None
        want = find(self.expected_data(slot), path)
        shared = model.shared_states.get(obj.level, {}).get(obj.named, ())
        if self.event_list.basis(slot.entry) is None or not isinstance(want, str) or want not in shared:
            return None
        return want

    def take_hidden(self) -> None:
        """A list that is done may still hold entries the adapter's state names cannot show (:meth:`_hidden`):
        their objects are in the states those entries expect from now on."""
        for slot in self.pending():
            self._unshown(slot)

    def _unshown(self, slot: Slot) -> bool:
        """The entry is one the adapter cannot show (:meth:`_hidden`): the object is in its state from now on."""
        want = self._hidden(slot)
        address = self.address_of(slot.about)
        obj = self.model.get(address) if want is not None and self.model is not None and address else None
        if obj is None or want is None:
            return False
        obj.state = want
        return True

    def _doubt(self, slot: Slot) -> None:
        """An inferred entry about a known object never came: whether that object changed is unknown, so
        what the catalogue predicts from it is a convention from now on (see ``ObjectModel.doubt``)."""
        address = self.env.get(slot.about, slot.about if SEPARATOR in slot.about else None)
        if self.model is None or address is None or self.event_list.basis(slot.entry) is None:
            return
        why = f"the adapter did not send {slot.entry.event} about {address} after {self.owner}"
        self.model.doubt(address, why)

    def bindings(self) -> dict[str, str]:
        return bound_names(self.env)


def certain(expectation: EventExpectation, areas: frozenset[str]) -> bool:
    """What arrived already fails the step whatever comes next: an entry of a list that forbids reordering was
    overtaken, and a profile that adopts ``areas`` weighs both what can still happen to it (it comes in the
    wrong order, or never) as a failure, not as a convention it only warns of."""
    return any(
        all(adopted(violation, areas).verdict >= Verdict.FAIL for violation in pair)
        for pair in expectation.foregone()
    )


SUMMARY_DATA_CHARS = 100


def _event_summary(event: Event) -> str:
    """The event as the adapter sent it (its data before the profile's conventions translated it)."""
    text = f"{event.name} about {event.target}"
    sent = sent_data(event)
    if sent:
        data = json.dumps(sent, separators=(",", ":"), default=str)
        text += " " + (data if len(data) <= SUMMARY_DATA_CHARS else data[:SUMMARY_DATA_CHARS] + "…")
    return text
