"""The session's user comes from the cache, and every change to the account
reaches the next request as if it came from the database."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from tests.factories import PASSWORD, make_user
from threads.auth import user_cache_key

NEW_PASSWORD = "another-long-password-77"


def logged_in_client(username):
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def user_queries(client, path="/"):
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return [query["sql"] for query in queries if '"auth_user"' in query["sql"]]


def is_logged_in(client):
    return '<a class="username"' in client.get("/").content.decode()


class CachedUserTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.member = make_user("erin")

    def test_member_requests_after_the_first_read_no_user_row(self):
        client = logged_in_client("erin")
        self.assertEqual(len(user_queries(client)), 1)
        self.assertEqual(user_queries(client), [])
        self.assertTrue(is_logged_in(client))

    def test_password_change_ends_the_members_other_sessions_at_once(self):
        changer, other = logged_in_client("erin"), logged_in_client("erin")
        self.assertTrue(is_logged_in(other))  # its user is now cached
        response = changer.post(
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        self.assertRedirects(response, "/accounts/password_change/done/")
        self.assertTrue(is_logged_in(changer))
        self.assertFalse(is_logged_in(other))

    def test_password_set_elsewhere_also_ends_sessions(self):
        client = logged_in_client("erin")
        self.assertTrue(is_logged_in(client))
        user = get_user_model().objects.get(username="erin")
        user.set_password(NEW_PASSWORD)
        user.save()
        self.assertFalse(is_logged_in(client))

    def test_deactivated_or_deleted_member_is_logged_out_on_the_next_request(self):
        for change in ("deactivate", "delete"):
            with self.subTest(change=change):
                user = make_user(f"to-{change}")
                client = logged_in_client(user.username)
                self.assertTrue(is_logged_in(client))
                if change == "deactivate":
                    user.is_active = False
                    user.save()
                else:
                    user.delete()
                self.assertFalse(is_logged_in(client))

    def test_new_staff_flag_shows_on_the_next_request(self):
        client = logged_in_client("erin")
        self.assertEqual(client.get("/admin/").status_code, 302)
        self.member.is_staff = True
        self.member.is_superuser = True
        self.member.save()
        self.assertEqual(client.get("/admin/").status_code, 200)

    def test_a_stale_copy_cached_before_the_commit_is_dropped_after_it(self):
        client = logged_in_client("erin")
        stale = get_user_model().objects.get(username="erin")
        with self.captureOnCommitCallbacks(execute=True), transaction.atomic():
            user = get_user_model().objects.get(username="erin")
            user.set_password(NEW_PASSWORD)
            user.save()
            # A request that read the row before this transaction commits
            # caches the old password hash.
            cache.set(user_cache_key(user.pk), stale)
        self.assertIsNone(cache.get(user_cache_key(user.pk)))
        self.assertFalse(is_logged_in(client))

    @override_settings(AUTH_USER_CACHE=False)
    def test_without_a_shared_cache_every_request_reads_the_user_row(self):
        client = logged_in_client("erin")
        self.assertEqual(len(user_queries(client)), 1)
        self.assertEqual(len(user_queries(client)), 1)
        self.assertIsNone(cache.get(user_cache_key(self.member.pk)))
