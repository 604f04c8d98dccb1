"""Seed 002's request examples with their placeholders filled, and a JSON Schema of
its replies written from the seed (``../shared/seeds/002_*.txt``)."""

from __future__ import annotations

from typing import Any

from rollcall.domain.access.keys import authenticate
from rollcall.domain.clock import utcnow
from tests.support.stack import Stack

MINUTE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d$"}
UTC_LOCAL = {
    "type": "object",
    "required": ["utc", "local"],
    "properties": {"utc": MINUTE, "local": MINUTE},
}
EVENT = {
    "type": "object",
    "required": [
        "uuid",
        "status",
        "name",
        "display_name",
        "slug",
        "description",
        "banner",
        "thumbnail",
        "timezone",
        "event_occurrence",
        "occurrence",
        "publishing",
        "listing",
        "settings",
        "created_on",
        "updated_on",
    ],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "status": {"type": "string"},
        "name": {"type": "string", "maxLength": 75},
        "banner": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "image", "primary"]},
        },
        "timezone": {"type": "string"},
        "created_on": UTC_LOCAL,
        "updated_on": UTC_LOCAL,
        "event_occurrence": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["uuid", "enabled", "start_on", "end_on", "sessions"],
                "properties": {
                    "enabled": {"type": "boolean"},
                    "start_on": UTC_LOCAL,
                    "end_on": UTC_LOCAL,
                    "sessions": {"type": "array"},
                },
            },
        },
        "occurrence": {
            "type": "object",
            "required": ["type", "attributes", "exclusions"],
            "properties": {"exclusions": {"type": "array"}},
        },
        "publishing": {
            "type": "object",
            "required": ["state"],
        },
        "listing": {
            "type": "object",
            "required": ["enabled", "categories"],
            "properties": {"enabled": {"type": "boolean"}, "categories": {"type": "array"}},
        },
        "settings": {
            "type": "object",
            "required": [
                "booking_starts_on",
                "booking_ends_on",
                "event_capacity",
                "max_ticket_per_customer",
                "waiting_list",
                "reminder_email_before_event",
                "reminder_email_after_event",
                "sessions",
            ],
        },
    },
}
EVENT_REPLY = {
    "type": "object",
    "required": ["statusCode", "result"],
    "properties": {
        "result": {"type": "object", "required": ["event"], "properties": {"event": EVENT}}
    },
}
EVENTS_REPLY = {
    "type": "object",
    "required": ["statusCode", "result"],
    "properties": {
        "result": {
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "items": EVENT}},
        }
    },
}
#: The seed's "Create events session" response: result.session.session.
SESSION = {
    "type": "object",
    "required": [
        "uuid",
        "sell_session",
        "status",
        "name",
        "capacity",
        "display_name",
        "description",
        "duration",
        "image",
        "created_on",
        "updated_on",
        "occurrences",
        "session_starts_on",
        "session_ends_on",
        "tickets",
    ],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "sell_session": {"type": "boolean"},
        "status": {"enum": ["ACTIVE", "INACTIVE"]},
        "name": {"type": "string", "maxLength": 75},
        "capacity": {"type": ["integer", "null"]},
        "duration": {"type": ["integer", "null"]},
        "occurrences": {
            "type": "object",
            "required": ["type", "uuid"],
            "properties": {
                "type": {"enum": ["ALL", "SPECIFIC"]},
                "uuid": {"type": "array", "items": {"type": "string"}},
            },
        },
        "session_starts_on": {"anyOf": [UTC_LOCAL, {"type": "null"}]},
        "session_ends_on": {"anyOf": [UTC_LOCAL, {"type": "null"}]},
        "tickets": {"type": "array"},
    },
}
SESSION_REPLY = {
    "type": "object",
    "required": ["statusCode", "result"],
    "properties": {
        "statusCode": {"const": 201},
        "result": {
            "type": "object",
            "required": ["session"],
            "properties": {
                "session": {
                    "type": "object",
                    "required": ["session"],
                    "properties": {"session": SESSION},
                }
            },
        },
    },
}
SENTENCE_REPLY = {
    "type": "object",
    "required": ["statusCode", "result"],
    "properties": {"statusCode": {"type": "integer"}, "result": {"type": "string"}},
}
ERROR_REPLY = {
    "type": "object",
    "required": ["statusCode", "error"],
    "properties": {
        "statusCode": {"type": "integer", "minimum": 400},
        "error": {"type": "object", "required": ["code", "message"]},
    },
}


def _next_january_24() -> int:
    """The year of the next 24 January (summer in Sydney, UTC+11), within a year."""
    today = utcnow().date()
    return today.year + 1 if (today.month, today.day) >= (1, 24) else today.year


#: The seed's duplicate example, on the next 24 January: local midnight in Sydney
#: is 13:00 UTC the day before.
YEAR = _next_january_24()
LOCAL_START = f"{YEAR}-01-24 00:00"
UTC_START = f"{YEAR}-01-23 13:00"


def create_example(**overrides: Any) -> dict[str, Any]:
    """The seed's Create Event request body, its placeholders filled."""
    event: dict[str, Any] = {
        "name": "Harbour walk",
        "description": "A walk along the harbour",
        "is_update_org_settings": False,
        "occurrence": {
            "type": "DOES_NOT_REPEAT",
            "attributes": {
                "starts_on": LOCAL_START,
                "event_duration": "2",
                "occurrence_ends": {"type": "never", "value": None},
            },
        },
        "banner": [
            {"name": "main", "image": "https://cdn.example.org/main.jpg", "primary": "true"}
        ],
        "timezone": "AUSTRALIA/SYDNEY",
        "enable_datetime_conversion": "true",
        "configuration": {
            "type": "VENUE",
            "attributes": [
                {
                    "name": "VENUE",
                    "value": {
                        "name": "Circular Quay",
                        "image": "https://cdn.example.org/quay.jpg",
                        "url": "https://maps.example.org/quay",
                        "latitude": "-33.8611",
                        "longitude": "151.2111",
                        "address": {
                            "address_line1": "Alfred St",
                            "address_line2": "",
                            "country": "AU",
                            "state": "NSW",
                            "city": "Sydney",
                            "post_code": "2000",
                        },
                    },
                }
            ],
        },
        "listing": {"enabled": True, "categories": []},
        "resources": [],
    }
    event.update(overrides)
    return {"event": event}


def org_of(stack: Stack, key: str) -> str:
    """The organisation uuid of the key's organisation (the seed's ``org_uuid``)."""
    with stack.db() as session:
        return str(authenticate(session, key, now=utcnow()).organisation_id)
