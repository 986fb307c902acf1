"""Project-level views."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from threads.http import wants_json


@require_GET
def healthz(request):
    """Liveness for load balancers: answers without touching the database or
    the session. Also the trivial view the vote throughput is compared with."""
    return HttpResponse("ok", content_type="text/plain")


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
