import json

from harness.core.messages import Event, Malformed, Request, Response, classify


def test_a_frame_with_message_type_is_an_event() -> None:
    message = classify(json.dumps({"messageType": "objectEvent", "target": "S1", "name": "x", "data": {}}))
    assert isinstance(message, Event) and message.name == "x"


def test_a_frame_with_result_is_a_response_and_one_with_neither_a_request() -> None:
    response = classify('{"command": "c", "target": "t", "result": "success", "data": {}}')
    request = classify('{"command": "c", "target": "t", "data": {}}')
    assert isinstance(response, Response) and response.result == "success"
    assert isinstance(request, Request) and request.command == "c"


def test_anything_unreadable_becomes_a_malformed_frame_with_its_reason() -> None:
    cases = {
        b"\x00\x01": "binary frame",
        "not json": "not JSON",
        "[1, 2]": "a JSON list",
        '{"messageType": "objectEvent", "target": 3}': "without a string name and target",
        '{"result": "success"}': "without a string command and target",
        '{"target": "x"}': "without a string command",
        "[" * 100000: "not JSON",
        '{"a": 1' + "9" * 10000 + "}": "not JSON",
    }
    for frame, reason in cases.items():
        message = classify(frame)
        assert isinstance(message, Malformed), frame[:20]
        assert reason in message.reason, (frame[:20], message.reason)
        assert len(message.text) < 300
