"""Reminders.

- ``runs``: due runs recorded once (``record_due_reminders``,
  ``request_adhoc_reminder``) and their recipients' mails
  (``prepare_reminder_run``, ``finish_reminder_run``).
- ``jobs``: the reminder job handler (``apply_reminder``).
"""
