"""Reminders.

Due runs recorded once and their recipients (``runs``), and the reminder job
handlers (``jobs``).
"""
