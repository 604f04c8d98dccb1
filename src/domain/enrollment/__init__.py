"""Enrollment.

Admission, seating and capacity, the arrival line, enroll groups, waitlist
promotion, removal, attendees, the enroll job handlers, placement mails and
queries. ``bulk`` holds bulk enrollment.
"""
