"""Seed 002's REST events dialect (``/orgs/{org_uuid}/events``, ``/events/{event_uuid}``):
its request models, their translation to and from Rollcall's, and its routes. Every rule
is Rollcall's: the routes call the same functions as ``/v1/events``."""
