"""Enrollment.

- ``admission``: whether an event, and the span a seat is for, take
  enrollments now (``enrollment_refusal``, ``booking_span``), by the pure
  booking window rule of ``booking_window`` (also the calendar CTAs' rule).
- ``seating``, ``capacity``: the pure seat rules, and the counters they move.
- ``arrivals``: the line intake stamps and groups close (``line_stamp``,
  ``closed_line``).
- ``group``: single enroll jobs applied in groups (``run_enroll_jobs``), with
  ``group_line`` (which jobs a group claims) and ``group_outcomes``
  (``enroll_jobs``, set-wise).
- ``bulk``: bulk enrollment.
- ``waitlist``: places and promotion (``promote_waitlisted``).
- ``removal``: ``cancel_enrollment``, ``remove_attendee``.
- ``attendees``, ``attendee_rows``: attendees one at a time and in bulk.
- ``jobs``: the enroll, cancel and remove job handlers.
- ``mail``, ``placement_mails``: confirmation and waiting-list mails.
- ``queries``: read views (``list_event_enrollments``, ``attendee_enrollments``).
"""
