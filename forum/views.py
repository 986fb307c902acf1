"""Project-level views: health, the site's own error answers, the favicon."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from forum.cache import cache_is_available
from threads.http import back_url, wants_json
from threads.replies import DUPLICATE_WINDOW

logger = logging.getLogger(__name__)

# What a 503 asks clients to wait: PostgreSQL restarts in seconds, and each
# worker reconnects on its next request.
RETRY_AFTER_SECONDS = 2


@require_GET
def healthz(request):
    """Liveness for load balancers: answers without touching the database or
    the session. Also the trivial view the vote throughput is compared with."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def readyz(request):
    """Readiness for load balancers: 503 while the database does not answer.
    The cache is reported but fails nothing, since the site serves without
    it (docs/operations.md). Says "ok" or "unavailable", never why: the
    reasons are in the log."""
    checks = {"database": database_is_available(), "cache": cache_is_available()}
    return JsonResponse(
        {name: "ok" if available else "unavailable" for name, available in checks.items()},
        status=200 if checks["database"] else 503,
    )


def database_is_available():
    """Whether the database answers a query. A kept connection that the
    server closed since its last use (a restart) fails its first query, so
    the check then tries a new connection, as the next request would."""
    for reconnect in (False, True):
        if reconnect:
            connection.close()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except DatabaseError as error:
            failure = error
    logger.warning("Readiness: the database is unavailable (%s)", str(failure).strip())
    return False


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (JSON, files)."""
    return redirect(static("threads/favicon.svg"), permanent=True)


def permission_denied(request, exception):
    """403: the refusal's reason as JSON for the page's scripts, else the
    site's own page. Services raise ``PermissionDenied`` with the reason;
    views never catch it."""
    message = str(exception)
    if wants_json(request):
        return JsonResponse({"error": message or "You cannot do that here."}, status=403)
    return render(request, "403.html", {"message": message}, status=403)


def database_unavailable(request):
    """503 with ``Retry-After`` for a request whose database connection was
    lost (``forum.middleware``): JSON for the page's scripts, which retry
    once, else a page that says a form just sent may already be stored. The
    page reads neither the session nor the user, which need the database."""
    message = f"The forum lost its connection to its database. Please try again in {RETRY_AFTER_SECONDS} seconds."
    if wants_json(request):
        response = JsonResponse({"error": message, "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        context = {
            "message": message,
            "sent": request.method == "POST",
            "back": back_url(request, resolve_url("threads:home"), ""),
            "duplicate_minutes": int(DUPLICATE_WINDOW.total_seconds() // 60),
        }
        response = render(request, "503.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
