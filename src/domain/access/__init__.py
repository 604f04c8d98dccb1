"""Access.

API keys, scopes and attendee tokens.
"""
