"""Errors the cloud's domain raises, each mapped to one HTTP status in the public error shape."""

from __future__ import annotations

import uuid


class CloudError(Exception):
    """Base: ``status_code`` is what the API answers, the message what the caller reads."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(CloudError):
    status_code = 400


class Unauthorized(CloudError):
    """401. ``reason``, when set, is a word for machines that says why (``docs/PROTOCOL.md``:
    the agent tells authorization lost from an access token to refresh by it)."""

    status_code = 401

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(CloudError):
    status_code = 404


class Conflict(CloudError):
    status_code = 409

    def __init__(self, message: str, *, current_status: str | None = None) -> None:
        super().__init__(message)
        self.current_status = current_status  # answered as "currentStatus" when set


class TooLarge(CloudError):
    """More than this cloud takes in one request or one dataset (a setting says how much)."""

    status_code = 413


def error_body(
    status_code: int, message: str, correlation_id: str | None = None
) -> dict[str, object]:
    """The public error shape. ``correlation_id`` ties the answer to the server's log."""
    return {
        "statusCode": status_code,
        "service": "PublicApi",
        "error": message,
        "correlationId": correlation_id or uuid.uuid4().hex,
        "validation": None,
        "canBeRetried": "Unknown",
        "detailedErrorCode": 0,
    }


def shown(value: str, limit: int = 80) -> str:
    """``value`` quoted for an error message, cut short: an answer must not grow with what a
    caller sent."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
