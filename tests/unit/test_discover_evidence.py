"""What discovery quotes of an adapter is one escaped, bounded line; a state spelled another way is the
catalogue's state."""

from __future__ import annotations

import yaml

from harness.discover.observe import EVIDENCE_CHARS, normalized, shown


def test_evidence_is_one_ascii_line_with_control_characters_escaped() -> None:
    text = 'ok\n# injected: true\r\x07\u2028"quoted" «x»'
    quoted = shown(text)
    assert "\n" not in quoted and "\r" not in quoted and quoted.isascii()
    assert "\\n# injected: true\\r\\u0007\\u2028" in quoted and '"quoted"' in quoted
    assert yaml.safe_load(f"key: 1  # {quoted}") == {"key": 1}


def test_evidence_is_bounded_and_says_how_long_the_frame_was() -> None:
    quoted = shown("x" * 10_000)
    assert len(quoted) < EVIDENCE_CHARS + 40 and quoted.endswith("(10000 chars)")


def test_a_state_spelled_another_way_is_the_catalogues_and_another_name_is_none() -> None:
    states = frozenset({"HELD", "ON_CALL"})
    assert normalized("held", states) == "HELD"
    assert normalized("on-call", states) == "ON_CALL"
    assert normalized("ON_HOLD", states) is None
