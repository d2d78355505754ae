"""mbconform: a conformance test harness and protocol fuzzer for the media bar protocol."""

__version__ = "0.1.0"
