"""Jobs and the machinery around them.

- ``engine``: accepting and applying jobs exactly once (``submit_job``,
  ``apply_job``, ``get_job``), and the handler registry (``runs``, ``handles``,
  ``groups``).
- ``outbox``: messages written with the transaction, sent after commit
  (``add_message``, ``take_pending``).
- ``failure_policy``: retry or fail (``failure_decision``).
- ``dead_letters``: dead-lettered jobs marked and reopened.
- ``row_guard``: per-row guards for producers (``each_row``).
- ``actor_names``: the actors' names and queues.
"""
