"""Attendees as a resource (issue 15 #8): the directory, the export, erasure."""
