"""Rate limits on replies, votes, edits, deletions, password changes, sign-ups and logins.

Django throttles nothing itself ("Django does not throttle requests to
authenticate users", its security documentation says), and forums are
hammered from day one: Lemmy and Discourse cap each of these actions. A
fixed window costs one atomic cache increment per request (one more for a
window's first), on local memory or on Redis (``REDIS_URL``), which all
workers then share.

While the cache is unavailable the limits let every request through: an
outage must not lock members out of the site, and the counters are gone
anyway. That is logged when it starts and then once a minute while it
lasts (``forum.cache``), not on every request.
"""

import hashlib
import logging
import time
import unicodedata
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from forum.cache import CacheUnavailable, breaker, shared
from threads.http import wants_json

logger = logging.getLogger(__name__)

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
    limit, _ = parse_rate(settings.RATELIMITS[scope])
    try:
        return _count(scope, identity) <= limit
    except CacheUnavailable:
        _fail_open()
        return True


def _fail_open():
    breaker.warn_during_outage(logger, "Rate limits are not enforced: the cache is unavailable")


def _window_key(scope, identity):
    _, period = parse_rate(settings.RATELIMITS[scope])
    return f"ratelimit:{scope}:{identity}:{int(time.time() // period)}", period


def _count(scope, identity):
    """Add one to ``identity``'s counter for this window; return the new count."""
    key, period = _window_key(scope, identity)
    try:
        return shared.incr(key)
    except ValueError:
        # The window's first attempt; if another request just created the
        # key, count this one on top of it.
        return 1 if shared.add(key, 1, timeout=period + 1) else shared.incr(key)


def _counted(scope, identity):
    return shared.get(_window_key(scope, identity)[0], 0)


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
    the request must stay under (the member, or the address)."""

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


def login_account_key(username):
    """The account a login names, as the login form reads the name (NFKC,
    stripped) and case-folded, so look-alike spellings share one counter;
    hashed, so any name makes a valid cache key."""
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    return f"account:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


def login_ratelimit(view):
    """Limit a login view by failed logins, never by successful ones.

    Counting every attempt per account let anyone lock a member out with
    ten posts a minute. So, as django-axes and Discourse do, only failures
    count (``count_login_failure``), per address and per account, and:

    - an address with ``login``-limit failures in the window is refused
      whatever it sends: guessing from one address stops there;
    - an account with that many failures, from anywhere, still takes a
      login from an address that has not failed in the window, so its
      owner gets in while others guess; each other address gets one
      wrong guess before it is refused for that account.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and settings.RATELIMIT_ENABLED and _login_refused(request):
            return too_many_requests(request, "login")
        return view(request, *args, **kwargs)

    return wrapped


def _login_refused(request):
    limit, _ = parse_rate(settings.RATELIMITS["login"])
    try:
        address_failures = _counted("login", client_key(request))
        if address_failures >= limit:
            return True
        account = login_account_key(request.POST.get("username", ""))
        return address_failures > 0 and _counted("login", account) >= limit
    except CacheUnavailable:
        _fail_open()
        return False


def count_login_failure(sender, credentials, request=None, **kwargs):
    """Receiver of Django's ``user_login_failed``: a refused password (or an
    inactive account) counts against the address and the account named."""
    if request is None or not settings.RATELIMIT_ENABLED:
        return
    try:
        _count("login", client_key(request))
        _count("login", login_account_key(credentials.get("username", "")))
    except CacheUnavailable:
        _fail_open()
