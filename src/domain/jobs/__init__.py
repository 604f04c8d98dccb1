"""Jobs and the machinery around them.

The job engine (``engine.apply_job``, ``engine.submit_job``), the outbox, dead
letters, the failure policy, per-row guards for producers (``row_guard``), and
the actors' names and queues (``actor_names``).
"""
