"""``mbconform bench``: how fast the harness checks, fuzzes and runs the suite, and how its memory behaves.

Every figure is measured in one run against one adapter (the embedded reference adapter unless a URL is
given): the raw request/response rate of a bare ``websockets`` loop and the rate of the same steps with all
checks and the oracle on (:mod:`.cycle`), the wall time of the conformance suite (:mod:`.suite_time`), the
stateful fuzzer's steps per second (:mod:`.fuzz_rate`), the harness's memory while the adapter floods events
(:mod:`.flood`), and many sessions at once (:mod:`.sessions`). :mod:`.measure` holds the table and the JSON.
"""
