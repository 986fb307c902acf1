"""Rate limits on replies, votes, sign-ups and logins, counted in the cache.

Django throttles nothing itself ("Django does not throttle requests to
authenticate users", its security documentation says), and forums are
hammered from day one: Lemmy and Discourse cap each of these actions. A
fixed window costs one atomic cache increment per request (one more for a
window's first), on local memory or on Redis (``REDIS_URL``), which all
workers then share.
"""

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render

from threads.http import wants_json

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_WORDS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


def parse_rate(rate):
    """``"10/m"`` → ``(10, 60)``."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period]


def client_ip(request):
    if settings.RATELIMIT_TRUST_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


def client_key(request):
    return f"ip:{client_ip(request)}"


def requester(request):
    """Members are counted by account, visitors by address."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return client_key(request)


def allow(scope, identity):
    """Count one attempt; False once ``identity`` is over the ``scope`` limit."""
    if not settings.RATELIMIT_ENABLED:
        return True
    limit, period = parse_rate(settings.RATELIMITS[scope])
    key = f"ratelimit:{scope}:{identity}:{int(time.time() // period)}"
    try:
        count = cache.incr(key)
    except ValueError:
        # The window's first attempt; if another request just created the
        # key, count this one on top of it.
        count = 1 if cache.add(key, 1, timeout=period + 1) else cache.incr(key)
    return count <= limit


def too_many_requests(request, scope):
    limit, period = parse_rate(settings.RATELIMITS[scope])
    message = f"Too many {scope} requests: the limit is {limit} per {PERIOD_WORDS[period]}. Please wait and try again."
    if wants_json(request):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(period)
    return response


def ratelimit(scope, identities=(requester,)):
    """Limit POSTs to a view; each function in ``identities`` names a counter
    the request must stay under (for example the address and the username)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                for identity in identities:
                    if not allow(scope, identity(request)):
                        return too_many_requests(request, scope)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def login_username_key(request):
    """Failed logins are also counted per account, whatever the address."""
    return f"username:{request.POST.get('username', '').strip().lower()}"
