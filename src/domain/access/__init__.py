"""Access: who is calling, and what they may reach.

- ``keys``: API keys and organisations (``create_api_key``, ``authenticate``).
- ``key_cache``: a web process's authenticated keys, valid under a revocation
  epoch (kept in Redis by ``messaging.key_epoch``).
- ``attendee_tokens``: end-user tokens for the calendar (``create_attendee_token``,
  ``authenticate_end_user``).
- ``scopes``: the event, date or session a request names (``resolve_scope``).
"""
