"""Members' accounts read from the cache instead of the database on every request.

Django loads the session's user row on each request that looks at
``request.user``: a database round trip that cost a vote more than the vote
itself. ``CachedModelBackend`` keeps each user in the cache (Redis in
production, shared by every worker), so that a request reads the user and
its generation in one cache round trip.

Every save or delete of a user gives it a new generation, at once and again
when the change commits, and a cached copy is served only under the
generation that was current before its row was read. A request that read
the old row around the change (before the commit) therefore stores a copy
nobody will be served, so a password change, a ban (``is_active``) or a new
staff flag takes effect on the next request, as with Django's own backend:
a changed password still ends every other session at once, because Django
compares the session's hash with the freshly loaded user's.

Writes that bypass ``save()`` (``QuerySet.update``, raw SQL) send no signal;
``USER_CACHE_SECONDS`` bounds how long such a change can go unseen. So does
a process with another cache (a shell or ``changepassword`` run without the
site's ``REDIS_URL``).

The cache must be one that every process shares: a worker's local memory
would keep a user that another worker changed. Settings turn it on
(``AUTH_USER_CACHE``) with Redis, and in the development settings.

While the cache is unavailable (``forum.cache``) users are read from the
database, as by Django's own backend, and nothing is cached. A change the
cache missed then (its new generation could not be stored) shows once the
copies cached before it expire, within ``USER_CACHE_SECONDS``.
"""

from contextlib import suppress
from functools import partial
from uuid import uuid4

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from forum.cache import CacheUnavailable, shared

USER_CACHE_SECONDS = 300


def user_cache_key(user_id):
    return f"auth-user:{user_id}"


def generation_key(user_id):
    return f"auth-user-generation:{user_id}"


def new_generation(user_id):
    """Retire the user's cached copies; while the cache is unavailable they
    expire on their own (see above)."""
    with suppress(CacheUnavailable):
        shared.set(generation_key(user_id), uuid4().hex, timeout=None)


def current_generation(user_id):
    """The user's generation, starting one if the cache has none (a first
    visit, or a cache that was emptied)."""
    shared.add(generation_key(user_id), uuid4().hex, timeout=None)
    return shared.get(generation_key(user_id))


class CachedModelBackend(ModelBackend):
    """Django's ``ModelBackend``, with ``get_user`` answered from the cache."""

    def get_user(self, user_id):
        if not settings.AUTH_USER_CACHE:
            return super().get_user(user_id)
        try:
            user = self._cached_user(user_id)
        except CacheUnavailable:
            user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _cached_user(self, user_id):
        """The user from the cache, or read and cached under the generation
        current before the read. Raises ``CacheUnavailable`` before reading
        the row, never after, so that it is read once."""
        user_key = user_cache_key(user_id)
        found = shared.get_many([user_key, generation_key(user_id)])
        generation, cached = found.get(generation_key(user_id)), found.get(user_key)
        if generation is not None and cached is not None and cached[0] == generation:
            return cached[1]
        generation = generation or current_generation(user_id)
        user = super().get_user(user_id)
        if user is not None and generation is not None:
            with suppress(CacheUnavailable):
                shared.set(user_key, (generation, user), USER_CACHE_SECONDS)
        return user


def forget_user(sender, instance, **kwargs):
    """A new generation now, and another once the change commits: a request
    that read the row before the commit may have cached it in between."""
    new_generation(instance.pk)
    transaction.on_commit(partial(new_generation, instance.pk))


def connect_signals():
    """Called from ``ThreadsConfig.ready`` so that every process that can
    change a user (web workers, ``changepassword``, the shell) retires the
    cached copy, not only those that happen to have loaded this backend."""
    user_model = get_user_model()
    post_save.connect(forget_user, sender=user_model, dispatch_uid="threads.auth.forget_saved_user")
    post_delete.connect(forget_user, sender=user_model, dispatch_uid="threads.auth.forget_deleted_user")
