"""Project-level views."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness for load balancers: answers without touching the database or
    the session. Also the trivial view the vote throughput is compared with."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (JSON, files)."""
    return redirect(static("threads/favicon.svg"), permanent=True)
