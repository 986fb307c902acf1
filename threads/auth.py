"""Members' accounts read from the cache instead of the database on every request.

Django loads the session's user row on each request that looks at
``request.user``: a database round trip that cost a vote more than the vote
itself. ``CachedModelBackend`` keeps each user in the cache (Redis in
production, shared by every worker) and drops the entry whenever the row is
saved or deleted, so a password change, a ban (``is_active``) or a new staff
flag takes effect on the next request, as with Django's own backend: a
changed password still ends every other session at once, because Django
compares the session's hash with the freshly loaded user's.

Writes that bypass ``save()`` (``QuerySet.update``, raw SQL) send no signal;
``USER_CACHE_SECONDS`` bounds how long such a change can go unseen.

The cache must be one that every process shares: a worker's local memory
would keep a user that another worker changed. Settings turn it on
(``AUTH_USER_CACHE``) with Redis, and for the single process of
development and tests.
"""

from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

USER_CACHE_SECONDS = 300


def user_cache_key(user_id):
    return f"auth-user:{user_id}"


class CachedModelBackend(ModelBackend):
    """Django's ``ModelBackend``, with ``get_user`` answered from the cache."""

    def get_user(self, user_id):
        if not settings.AUTH_USER_CACHE:
            return super().get_user(user_id)
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            cache.set(key, user, USER_CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None


def forget_user(sender, instance, **kwargs):
    """Drop the cached copy now, and again once the change commits: a
    request that read the old row just before the commit may have cached
    it in between."""
    key = user_cache_key(instance.pk)
    cache.delete(key)
    transaction.on_commit(partial(cache.delete, key))


def connect_signals():
    """Called from ``ThreadsConfig.ready`` so that every process that can
    change a user (web workers, ``changepassword``, the shell) drops the
    cached copy, not only those that happen to have loaded this backend."""
    user_model = get_user_model()
    post_save.connect(forget_user, sender=user_model, dispatch_uid="threads.auth.forget_saved_user")
    post_delete.connect(forget_user, sender=user_model, dispatch_uid="threads.auth.forget_deleted_user")
