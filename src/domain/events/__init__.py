"""Events and their sessions.

- ``catalog``: resolve, create, publish, list (``get_event``, ``create_event``,
  ``publish_event``, ``list_events``).
- ``admin``: changes after creation (``update_event``, ``unpublish_event``,
  ``delete_event``, ``copy_event``, ``cancel_event``, ``cancel_occurrence``,
  ``complete_due_events``).
- ``lifecycle``: the pure refusals those changes check.
- ``recurrence``, ``occurrences``: rules expanded into dated occurrences
  (``expand_event_occurrences``, ``replace_occurrences``).
- ``listing``: categories and tags, and the catalogue (``list_catalogue``).
- ``sessions``, ``trainers``: an event's sessions and trainers.
- ``jobs``: the event job handlers (cancellation notices, expansion, completion).
"""
