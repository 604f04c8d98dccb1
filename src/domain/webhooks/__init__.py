"""Webhooks (issue 18): subscriptions, the deliveries changes cause, their order and retries.

- ``event_types``: the types Rollcall sends.
- ``targets``: which addresses a delivery may reach (pure).
- ``policy``: backoff and what a reply means (pure).
- ``subscriptions``: create, change, rotate, delete.
- ``record``: the one function a change calls to cause a delivery, in its transaction.
- ``payloads``: the ``data`` of each type, built from the changed rows.
- ``deliveries``: claiming a delivery in order, recording an attempt, redelivering.
"""
