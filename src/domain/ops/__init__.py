"""Operations.

- ``views``: read views for the ops console (``list_jobs``, ``get_job_with_mail``,
  ``list_mail``, ``seat_lines``) and ``resend_mail``.
- ``producer_health``: the scheduler producers' state (``producer_state``).
- ``mail``: recording mail as an EmailMessage plus an outbox row (``queue_email``).
"""
