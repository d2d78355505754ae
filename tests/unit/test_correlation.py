from harness.core.correlation import Correlator
from harness.core.messages import Response


def response(command: str, target: str) -> Response:
    return Response(command, target, "success", {"command": command, "target": target, "result": "success"})


def test_a_response_answers_the_oldest_outstanding_request_with_its_command_and_target() -> None:
    correlator = Correlator()
    first = {"command": "conversation.hold", "target": "S1.c.i.v", "data": {"n": 1}}
    second = {"command": "conversation.hold", "target": "S1.c.i.v", "data": {"n": 2}}
    other = {"command": "conversation.hold", "target": "S1.c.i.w", "data": {}}
    for request in (first, other, second):
        correlator.sent(request)
    assert correlator.match(response("conversation.hold", "S1.c.i.v")) is first
    assert correlator.match(response("conversation.hold", "S1.c.i.v")) is second
    assert correlator.match(response("conversation.hold", "S1.c.i.v")) is None
    assert correlator.match(response("conversation.hold", "S1.c.i.w")) is other


def test_a_response_with_another_command_or_target_answers_nothing() -> None:
    correlator = Correlator()
    correlator.sent({"command": "conversation.hold", "target": "S1.a", "data": {}})
    assert correlator.match(response("conversation.retrieve", "S1.a")) is None
    assert correlator.match(response("conversation.hold", "S1.b")) is None
    assert correlator.outstanding() == 1


def test_outstanding_requests_are_bounded() -> None:
    correlator = Correlator(limit=3)
    for n in range(10):
        correlator.sent({"command": "c", "target": str(n), "data": {}})
    assert correlator.outstanding() == 3
    assert correlator.dropped == 7
    assert correlator.match(response("c", "9")) is not None
    assert correlator.match(response("c", "0")) is None
