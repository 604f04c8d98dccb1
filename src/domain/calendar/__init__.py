"""An attendee's calendar.

- ``listing``: a page of the calendar with seats and CTAs (``list_calendar``),
  and bookmarks (``toggle_bookmark``).
- ``window``: the keyset window a page is read from (``read_window``).
- ``cache``: the cache and its refresh (``refresh_calendar``, ``rebuild_calendar``).
- ``sync``: the flush listener that keeps the cache in step with writes.
- ``policy``: pure rows and calls to action (``build_rows``, ``calls_to_action``).
- ``query``, ``cursor``: the query parameters and signed keyset cursors.
- ``ics``: the ICS export (``render_ics``); ``feed`` adds the places and SEQUENCEs.
"""
