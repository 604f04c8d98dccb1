"""An attendee's calendar.

Reading and bookmarking (``listing``), the cache and its refresh (``cache``),
keyset cursors, ICS export, the pure policy, queries, and the listener that
keeps the cache in step with writes (``sync``).
"""
