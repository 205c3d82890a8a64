"""Errors as TensorFlow Serving reports them: a canonical status code and a message.

TF Serving answers a failed REST request with ``{"error": "<message>"}`` and
an HTTP status derived from the canonical (gRPC) code of the failure; the
table below is TF Serving's own (``model_servers/http_server.cc``).
"""

from __future__ import annotations

from typing import Dict

HTTP_STATUS: Dict[str, int] = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A request failed; ``code`` is a canonical status code name such as ``NOT_FOUND``."""

    def __init__(self, code: str, message: str):
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown status code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        """The HTTP status TF Serving answers with for this code."""
        return HTTP_STATUS[self.code]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def invalid_argument(message: str) -> ServingError:
    """Returns an INVALID_ARGUMENT error (HTTP 400)."""
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingError:
    """Returns a NOT_FOUND error (HTTP 404)."""
    return ServingError("NOT_FOUND", message)
