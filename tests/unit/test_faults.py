"""The reference adapter's named faults: their data against the catalogue, and what their hooks do to one
answer (in-process, no WebSocket)."""

from __future__ import annotations

import json
from typing import Any

from harness.core.simulate import Platform
from harness.reference.faults import NAMED, check_named, fault_listing, parse_fault
from harness.reference.server import ReferenceAdapter
from harness.spec.catalogue import Catalogue


def test_every_named_fault_names_what_the_catalogue_has(catalogue: Catalogue) -> None:
    assert check_named(catalogue) == []


def test_there_are_at_least_30_named_faults_and_a_third_of_them_are_multi_step() -> None:
    faults = list(NAMED.values())
    assert len(faults) >= 30
    assert 3 * sum(fault.multistep for fault in faults) >= len(faults)
    assert all(fault.description and fault.kind for fault in faults)
    assert all(":" not in fault.name for fault in faults)  # the families use ':'


def test_the_listing_names_every_fault_its_kind_and_where_it_applies() -> None:
    lines = fault_listing()
    for fault in NAMED.values():
        [line] = [line for line in lines if line.split()[0] == fault.name]
        assert fault.kind in line and fault.description in line
        assert ("multi-step" in line) == fault.multistep
    assert "incontact only" in next(line for line in lines if line.startswith("needinfo-without-uiextension"))


class Session:
    """One adapter session driven in-process: requests in, messages out."""

    def __init__(self, catalogue: Catalogue, faults: str = "", platform: str = "generic") -> None:
        self.adapter = ReferenceAdapter(catalogue, test_control=True)
        query = "&".join([f"platform={platform}", *(f"fault={name}" for name in faults.split() if name)])
        setup = self.adapter.session_setup(f"/?{query}")
        self.platform: Platform = setup.platform
        self.faults = setup.faults
        self.platform.startup(list(self.adapter.channels), "S1")

    def send(self, command: str, target: str, **data: Any) -> list[dict[str, Any]]:
        frame = json.dumps({"command": command, "target": target, "data": data})
        return self.adapter.answer(self.platform, frame, self.faults)

    def stimulate(self, stimulus: str, target: str) -> list[dict[str, Any]]:
        return self.send("mbconform.stimulate", target, stimulus=stimulus)

    def call(self) -> tuple[str, str]:
        """An accepted inbound call on the phone channel: (interaction, conversation)."""
        self.send("channel.activate", "S1.chan1")
        events = self.stimulate("call.inbound", "S1.chan1")[1:]
        interaction = next(e for e in events if e["name"] == "interaction.created")
        conversation = next(e for e in events if e["name"] == "conversation.created")
        call = f"S1.chan1.{interaction['data']['interaction']['id']}"
        caller = f"{call}.{conversation['data']['conversation']['id']}"
        assert self.send("interaction.accept", call)[0]["result"] == "success"
        return call, caller

    def state(self, address: str) -> str | None:
        obj = self.platform.model.get(address)
        return obj.state if obj is not None else None


def names(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("name", m.get("result", "")) for m in messages]


def test_a_fault_free_session_answers_exactly_as_the_simulation(catalogue: Catalogue) -> None:
    clean = Session(catalogue)
    _, caller = clean.call()
    assert names(clean.send("conversation.hold", caller)) == ["success", "state.updated"]
    assert clean.state(caller) == "HELD"


def test_a_hold_the_platform_does_not_keep_is_announced_but_a_retrieve_then_fails(catalogue: Catalogue) -> None:
    session = Session(catalogue, "hold-keeps-connected")
    _, caller = session.call()
    held = session.send("conversation.hold", caller)
    assert names(held) == ["success", "state.updated"] and held[1]["data"] == {"state": "HELD"}
    assert session.state(caller) == "CONNECTED"
    retrieved = session.send("conversation.retrieve", caller)
    assert retrieved[0]["result"] == "failure" and retrieved[0]["failure"]["code"] == "INVALID_STATE"


def test_the_second_hold_of_a_call_fails_the_first_works(catalogue: Catalogue) -> None:
    session = Session(catalogue, "second-hold-refused")
    _, caller = session.call()
    assert session.send("conversation.hold", caller)[0]["result"] == "success"
    assert session.send("conversation.retrieve", caller)[0]["result"] == "success"
    second = session.send("conversation.hold", caller)
    assert second[0]["result"] == "failure" and len(second) == 1 and session.state(caller) == "CONNECTED"


def test_swapped_duplicated_and_extra_events_reorder_repeat_and_add(catalogue: Catalogue) -> None:
    session = Session(catalogue, "dial-preview-after-initialized dial-repeats-infochanged")
    session.send("channel.activate", "S1.chan1")
    dialed = names(session.send("channel.dial", "S1.chan1", destination="+15550100"))
    assert dialed[1:3] == ["channel.infochanged", "channel.infochanged"]
    assert dialed.index("interaction.initialized") < dialed.index("interaction.preview")
    extra = Session(catalogue, "activate-extra-infochanged")
    assert names(extra.send("channel.activate", "S1.chan1")) == ["success", "channel.infochanged", "state.updated"]


def test_a_retargeted_event_names_the_parent_and_a_stale_one_the_old_state(catalogue: Catalogue) -> None:
    session = Session(catalogue, "hold-state-on-interaction retrieve-reports-held")
    call, caller = session.call()
    assert session.send("conversation.hold", caller)[1]["target"] == call
    assert session.send("conversation.retrieve", caller)[1]["data"] == {"state": "HELD"}
    assert session.state(caller) == "CONNECTED"  # the platform did retrieve; only the event is wrong


def test_wrong_echoes_and_stripped_members_change_only_the_response(catalogue: Catalogue) -> None:
    session = Session(catalogue, "mute-echoes-verb failure-without-original")
    _, caller = session.call()
    muted = session.send("conversation.request.mute", caller)
    assert muted[0]["command"] == "mute" and muted[1]["data"] == {"muted": True}
    refused = session.send("conversation.retrieve", caller)
    assert refused[0]["result"] == "failure" and "original" not in refused[0]


def test_an_unreported_hangup_happens_only_while_held(catalogue: Catalogue) -> None:
    session = Session(catalogue, "held-hangup-unreported")
    _, caller = session.call()
    session.send("conversation.hold", caller)
    assert names(session.stimulate("remote.hangup", caller)) == ["success"]
    assert session.state(caller) == "DISCONNECTED"
    other = Session(catalogue, "held-hangup-unreported")
    _, connected = other.call()
    assert len(other.stimulate("remote.hangup", connected)) > 1


def test_a_stale_event_of_a_completed_call_comes_with_the_next_answer(catalogue: Catalogue) -> None:
    session = Session(catalogue, "stale-event-next-request")
    call, caller = session.call()
    session.send("conversation.release", caller)
    completed = session.send("interaction.complete", call)
    assert completed[-1]["target"] == "S1.chan1"  # the list as the catalogue has it
    dialed = session.send("channel.dial", "S1.chan1", destination="+15550100")
    assert dialed[1]["target"] == call and dialed[1]["name"] == "state.updated"


def test_a_needinfo_is_repeated_for_the_retry_on_incontact_only(catalogue: Catalogue) -> None:
    session = Session(catalogue, "needinfo-repeats", platform="incontact")
    session.send("channel.activate", "S1.chan1")
    first = session.send("channel.dial", "S1.chan1", destination="+15550100", extensions={"type": "external"})
    assert first[0]["result"] == "needinfo"
    skill = {"type": "external", "skill": "4101"}
    again = session.send("channel.dial", "S1.chan1", destination="+15550100", extensions=skill)
    assert names(again) == ["needinfo"] and again[0]["uiExtension"] == first[0]["uiExtension"]
    assert again[0]["original"]["data"]["extensions"] == skill
    assert NAMED["needinfo-repeats"].applies_on("incontact") and not NAMED["needinfo-repeats"].applies_on(
        "generic"
    )


def test_a_consult_that_reuses_the_call_id_creates_the_same_conversation_twice(catalogue: Catalogue) -> None:
    session = Session(catalogue, "consult-reuses-conversation-id")
    call, caller = session.call()
    created = [e for e in session.send("interaction.consult", call, destination="+15550142") if "name" in e]
    [new] = [e for e in created if e["name"] == "conversation.created"]
    assert f"{call}.{new['data']['conversation']['id']}" == caller
    assert session.platform.ids("conversation") != caller.rsplit(".", 1)[-1]  # only during that request


def test_every_named_fault_is_parsed_to_itself(catalogue: Catalogue) -> None:
    assert all(parse_fault(name, catalogue) is fault for name, fault in NAMED.items())
