"""Log records as JSON lines on stderr, each with the request it belongs to.

One JSON object per line is what log collectors (journald, Loki, Vector,
CloudWatch) read without a grammar of their own; a traceback is one field,
its line breaks escaped. Each record names the request's method, path,
status and member where they are known: Django's ``django.request`` records
carry their request and status, and any other record logged while a request
is served gets the request from ``RequestContextMiddleware``. Settings
(``LOGGING``) send every record to stderr and errors with a traceback to
``ADMINS`` by mail (docs/operations.md).
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest

current_request = ContextVar("current_request", default=None)


class RequestContextMiddleware:
    """Make the request being served known to the records it causes; first
    in ``MIDDLEWARE``, so that every other middleware runs inside it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class JSONFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "method", "path", "status",
    "user_id", "traceback"}``, the last five where known, on one line."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = getattr(record, "request", None)
        if not isinstance(request, HttpRequest):  # runserver's records carry a socket there
            request = current_request.get()
        if request is not None:
            entry["method"], entry["path"] = request.method, request.path
            user_id = session_user_id(request)
            if user_id is not None:
                entry["user_id"] = user_id
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def session_user_id(request):
    """The member's id from a session the request has already read, else
    None: reading it now could query the database the record is about."""
    session = getattr(request, "session", None)
    if session is None or not session.accessed:
        return None
    try:
        return session.get(SESSION_KEY)
    except Exception:  # a formatter must never fail; the session's own error is logged elsewhere
        return None


class TracebacksOnly(logging.Filter):
    """Mail only records with a traceback (an unhandled exception): a 503 of
    an outage, or a readiness check failing, is an answer given on purpose
    and would otherwise send a mail per request."""

    def filter(self, record):
        return record.exc_info is not None
