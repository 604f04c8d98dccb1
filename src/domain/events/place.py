"""Where an event happens, as mails and calendars say it. Pure: stored values in.

The venue is stored as the API took it (seed 002's VENUE attribute: ``name``,
map ``url``, ``image``, ``latitude``, ``longitude``, ``address``); the online
location is a URL. An event may have either, both (a hybrid event) or neither.
"""

from __future__ import annotations

from typing import Any

#: The event columns that say where it happens: a change to either is a change
#: of place (notified, and counted in the iCalendar SEQUENCE).
PLACE_COLUMNS = frozenset({"venue", "online_url"})

ADDRESS_PARTS = ("address_line1", "address_line2", "post_code", "city", "state", "country")


def address_lines(venue: dict[str, Any] | None) -> list[str]:
    """The venue's name and address, one non-empty part per line."""
    if not venue:
        return []
    address = venue.get("address") or {}
    city_line = " ".join(part for part in (address.get("post_code"), address.get("city")) if part)
    parts = [
        venue.get("name"),
        address.get("address_line1"),
        address.get("address_line2"),
        city_line,
        address.get("state"),
        address.get("country"),
    ]
    return [str(part) for part in parts if part]


def location_text(venue: dict[str, Any] | None, online_url: str | None) -> str | None:
    """The iCalendar LOCATION: the venue on one line, else the online URL."""
    lines = address_lines(venue)
    if lines:
        return ", ".join(lines)
    return online_url


def geo(venue: dict[str, Any] | None) -> tuple[float, float] | None:
    """(latitude, longitude) of the venue, when it has them."""
    if not venue or venue.get("latitude") is None or venue.get("longitude") is None:
        return None
    return float(venue["latitude"]), float(venue["longitude"])


def place_url(venue: dict[str, Any] | None, online_url: str | None) -> str | None:
    """The iCalendar URL: the online URL (where to join), else the venue's map."""
    if online_url:
        return online_url
    return (venue or {}).get("url") or None


def shown_thumbnail(
    thumbnail: dict[str, Any] | None, banner: list[dict[str, Any]] | None
) -> dict[str, Any] | None:
    """The thumbnail as set; without one, the primary banner (seed 002)."""
    if thumbnail:
        return {"name": thumbnail.get("name", ""), "image": thumbnail["image"], "primary": False}
    for item in banner or ():
        if item.get("primary"):
            return dict(item)
    return None


def place_of(venue: dict[str, Any] | None, online_url: str | None) -> dict[str, Any]:
    """The place as a mail shows it: ``venue`` (with ``lines``) and ``online_url``."""
    shown = None
    if venue:
        shown = dict(venue) | {"lines": address_lines(venue)}
    return {"venue": shown, "online_url": online_url}


def ical_sequence(occurrence_sequence: int, place_sequence: int) -> int:
    """An occurrence's iCalendar SEQUENCE: one more for each time it was
    rescheduled and each time its event's place changed, so it only grows."""
    return int(occurrence_sequence or 0) + int(place_sequence or 0)
