"""A lost database connection answered 503 with ``Retry-After``, not 500."""

import logging

from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.utils.log import log_response

from forum.views import database_unavailable

logger = logging.getLogger(__name__)


class DatabaseOutageMiddleware:
    """Answer 503 when a view fails because its database connection is gone.

    A PostgreSQL restart, a failover or a terminated backend closes the
    connections Django keeps open (``CONN_MAX_AGE``): the next query on each
    fails, and Django opens a new one for the next request (at once with
    ``DJANGO_CONN_HEALTH_CHECKS``). Those requests did nothing wrong, so they
    get 503 and ``Retry-After``, which tell browsers, scripts and proxies to
    try again, and a page or JSON that says what happened: a write may have
    committed before the connection died, and a reply sent again is posted
    once (``threads.replies.create_reply``). An error on a connection that
    still works is a bug and stays a 500, logged with its traceback."""

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
    """Whether ``error`` came from a database connection that no longer
    works: the server closed it, or none could be opened."""
    if not isinstance(error, (OperationalError, InterfaceError)):
        return False
    return connection.connection is None or not connection.is_usable()
