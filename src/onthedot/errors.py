"""The one error tree of onthedot.

Every error a user can cause or must act on is an `OnTheDotError`. Each carries a stable,
machine-readable `code`, the HTTP status it maps to, and a human `detail` that says what to
fix. The HTTP layer turns them into `application/problem+json` in one place (`api.py`); the
CLI prints the detail on one line and exits non-zero (`cli.py`).
"""

from __future__ import annotations

from typing import Any


class OnTheDotError(Exception):
    """Base of every onthedot error."""

    code: str = "error"
    status: int = 400
    title: str = "Request failed"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context: dict[str, Any] = context

    def __str__(self) -> str:
        return self.detail


class ConfigurationError(OnTheDotError):
    """The process cannot start with the settings it was given."""

    code = "configuration_error"
    status = 500
    title = "Configuration error"


class AuthenticationFailed(OnTheDotError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class PermissionDenied(OnTheDotError):
    """The caller belongs to the workspace but their role does not allow this."""

    code = "forbidden"
    status = 403
    title = "Not allowed for your role"


class NotFound(OnTheDotError):
    """Also raised for objects of another workspace, so their existence never leaks."""

    code = "not_found"
    status = 404
    title = "Not found"


class InvalidInput(OnTheDotError):
    code = "invalid_request"
    status = 422
    title = "Invalid request"


class ScheduleInPast(InvalidInput):
    code = "schedule_in_past"
    title = "Scheduled time is in the past"


class TextTooLong(InvalidInput):
    code = "text_too_long"
    title = "Text is over the network's limit"


class UnknownTimezone(InvalidInput):
    code = "unknown_timezone"
    title = "Unknown time zone"


class InvalidSchedule(InvalidInput):
    code = "invalid_schedule"
    title = "Invalid posting schedule"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    title = "Invalid pagination cursor"


class Conflict(OnTheDotError):
    code = "conflict"
    status = 409
    title = "Conflict"


class ChannelPaused(Conflict):
    code = "channel_paused"
    title = "Channel is paused"


class ScheduleEmpty(Conflict):
    code = "schedule_empty"
    title = "Channel has no posting times"


class PostNotEditable(Conflict):
    code = "post_not_editable"
    title = "Post can no longer be changed"


class NetworkRefused(OnTheDotError):
    """A network said no to a request made on the user's behalf (a wrong app password, a
    declined consent, an expired sign-in)."""

    code = "network_refused"
    status = 400
    title = "The network refused"


class NetworkUnavailable(OnTheDotError):
    """A network could not be asked just now; the same request may work later."""

    code = "network_unavailable"
    status = 502
    title = "The network did not answer"
