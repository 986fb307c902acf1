"""Logged-out readers' pages from the shared cache, never stale after a write.

Most readers are not logged in and all of them see the same page, so the
thread page (its pages and ``?all=1``) and the front page are kept, as
rendered for visitors, in the default cache (Redis with ``REDIS_URL``,
shared by every worker), as Hacker News serves its logged-out readers.
Members' pages show their own votes and forms and are never served from it.

**Invalidation.** Each page belongs to scopes: every page to ``SITE``, the
front page to ``LISTING``, a thread's pages to ``thread_scope(pk)``. Each
scope has a generation, a random token in the cache, and a page is served
only under the generations it was rendered under (and, for thread pages,
the thread's ``tree_version``, which every tree write bumps in the same
transaction, from any process). Writers call ``changed`` for what they
changed: votes, replies, edits, deletions, removals, locks, imports, admin
edits and hot-rank refreshes (``connect_signals`` covers model saves). A
scope gets a new generation at once and again when the write commits: a
reader that looked between the two and read the database before the
commit stored its page under a generation nobody is served again. A
reader reads the generations before the database, so a page stored under
the current generation was read after the last commit that changed it.
A missing generation (evicted, or never made) is created before the
page is read, so it can never match an older page.

**Per-visitor bits.** The page holds CSRF tokens in its forms. It is
rendered with ``CSRF_PLACEHOLDER`` in their place and every visitor gets
the placeholder replaced with their own token, so no token leaves its
visitor. The placeholder is derived from ``SECRET_KEY``: no one can put it
into a comment to have other visitors' tokens written there.

The same generations keep the front page's thread count (``thread_count``),
which only adding or deleting threads retires.

**One render at a time.** When a page is missing, one request renders it
and the others asking for it under the same generations wait for that
render (``_rendered_meanwhile``) instead of rendering it too.

**Bounds.** Only canonical URLs are stored (known parameters with valid
values, ``canonical_query``), so junk query strings cannot fill the cache;
pages live ``VISITOR_PAGE_SECONDS`` (relative times such as "5 minutes
ago" age that long, and a write the cache never heard of, such as SQL run
by hand, shows within it). ``VISITOR_PAGE_SECONDS = 0`` turns the cache
off. While the cache is unavailable (``forum.cache``) pages are rendered
as without it, and a cache that answers nothing is a miss.
"""

import hashlib
import logging
import time
from functools import partial
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

from forum.cache import CacheUnavailable, breaker, shared

logger = logging.getLogger(__name__)

SITE = "site"
LISTING = "listing"
# The set of threads, which the front page counts.
THREADS = "threads"
# Generations outlive the pages stored under them; one that is gone is made anew.
GENERATION_SECONDS = 24 * 3600
# How long a visitor waits for another request's render of the same page, and how often it looks.
RENDER_WAIT_SECONDS = 10
RENDER_POLL_SECONDS = 0.05

# What forms of a cached page hold instead of a CSRF token: letters and
# digits only, so that escaping leaves it as it is.
CSRF_PLACEHOLDER = SimpleLazyObject(
    lambda: "csrf" + salted_hmac("threads.page_cache.csrf_placeholder", "placeholder").hexdigest()
)


def thread_scope(thread_id):
    return f"thread:{thread_id}"


def _generation_key(scope):
    return f"page-generation:{scope}"


def changed(*scopes):
    """Retire the cached pages of ``scopes`` now and, inside a transaction,
    again when it commits. Call it after the write it is for."""
    _retire(scopes)
    if connection.in_atomic_block:
        transaction.on_commit(partial(_retire, scopes))


def thread_changed(thread_id, *, listed=False):
    """A thread's pages changed; ``listed``: what the front page shows of it too."""
    changed(thread_scope(thread_id), *([LISTING] if listed else []))


def _retire(scopes):
    """New generations for ``scopes``; one scope (a comment vote's) is a plain
    ``SET``, half the cost of django-redis's pipelined ``set_many``. While the
    cache is down there is nothing to retire: it serves no pages."""
    generations = {_generation_key(scope): uuid4().hex for scope in scopes}
    if len(generations) == 1:
        _cached("set", *generations.popitem(), GENERATION_SECONDS)
    else:
        _cached("set_many", generations, GENERATION_SECONDS)


def _cached(method, *args):
    """``forum.cache.shared.<method>(*args)``, or ``None`` while the cache is
    unavailable: the page is then rendered as without the cache."""
    try:
        return getattr(shared, method)(*args)
    except CacheUnavailable:
        breaker.warn_during_outage(logger, "Cache unavailable: visitors' pages are rendered for each request")
        return None


def canonical_query(request, **allowed):
    """True when the query string is one a cached page may be stored under:
    only parameters named in ``allowed``, each once, with a value that its
    test (``allowed[name](value)``) accepts."""
    for name, values in request.GET.lists():
        if name not in allowed or len(values) != 1 or not allowed[name](values[0]):
            return False
    return True


def is_page_number(value):
    """A page number as our links write it: digits, no leading zero."""
    return value.isdigit() and value == str(int(value)) and int(value) > 0


def visitor_page(request, render, *, scopes, version=None, cacheable=True):
    """Answer with ``render(csrf_token)``, an ``HttpResponse``, from the cache
    for logged-out visitors.

    ``scopes`` are what the page shows (``SITE`` is always one of them);
    ``version`` is a value read from the database before the page, which
    the cached page must match too; ``cacheable`` is False for URLs that
    must not be stored (``canonical_query``). Only 200 responses are stored.
    """
    seconds = settings.VISITOR_PAGE_SECONDS
    if not (seconds and cacheable) or request.user.is_authenticated:
        return render(get_token(request))
    key = f"visitor-page:{request.get_full_path()}"
    content, generations = _lookup(key, (SITE, *scopes), version)
    # Who renders this page under these generations: one request at a time.
    rendering = "visitor-rendering:" + hashlib.sha1(f"{key}:{generations}:{version}".encode()).hexdigest()
    if content is None and generations is not None and not _cached("add", rendering, 1, RENDER_WAIT_SECONDS):
        content = _rendered_meanwhile(key, rendering, generations, version)
    if content is not None:
        return HttpResponse(_with_token(content, request))
    try:
        response = render(str(CSRF_PLACEHOLDER))
        if response.status_code == 200:
            _store(key, generations, version, response.content, seconds)
    finally:
        if generations is not None:
            _cached("delete", rendering)
    response.content = _with_token(response.content, request)
    return response


def _rendered_meanwhile(key, rendering, generations, version):
    """Wait for the render another request is making of this page under the
    same generations, and return it; ``None`` if it stored nothing.

    A thread voted on while many visitors read it is retired at every vote,
    and without this each of them would render it at once, all for the
    same generation. The waiting visitor saw the generation current when it
    came, so a page rendered under it shows every write committed by then.
    """
    deadline = time.monotonic() + RENDER_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(RENDER_POLL_SECONDS)
        found = _cached("get_many", [key, rendering]) or {}
        stored = found.get(key)
        if stored is not None and stored[0] == (generations, version):
            return stored[1]
        if rendering not in found:
            return None
    return None


def thread_count():
    """How many threads there are, for the front page's page count: counting
    100,000 rows costs more than the page itself, and threads come and go
    only with imports and the admin (``THREADS`` is retired then)."""
    from threads.models import Thread

    count, generations = _lookup("thread-count", (THREADS,))
    if count is None:
        count = Thread.objects.count()
        _store("thread-count", generations, None, count, GENERATION_SECONDS)
    return count


def _lookup(key, scopes, version=None):
    """Return ``(value, generations)``: the value stored under ``key`` if it
    was stored under the scopes' current generations and ``version``, else
    ``None``; and the generations to store a new value under (``None`` when
    the cache cannot say). Missing generations are made here, before the
    caller reads the database."""
    generation_keys = [_generation_key(scope) for scope in scopes]
    found = _cached("get_many", [*generation_keys, key]) or {}
    generations = tuple(found.get(generation_key) for generation_key in generation_keys)
    stored = found.get(key)
    if None not in generations and stored is not None and stored[0] == (generations, version):
        return stored[1], generations
    if None in generations:
        for generation_key, generation in zip(generation_keys, generations):
            if generation is None:
                _cached("add", generation_key, uuid4().hex, GENERATION_SECONDS)
        found = _cached("get_many", generation_keys) or {}
        generations = tuple(found.get(generation_key) for generation_key in generation_keys)
    return None, None if None in generations else generations


def _store(key, generations, version, value, seconds):
    if generations is not None:
        _cached("set", key, ((generations, version), value), seconds)


def _with_token(content, request):
    return content.replace(str(CSRF_PLACEHOLDER).encode(), get_token(request).encode())


def _thread_saved(sender, instance, created=False, **kwargs):
    thread_changed(instance.pk, listed=True)
    if created:
        changed(THREADS)


def _thread_deleted(sender, instance, **kwargs):
    thread_changed(instance.pk, listed=True)
    changed(THREADS)


def _person_saved(sender, instance, created=False, **kwargs):
    """A person's name, host or bot flag shows on every page they wrote on;
    a new person shows nowhere yet."""
    if not created:
        changed(SITE)


def _user_deleted(sender, instance, **kwargs):
    """Deleting an account deletes its votes, which moves counts on any page."""
    changed(SITE)


def connect_signals():
    """Model saves that change what pages show: the admin's edits, and the
    importer's thread updates (its comment writes bump ``tree_version``).
    Called from ``ThreadsConfig.ready``."""
    from threads.models import Person, Thread

    post_save.connect(_thread_saved, sender=Thread, dispatch_uid="threads.page_cache.thread_saved")
    post_delete.connect(_thread_deleted, sender=Thread, dispatch_uid="threads.page_cache.thread_deleted")
    post_save.connect(_person_saved, sender=Person, dispatch_uid="threads.page_cache.person_saved")
    post_delete.connect(_person_saved, sender=Person, dispatch_uid="threads.page_cache.person_deleted")
    post_delete.connect(_user_deleted, sender=get_user_model(), dispatch_uid="threads.page_cache.user_deleted")
