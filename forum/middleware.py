"""A lost database connection answered 503 with ``Retry-After``, not 500."""

import logging

import psycopg
from django.db.utils import InterfaceError, OperationalError
from django.utils.log import log_response

from forum.views import database_unavailable

logger = logging.getLogger(__name__)

# SQLSTATEs of a connection PostgreSQL ended or would not open: class 08
# (connection exception), 57P (shutting down, crashed, connection
# terminated) and 53300 (too many connections).
LOST_CONNECTION_SQLSTATES = ("08", "57P", "53300")


class DatabaseOutageMiddleware:
    """Answer 503 when a view fails because its database connection is gone.

    A PostgreSQL restart, a failover or a terminated backend closes the
    connections Django keeps open (``CONN_MAX_AGE``): the next query on each
    fails, and Django opens a new one for the next request (at once with
    ``DJANGO_CONN_HEALTH_CHECKS``). Those requests did nothing wrong, so they
    get 503 and ``Retry-After``, which tell browsers, scripts and proxies to
    try again, and a page or JSON that says what happened: a write may have
    committed before the connection died, and a reply sent again is posted
    once (``threads.replies.create_reply``). Any other database error (a
    deadlock, a timeout, a mistake in SQL) stays a 500, logged with its
    traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not connection_lost(exception):
            return None
        response = database_unavailable(request)
        # One line per answer, with the cause; a warning, not an error: mailing
        # admins once per request of an outage helps nobody.
        log_response(
            "Database connection lost (%s): %s",
            str(exception).strip(),
            request.path,
            response=response,
            request=request,
            logger=logger,
            level="warning",
        )
        return response


def connection_lost(error):
    """Whether ``error``, Django's wrapper of the driver's error, means the
    database connection is gone. The state of the connection afterwards
    cannot tell: leaving a transaction, Django replaces a broken connection
    with a new one. psycopg reports a connection the server ended with one
    of those SQLSTATEs, and one it found broken or could not open with none
    (no server answered); it raises InterfaceError for a connection already
    closed. SQLite has no connection to lose."""
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    cause = error.__cause__
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if isinstance(cause, psycopg.OperationalError):
        return cause.sqlstate is None or cause.sqlstate.startswith(LOST_CONNECTION_SQLSTATES)
    return False
