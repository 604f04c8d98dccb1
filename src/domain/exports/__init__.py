"""CSV exports, streamed: ``csv_cells`` (pure: neutralised cells, CSV text in
chunks), ``roster`` (an event's enrollments), ``job_errors`` (a job's row errors)."""
