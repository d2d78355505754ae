"""Correlate responses with requests.

ERRATA R3: the protocol has no request id. A response belongs to the oldest outstanding request with the
same ``command`` and ``target``; where the response has ``original`` it must equal that request (checked
by the response rules in specs/protocol.yaml).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .messages import Response

DEFAULT_LIMIT = 1024


class Correlator:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._pending: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._count = 0
        self.dropped = 0  # requests forgotten because more than ``limit`` were outstanding

    def sent(self, request: dict[str, Any]) -> None:
        key = (str(request.get("command")), str(request.get("target")))
        self._pending.setdefault(key, deque()).append(request)
        self._count += 1
        while self._count > self.limit:
            oldest_key = next(iter(self._pending))
            queue = self._pending[oldest_key]
            queue.popleft()
            if not queue:
                del self._pending[oldest_key]
            self._count -= 1
            self.dropped += 1

    def match(self, response: Response) -> dict[str, Any] | None:
        """The request this response answers (and no longer outstanding), or None if there is none."""
        key = (response.command, response.target)
        queue = self._pending.get(key)
        if not queue:
            return None
        request = queue.popleft()
        if not queue:
            del self._pending[key]
        self._count -= 1
        return request

    def peek(self, response: Response) -> dict[str, Any] | None:
        """The request :meth:`match` would give this response, left outstanding."""
        queue = self._pending.get((response.command, response.target))
        return queue[0] if queue else None

    def outstanding(self) -> int:
        return self._count
