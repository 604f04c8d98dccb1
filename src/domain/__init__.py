"""The rules, as functions over a session. Time is always a parameter (``now``)."""
