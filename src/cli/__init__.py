"""The command line (`rollcall ...`) and the embedded dev stack: the top layer."""

from rollcall.cli.commands import main

__all__ = ["main"]
