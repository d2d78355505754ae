"""Deliberate faults for the reference adapter, so the harness can prove which bugs it catches.

A fault is data: which commands or stimuli it changes (``owners``), when (the target's state before the
request, from the how-manieth successful request of its owners on), and what it does there (an action of
:mod:`.actions`, applied by the hooks of :mod:`.misbehave`). The actions only transform what the
catalogue-driven simulation answers and emits: they drop, swap, repeat, re-address or alter events, mangle a
response, refuse or ignore a request, or keep the platform from applying a change it announced. None knows an
event list or a state transition. A *multi-step* fault answers correctly the first time or in the first
situation: only a later step of a call flow shows it (a second hold, the next call, a retrieve after a hold
the platform did not keep).

Besides the named faults, five families work for any command of the catalogue:
``drop-event:<command>:<event>``, ``any-state:<command>``, ``any-count:<command>``,
``no-data-check:<command>`` and ``strip-response:<command>:<member>``. The transport faults of
:mod:`.transport` (a connection refused or dropped, frames that are no JSON, a flood) are selected the same
way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.simulate import COUNT_AS
from ..spec.catalogue import Catalogue
from .actions import (
    Action,
    Deaf,
    Duplicate,
    Extra,
    Forget,
    Ghost,
    Ignore,
    Refuse,
    RepeatNeedinfo,
    Replay,
    Reset,
    Retarget,
    ReuseId,
    ShortEcho,
    Silent,
    Stale,
    Strip,
    Swap,
    Unreported,
)
from .transport import TRANSPORT, TransportFault


@dataclass(frozen=True)
class Fault:
    name: str
    description: str  # what a real adapter with this bug does wrong
    drop: tuple[str, str] | None = None  # (command or stimulus, event): this event is never sent
    lenient: tuple[str, frozenset[str]] | None = None  # (command, checks it skips: "state", "count", "data")
    action: Action | None = None
    owners: frozenset[str] = frozenset()  # commands or stimuli the action changes; empty: every command
    states: frozenset[str] = frozenset()  # only when the target is in one of these states; empty: any
    from_nth: int = 1  # only from the nth request of one of the owners that succeeds in the session on
    platforms: frozenset[str] = frozenset()  # the platforms it exists on; empty: every one
    kind: str = ""  # the class of bug, for the listing and the detection matrix
    multistep: bool = False  # invisible in the step that commits it; a later step of the flow shows it
    transport: TransportFault | None = None  # how answers reach the media bar (not what they say)
    frames: frozenset[str] = frozenset()  # the frames the action acts on instead of requests (FRAMES)

    def drops(self, owner: str, event: str) -> bool:
        return self.drop is not None and self.drop == (owner, event)

    def skips(self, command: str, state: str | None = None) -> frozenset[str]:
        """The checks the adapter skips for ``command`` on a target in ``state`` (``states``: only there)."""
        if self.lenient is None or self.lenient[0] != command or (self.states and state not in self.states):
            return frozenset()
        return self.lenient[1]

    def acts_on(self, owner: str, stimulus: bool, platform: str) -> bool:
        """The action applies to a request of ``owner`` (a stimulus if ``stimulus``) on ``platform``."""
        if self.action is None or self.frames or (self.platforms and platform not in self.platforms):
            return False
        return owner in self.owners if self.owners or stimulus else True

    @property
    def touches(self) -> frozenset[str] | None:
        """The commands and stimuli whose answers this fault changes; None: every command."""
        named = {pair[0] for pair in (self.drop, self.lenient) if pair is not None}
        if self.frames:
            return frozenset({FRAME_STEP})
        if self.action is not None and not self.owners:
            return None
        return frozenset(named | self.owners)

    def applies_on(self, platform: str) -> bool:
        return not self.platforms or platform in self.platforms

    def listing(self) -> str:
        """One line for ``mbconform serve --list-faults``."""
        tags = [self.kind or "family", "multi-step" if self.multistep else "single-step"]
        if self.platforms:
            tags.append(f"{'/'.join(sorted(self.platforms))} only")
        return f"{self.name:34} [{', '.join(tags)}] {self.description}"


def _fault(
    name: str,
    kind: str,
    owners: str | tuple[str, ...],
    action: Action,
    description: str,
    *,
    states: tuple[str, ...] = (),
    from_nth: int = 1,
    platforms: tuple[str, ...] = (),
    multistep: bool = False,
) -> Fault:
    return Fault(
        name,
        description,
        action=action,
        owners=frozenset((owners,) if isinstance(owners, str) else owners),
        states=frozenset(states),
        from_nth=from_nth,
        platforms=frozenset(platforms),
        kind=kind,
        multistep=multistep,
    )


NEW_CALL = ("channel.dial", "interaction.accept", "conversation.answer")
# The frames that are no request the catalogue can carry out, which a fault may answer wrongly (``frames``)
FRAMES = {
    "unknown-command": "a request whose command the catalogue does not have",
    "not-json": "a text frame that is not JSON",
    "not-object": "JSON that is not an object",
}
FRAME_STEP = "frame"  # the name of a scenario's frame steps (harness/suite.py): what a frame fault changes


def _frame_fault(name: str, kind: str, frames: str, action: Action, description: str) -> Fault:
    return Fault(name, description, action=action, frames=frozenset({frames}), kind=kind, multistep=False)


NAMED: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        # -- visible in the step that commits it ------------------------------------------------------
        Fault(
            "dial-without-preview",
            "channel.dial never sends interaction.preview (a platform that skips the preview on outbound calls)",
            drop=("channel.dial", "interaction.preview"),
            kind="missing event",
        ),
        Fault(
            "hold-without-state",
            "conversation.hold answers success but never sends the conversation's state.updated",
            drop=("conversation.hold", "state.updated"),
            kind="missing event",
        ),
        _fault(
            "dial-preview-after-initialized",
            "swapped events",
            "channel.dial",
            Swap("interaction.preview", "interaction.initialized"),
            "channel.dial announces interaction.initialized before interaction.preview",
        ),
        _fault(
            "alternate-consult-first",
            "swapped events",
            "interaction.alternate",
            Swap("state.updated", "state.updated"),
            "interaction.alternate reports the consult call's state change before the original call's",
        ),
        _fault(
            "group-initialized-before-channel",
            "swapped events",
            "session.addchannelgroup",
            Swap("channel.initialized", "channelgroup.initialized"),
            "a channel group is announced initialized before its channel (at start-up with channel groups, "
            "and after session.addchannelgroup)",
        ),
        _fault(
            "dial-repeats-infochanged",
            "duplicated event",
            "channel.dial",
            Duplicate("channel.infochanged"),
            "channel.dial sends channel.infochanged twice (one per platform notification it relays)",
        ),
        _fault(
            "activate-extra-infochanged",
            "extra event",
            "channel.activate",
            Extra("channel.infochanged"),
            "channel.activate sends a channel.infochanged before the channel's state (legal where the profile "
            "does not adopt the catalogue's events: seed 000 says that event reflects the channel's state)",
        ),
        _fault(
            "setdata-pops-screen",
            "extra event",
            "interaction.setinteractiondata",
            Extra("interaction.screenpop"),
            "interaction.setinteractiondata pops the screen again (interaction.screenpop) before datachanged",
        ),
        _fault(
            "hold-state-on-interaction",
            "wrong target",
            "conversation.hold",
            Retarget("state.updated"),
            "conversation.hold addresses its state.updated (HELD) to the interaction, not the conversation",
        ),
        _fault(
            "screenpop-on-channel",
            "wrong target",
            "interaction.accept",
            Retarget("interaction.screenpop"),
            "interaction.accept addresses interaction.screenpop to the channel instead of the interaction",
        ),
        _fault(
            "retrieve-reports-held",
            "wrong data",
            "conversation.retrieve",
            Stale("state.updated", "state"),
            "conversation.retrieve sends state.updated with the state the call had before (HELD)",
        ),
        _fault(
            "alternate-keeps-focus",
            "focus not switched",
            "interaction.alternate",
            Stale("interaction.focuschanged", "focus"),
            "interaction.alternate's interaction.focuschanged names the call that had the focus before",
        ),
        _fault(
            "dial-echoes-channel-id",
            "wrong echo",
            "channel.dial",
            ShortEcho("target"),
            "channel.dial's responses echo the bare channel id as target, not the full address",
        ),
        _fault(
            "mute-echoes-verb",
            "wrong echo",
            "conversation.request.mute",
            ShortEcho("command"),
            "conversation.request.mute's responses echo the command as 'mute' instead of its full name",
        ),
        _fault(
            "failure-without-original",
            "failure without original",
            (),
            Strip("original", "failure"),
            "every failure response lacks 'original' (the request it answers)",
        ),
        Fault(
            "retrieve-when-connected",
            "conversation.retrieve answers success on a call that is not on hold",
            lenient=("conversation.retrieve", frozenset({"state"})),
            kind="success where forbidden",
        ),
        Fault(
            "dial-inactive",
            "channel.dial places a call from a channel that is not active (the agent is not ready)",
            lenient=("channel.dial", frozenset({"state"})),
            states=frozenset({"INACTIVE"}),
            kind="success where forbidden",
        ),
        Fault(
            "accept-when-active",
            "interaction.accept accepts an interaction that is not alerting (again, or after it ended)",
            lenient=("interaction.accept", frozenset({"state"})),
            kind="success where forbidden",
        ),
        Fault(
            "alternate-unconnected",
            "interaction.alternate succeeds while the consult call is still dialing (it counts a dialing call "
            "as a connected one: a held call and another call are all it checks)",
            lenient=("interaction.alternate", frozenset({COUNT_AS + "DIALING=CONNECTED"})),
            kind="success where forbidden",
        ),
        _fault(
            "dtmf-refused",
            "failure where legal",
            "conversation.request.dtmf",
            Refuse("unsupported"),
            "conversation.request.dtmf answers failure (unsupported) on a connected call",
        ),
        _fault(
            "disposition-refused-after-end",
            "failure where legal",
            "interaction.setdisposition",
            Refuse("invalid_state"),
            "interaction.setdisposition fails once the call has ended (it works only during the call)",
            states=("ENDED",),
        ),
        _fault(
            "complete-event-after-dispose",
            "event after dispose",
            "interaction.complete",
            Ghost(later=False),
            "interaction.complete repeats the interaction's state.updated after interaction.disposed",
        ),
        _fault(
            "consulttransfer-does-nothing",
            "transfer leaves agent connected",
            "interaction.consulttransfer",
            Ignore(),
            "interaction.consulttransfer answers success but the agent stays connected to both calls",
        ),
        _fault(
            "consult-reuses-conversation-id",
            "reused id",
            "interaction.consult",
            ReuseId("conversation"),
            "interaction.consult gives the consult call the id of the interaction's original call",
        ),
        _fault(
            "needinfo-without-uiextension",
            "needinfo without uiExtension",
            (),
            Strip("uiExtension", "needinfo"),
            "needinfo responses (outbound skill, disposition, agent state) lack uiExtension",
            platforms=("incontact",),
        ),
        # -- robustness: frames that are no request of the catalogue ------------------------------------
        _frame_fault(
            "unknown-command-unanswered",
            "no answer",
            "unknown-command",
            Silent(),
            "a request with a command the adapter does not know gets no answer at all",
        ),
        _frame_fault(
            "unknown-command-succeeds",
            "success where forbidden",
            "unknown-command",
            Ignore(),
            "a request with a command the adapter does not know is answered success (and nothing happens)",
        ),
        _frame_fault(
            "deaf-after-bad-json",
            "unusable after a bad frame",
            "not-json",
            Deaf(),
            "after a frame that is not JSON the adapter answers it, then nothing more (its reader is stuck)",
        ),
        _frame_fault(
            "deaf-after-non-object",
            "unusable after a bad frame",
            "not-object",
            Deaf(),
            "after JSON that is not an object (an array) the adapter answers it, then nothing more",
        ),
        # -- visible only in a later step of a call flow ----------------------------------------------
        _fault(
            "hold-keeps-connected",
            "state not changed",
            "conversation.hold",
            Forget("target", "state"),
            "conversation.hold announces HELD but the platform keeps the call connected (retrieve then fails)",
            multistep=True,
        ),
        _fault(
            "mute-not-applied",
            "state not changed",
            "conversation.request.mute",
            Forget("target", "muted"),
            "conversation.request.mute announces muted but the platform never mutes (unmute then does nothing)",
            multistep=True,
        ),
        _fault(
            "recording-not-started",
            "state not changed",
            "interaction.request.recording.start",
            Forget("target", "recording"),
            "recording.start announces RECORDING but nothing records (pause and stop then misbehave)",
            multistep=True,
        ),
        _fault(
            "activate-stays-inactive",
            "state not changed",
            "channel.activate",
            Forget("target", "state"),
            "channel.activate announces ACTIVE but the agent stays not ready (a dial is then refused)",
            multistep=True,
        ),
        _fault(
            "channel-stays-busy",
            "state not changed",
            "interaction.complete",
            Forget("parent", "state"),
            "interaction.complete announces the channel ACTIVE but it stays busy (the next call is refused)",
            multistep=True,
        ),
        _fault(
            "blindtransfer-keeps-call",
            "transfer leaves agent connected",
            "conversation.blindtransfer",
            Forget(key=None),
            "conversation.blindtransfer announces the call ended but the agent stays on it (complete then fails)",
            multistep=True,
        ),
        _fault(
            "second-hold-refused",
            "failure where legal",
            "conversation.hold",
            Refuse("failed"),
            "conversation.hold works once; a second hold after a retrieve fails",
            from_nth=2,
            multistep=True,
        ),
        _fault(
            "second-call-refused",
            "failure where legal",
            NEW_CALL,
            Refuse("invalid_state"),
            "the second call of a session (dial, accept or answer) is refused",
            from_nth=2,
            multistep=True,
        ),
        _fault(
            "stale-event-next-request",
            "event after dispose",
            ("interaction.complete", "agent.ready"),
            Ghost(later=True),
            "after completing a call, the next answer brings the disposed interaction's last event again",
            multistep=True,
        ),
        _fault(
            "second-chat-reuses-id",
            "reused id",
            "chat.inbound",
            ReuseId("interaction"),
            "a second chat offered while the first is open gets the first chat's interaction id",
            from_nth=2,
            multistep=True,
        ),
        _fault(
            "held-hangup-unreported",
            "missing event",
            "remote.hangup",
            Unreported(),
            "the remote party hanging up while the call is HELD is never reported",
            states=("HELD",),
            multistep=True,
        ),
        _fault(
            "mute-lost-on-retrieve",
            "state not changed",
            "conversation.retrieve",
            Reset("muted"),
            "conversation.retrieve silently unmutes a muted call (an unmute then does nothing)",
            multistep=True,
        ),
        _fault(
            "alternate-only-once",
            "focus not switched",
            "interaction.alternate",
            Ignore(),
            "interaction.alternate works once; the second answers success but switches nothing",
            from_nth=2,
            multistep=True,
        ),
        _fault(
            "needinfo-repeats",
            "needinfo loop",
            ("channel.dial", "interaction.complete"),
            RepeatNeedinfo(),
            "after a needinfo the retry with the chosen skill or disposition gets the same needinfo again",
            platforms=("incontact",),
            multistep=True,
        ),
        _fault(
            "activate-state-replayed",
            "duplicated event",
            "channel.activate",
            Replay(),
            "channel.activate's state.updated is relayed again, late: at the start of the next answer",
            multistep=True,
        ),
    )
}


LENIENT = {
    "any-state": ("state", "succeeds in every state, also where its precondition forbids it"),
    "no-data-check": ("data", "accepts request data its schema rejects"),
    "any-count": (
        "count",
        "succeeds where the target's state allows it, whatever children the precondition counts",
    ),
}
FAMILIES = {
    "drop-event:<command>:<event>": "the command never sends that secondary event",
    "any-state:<command>": LENIENT["any-state"][1],
    "no-data-check:<command>": LENIENT["no-data-check"][1],
    "any-count:<command>": LENIENT["any-count"][1],
    "strip-response:<command>:<member>": "the command's responses lack that member (original, uiExtension.skills)",
}


def fault_listing() -> list[str]:
    """The lines of ``mbconform serve --list-faults``: the named faults, the families, then the transport
    faults (with the amount their family member changes)."""
    lines = [fault.listing() for fault in NAMED.values()]
    lines += [f"{family:34} [family] {description}" for family, description in FAMILIES.items()]
    for fault in TRANSPORT.values():
        amount = f" (default {fault.amount:g} {fault.unit}; {fault.name}:<{fault.unit}>)" if fault.unit else ""
        lines.append(f"{fault.name:34} [transport] {fault.description}{amount}")
    return lines


def transport_fault(text: str) -> Fault | None:
    """A transport fault (``flood``, ``flood:<count>``, ...); None if ``text`` names none."""
    name, _, amount = text.partition(":")
    behaviour = TRANSPORT.get(name)
    if behaviour is None or (amount and not behaviour.unit):
        return None
    if amount:
        try:
            behaviour = behaviour.with_amount(amount)
        except ValueError as exc:
            raise UnknownFault(f"--fault {text}: {exc}") from None
    return Fault(text, behaviour.description, kind="transport", transport=behaviour)


def _moved(action: Action | None) -> frozenset[str]:
    """The events of its owners' lists an action moves, repeats or alters."""
    if isinstance(action, Swap):
        return frozenset({action.first, action.second})
    if isinstance(action, Duplicate | Retarget | Stale):
        return frozenset({action.event})
    return frozenset()


def check_named(catalogue: Catalogue) -> list[str]:
    """Problems of the named faults against the catalogue: every command, stimulus, event, state key,
    level, platform and failure code they name exists, and the events they move are in their owners' lists."""
    problems = []
    facets = {name for level in catalogue.levels.values() for name in level.facets}
    for fault in NAMED.values():
        action, name = fault.action, fault.name
        owners = set(fault.owners) | {pair[0] for pair in (fault.drop, fault.lenient) if pair}
        listed: set[str] = set()
        for owner in sorted(owners):
            command, stimulus = catalogue.commands.get(owner), catalogue.stimuli.get(owner)
            if command is None and stimulus is None:
                problems.append(f"{name}: {owner!r} is no command or stimulus")
            lists = [command.events, *(o.events for o in command.outcomes)] if command else []
            lists += [stimulus.events] if stimulus else []
            listed |= {entry.event for event_list in lists if event_list for entry in event_list.entries}
        problems += [f"{name}: unknown platform {p!r}" for p in fault.platforms if p not in catalogue.platforms]
        lenient = fault.lenient[1] if fault.lenient else frozenset()
        counted = {s for c in lenient if c.startswith(COUNT_AS) for s in c.removeprefix(COUNT_AS).split("=")}
        states = {state for level in catalogue.levels.values() for state in level.states_in_order}
        problems += [f"{name}: {state!r} is no state of any level" for state in sorted(counted - states)]
        problems += [f"{name}: no list of {', '.join(sorted(owners))} has {e!r}" for e in _moved(action) - listed]
        if isinstance(action, Extra) and action.event not in catalogue.events:
            problems.append(f"{name}: {action.event!r} is no event")
        if isinstance(action, Stale) and action.key not in getattr(catalogue.events.get(action.event), "sets", {}):
            problems.append(f"{name}: {action.event} carries no {action.key!r}")
        if isinstance(action, Forget | Reset) and action.key not in {None, "state", *facets}:
            problems.append(f"{name}: {action.key!r} is no facet of any level")
        kinds = ", ".join(FRAMES)
        problems += [f"{name}: {frame!r} is no kind of frame ({kinds})" for frame in fault.frames - set(FRAMES)]
        if isinstance(action, ReuseId) and action.level not in catalogue.levels:
            problems.append(f"{name}: {action.level!r} is no level")
        if isinstance(action, Refuse) and action.reason not in catalogue.protocol.failure_codes:
            problems.append(f"{name}: {action.reason!r} is no failure code of specs/protocol.yaml")
        if isinstance(action, Strip) and action.result not in catalogue.protocol.responses:
            problems.append(f"{name}: {action.result!r} is no response result")
    return problems


class UnknownFault(ValueError):
    pass


def parse_fault(text: str, catalogue: Catalogue) -> Fault:
    """A named fault, or one of a family for a command (and event) of the catalogue."""
    if text in NAMED:
        return NAMED[text]
    transport = transport_fault(text)
    if transport is not None:
        return transport
    parts = text.split(":")
    if len(parts) == 2 and parts[0] in LENIENT:
        command = parts[1]
        if command not in catalogue.commands:
            raise UnknownFault(f"--fault {text}: {command!r} is no command of the catalogue")
        check, description = LENIENT[parts[0]]
        return Fault(text, f"{command} {description}", lenient=(command, frozenset({check})))
    if len(parts) == 3 and parts[0] == "strip-response":
        command, member = parts[1], parts[2]
        if command not in catalogue.commands:
            raise UnknownFault(f"--fault {text}: {command!r} is no command of the catalogue")
        return Fault(
            text, f"{command} answers without {member!r}", action=Strip(member), owners=frozenset({command})
        )
    if len(parts) == 3 and parts[0] == "drop-event":
        owner, event = parts[1], parts[2]
        spec = catalogue.commands.get(owner) or catalogue.stimuli.get(owner)
        if spec is None:
            raise UnknownFault(f"--fault {text}: {owner!r} is no command or stimulus of the catalogue")
        if event not in {entry.event for entry in spec.events.entries}:
            raise UnknownFault(f"--fault {text}: {owner}'s event list has no {event!r}")
        return Fault(text, f"{owner} never sends {event}", drop=(owner, event))
    known = ", ".join(sorted(NAMED))
    raise UnknownFault(
        f"--fault {text}: unknown fault (known: {known}; or {', '.join(FAMILIES)}; or a transport fault: "
        f"{', '.join(TRANSPORT)})"
    )
