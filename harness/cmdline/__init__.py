"""The pieces of the ``mbconform`` command line (``harness/cli.py`` dispatches to them)."""
