"""What intake, workers and the scheduler all need of the broker: its setup and
middleware, outbox dispatch, relay and reconciler, done marks, queue inspection.
It never imports the actors (rollcall.workers): messages are built from
rollcall.domain.jobs.actor_names."""
