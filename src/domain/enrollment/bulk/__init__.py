"""Bulk enrollment.

The job runner (``run``), set-based row application (``rows.enroll_rows``) and
the writes behind it (``writes``).
"""
