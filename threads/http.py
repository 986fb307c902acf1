"""HTTP helpers of the views: who gets JSON, where a request goes next, and
the members-only gate.

A ``next`` value or a Referer is followed only when it points at this site
(``url_has_allowed_host_and_scheme``), so no form of ours can be turned into
an open redirect.
"""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from threads.pages import PAGE_DEPTH


def wants_json(request):
    """True for the page's scripts, which ask for JSON; browsers' own
    navigations prefer HTML even though they accept ``*/*``.

    The two common answers skip Django's Accept parsing, which cost a vote
    a tenth of its time: our scripts send exactly ``application/json``, and
    a header that names neither JSON nor ``application/*`` cannot prefer it."""
    accept = request.META.get("HTTP_ACCEPT", "")
    if accept == "application/json":
        return True
    lowered = accept.lower()
    if "json" not in lowered and "application/*" not in lowered:
        return False
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def with_anchor(url, anchor):
    return f"{url.split('#', 1)[0]}#{anchor}" if anchor else url


def is_safe(request, url):
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def back_url(request, fallback, anchor, *, use_referer=True):
    """The page the request came from (``next``, else a same-site Referer,
    else ``fallback``), as a path, pointing at ``anchor``."""
    candidates = [request.POST.get("next"), request.GET.get("next")]
    if use_referer:
        candidates.append(request.headers.get("Referer"))
    for url in candidates:
        if is_safe(request, url):
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            # The path alone must be safe too: "http://us//evil.example" leaves "//evil.example".
            if is_safe(request, path) and not path.startswith(("//", "/\\")):
                return with_anchor(path + (f"#{parts.fragment}" if parts.fragment else ""), anchor)
    return with_anchor(fallback, anchor)


def login_url(next_url):
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"


def members_only(come_back_to=None):
    """Let only members through to the view; send visitors to log in.

    The page's scripts get 401 with ``{"login_url": ...}`` (docs/web-contract.md),
    browsers a redirect to that URL. After logging in, a GET comes back to
    the page it asked for; a POST to the page its form was on (``next``, a
    same-site Referer), else to ``come_back_to(request, **view_kwargs)``,
    which returns ``(page, anchor)``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            if request.method == "GET" or come_back_to is None:
                back = request.get_full_path()
            else:
                back = back_url(request, *come_back_to(request, **kwargs))
            if wants_json(request):
                return JsonResponse({"login_url": login_url(back)}, status=401)
            return redirect(login_url(back))

        return wrapped

    return decorator


def new_comment_url(comment):
    """The page that shows a reply just posted, marked new and scrolled to.

    Replies deeper than the thread page shows land on their parent's page.
    """
    if comment.level < PAGE_DEPTH:
        base = comment.thread.get_absolute_url()
    else:
        base = reverse("threads:comment", args=[comment.parent_id])
    return f"{base}?new={comment.pk}#comment-{comment.pk}"


def int_param(params, name):
    """A positive integer query parameter, or None when absent or malformed."""
    try:
        value = int(params.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None
