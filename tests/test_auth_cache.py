"""The session's user comes from the cache, and every change to the account
reaches the next request as if it came from the database."""

from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import connection
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

    def ban_with_new_password(self):
        user = get_user_model().objects.get(pk=self.member.pk)
        user.set_password(NEW_PASSWORD)
        user.is_active = False
        user.save()

    def test_a_copy_read_before_a_ban_is_never_served(self):
        client = logged_in_client("erin")
        read_row = ModelBackend.get_user

        def read_then_lose_the_race(backend, user_id):
            stale = read_row(backend, user_id)
            self.ban_with_new_password()  # another request, before this one stores what it read
            return stale

        cache.clear()
        with (
            self.captureOnCommitCallbacks(execute=True),
            mock.patch.object(ModelBackend, "get_user", read_then_lose_the_race),
        ):
            client.get("/")
        self.assertTrue(cache.get(user_cache_key(self.member.pk))[1].is_active)  # stored...
        self.assertFalse(is_logged_in(client))  # ...but never served

    def test_a_copy_read_while_a_ban_commits_is_never_served(self):
        client = logged_in_client("erin")
        cache.clear()
        stale = get_user_model().objects.get(pk=self.member.pk)
        with self.captureOnCommitCallbacks() as commit:
            self.ban_with_new_password()

        def read_old_row_while_the_ban_commits(backend, user_id):
            # Another connection would still see the old row before the commit.
            for callback in commit:
                callback()
            return stale

        with mock.patch.object(ModelBackend, "get_user", read_old_row_while_the_ban_commits):
            client.get("/")
        self.assertFalse(is_logged_in(client))

    def test_a_refused_login_hashes_the_password_once(self):
        with mock.patch.object(ModelBackend, "authenticate", autospec=True, return_value=None) as check:
            response = self.client.post("/accounts/login/", {"username": "erin", "password": "wrong"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(check.call_count, 1)

    @override_settings(AUTH_USER_CACHE=False)
    def test_without_a_shared_cache_every_request_reads_the_user_row(self):
        client = logged_in_client("erin")
        self.assertEqual(len(user_queries(client)), 1)
        self.assertEqual(len(user_queries(client)), 1)
        self.assertIsNone(cache.get(user_cache_key(self.member.pk)))
