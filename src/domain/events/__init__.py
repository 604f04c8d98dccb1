"""Events and their sessions.

The catalog (resolve, create, publish, list), admin changes, lifecycle,
recurrence and occurrences, trainers, and the event job handlers.
"""
