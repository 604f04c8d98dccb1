"""Bulk enrollment.

- ``run``: the job runner, atomic or in chunks (``run_bulk_enroll``).
- ``rows``: rows applied set-based in the caller's transaction (``enroll_rows``).
- ``writes``: the enrollment and payment rows and the placement mail message
  (``insert_enrollments``).
"""
