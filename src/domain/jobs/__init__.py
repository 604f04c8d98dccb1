"""Jobs and the machinery around them.

- ``engine``: accepting and applying jobs exactly once (``submit_job``,
  ``apply_job``, ``get_job``), and the handler registry (``runs``, ``handles``,
  ``groups``).
- ``one_statement``: on PostgreSQL, a job and its outbox row recorded by one
  statement, stamped under its event's line turn (``submit_job_in_one_statement``).
- ``outbox``: messages written with the transaction, sent after commit
  (``add_message``, ``take_pending``).
- ``failure_policy``: retry or fail (``failure_decision``).
- ``dead_letters``: dead-lettered jobs marked and reopened.
- ``row_guard``: per-row guards for producers (``each_row``).
- ``actor_names``: the actors' names and queues.
"""
