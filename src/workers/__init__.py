"""Dramatiq broker setup, middleware, actors, and mail rendering and sending."""
