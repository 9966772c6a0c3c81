"""Errors the cloud's domain raises, each mapped to one HTTP status in the public error shape."""

from __future__ import annotations


class CloudError(Exception):
    """Base: ``status_code`` is what the API answers, the message what the caller reads."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(CloudError):
    status_code = 400


class Unauthorized(CloudError):
    status_code = 401


class NotFound(CloudError):
    status_code = 404


class Conflict(CloudError):
    status_code = 409

    def __init__(self, message: str, *, current_status: str | None = None) -> None:
        super().__init__(message)
        self.current_status = current_status  # answered as "currentStatus" when set
