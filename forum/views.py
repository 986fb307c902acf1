"""Project-level views."""

from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness for load balancers: answers without touching the database or
    the session. Also the trivial view the vote throughput is compared with."""
    return HttpResponse("ok", content_type="text/plain")
