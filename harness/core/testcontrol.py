"""In-band test control: how the harness asks the *reference adapter* to produce a stimulus.

This is not part of the media bar protocol; it is mbconform's own convention, which the reference adapter
accepts only when started with ``--test-control``. The stimulus itself (which events follow) is in
``specs/stimuli/``.
"""

from __future__ import annotations

from typing import Any

STIMULATE = "mbconform.stimulate"


def stimulus_request(stimulus: str, target: str) -> dict[str, Any]:
    return {"command": STIMULATE, "target": target, "data": {"stimulus": stimulus}}
