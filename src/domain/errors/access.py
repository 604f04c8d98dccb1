"""Who may do what: API keys, scopes, attendee tokens and the ops dashboard's sign-in."""

from __future__ import annotations

from rollcall.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated


class InvalidApiKey(Unauthenticated):
    """The API key is missing, unknown or revoked."""

    code = "INVALID_API_KEY"


class InsufficientScope(Forbidden):
    """The API key lacks the scope this route requires."""

    code = "INSUFFICIENT_SCOPE"


class InvalidToken(Unauthenticated):
    """An end-user token with scope AUTHENTICATED is required: missing, unknown or revoked."""

    code = "INVALID_TOKEN"


class AttendeeMismatch(Forbidden):
    """An end-user token acts only for its own attendee."""

    code = "ATTENDEE_MISMATCH"


class OperatorOnly(Forbidden):
    """Queue-wide figures are for platform operators' keys."""

    code = "OPERATOR_ONLY"


class OpsSignInRequired(Unauthenticated):
    """Sign in to the dashboard with an API key that has the ``ops`` scope."""

    code = "OPS_SIGN_IN_REQUIRED"


class CsrfTokenInvalid(Forbidden):
    """The form's CSRF token is missing or wrong: reload the page and submit it again."""

    code = "CSRF_TOKEN_INVALID"


class ApiKeyNotFound(NotFound):
    """No such API key in your organisation."""

    code = "API_KEY_NOT_FOUND"


class ApiKeyRevoked(Conflict):
    """The API key is revoked, or due to be revoked after a rotation: it cannot be rotated."""

    code = "API_KEY_REVOKED"


class TokenNotFound(NotFound):
    """No such end-user token for this attendee."""

    code = "TOKEN_NOT_FOUND"
