"""Fuzzing: message-level (one frame at a time) and stateful (call flows), driven by Hypothesis.

Everything generated comes from the catalogue: the commands, their request schemas, the state model and the
profile's stimuli. A new spec file is fuzzed without new Python.
"""

FUZZ_FORMAT = "mbconform/fuzz/1"  # the format line of a fuzz profile (suites/fuzz/*.yaml)
