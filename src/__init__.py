"""Rollcall: asynchronous, job-driven enrollment platform."""

__version__ = "0.1.0"
