from unittest import skipUnless
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client, TestCase, TransactionTestCase
from django.utils import timezone

from tests.factories import make_comment, make_thread, make_user
from threads.models import Comment, Thread, Vote
from threads.voting import cast_vote

JSON = {"HTTP_ACCEPT": "application/json"}


class CastVoteTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread(imported_upvotes=10, imported_downvotes=2)
        cls.comment = make_comment(cls.thread, up=5, down=1)
        cls.alice, cls.bob = make_user("alice"), make_user("bob")

    def assert_counters_equal_rows(self, target):
        target.refresh_from_db()
        votes = (
            Vote.objects.filter(comment=target)
            if isinstance(target, Comment)
            else Vote.objects.filter(thread=target, comment=None)
        )
        self.assertEqual(target.local_upvotes, votes.filter(value=1).count())
        self.assertEqual(target.local_downvotes, votes.filter(value=-1).count())

    def test_up_up_down_clear_keeps_counters_equal_to_rows(self):
        for target in (self.comment, self.thread):
            for value, expected in ((1, (1, 0)), (1, (1, 0)), (-1, (0, 1)), (0, (0, 0)), (0, (0, 0)), (-1, (0, 1))):
                with self.subTest(target=type(target).__name__, value=value):
                    result = cast_vote(self.alice, type(target), target.pk, value)
                    target.refresh_from_db()
                    self.assertEqual((target.local_upvotes, target.local_downvotes), expected)
                    self.assertEqual(result.vote, value)
                    self.assert_counters_equal_rows(target)
                    self.assertLessEqual(Vote.objects.filter(user=self.alice).count(), 2)

    def test_two_members_add_up_on_top_of_imported_counts(self):
        cast_vote(self.alice, Comment, self.comment.pk, 1)
        result = cast_vote(self.bob, Comment, self.comment.pk, -1)
        self.assertEqual((result.upvotes, result.downvotes, result.score), (6, 2, 4))
        self.assert_counters_equal_rows(self.comment)

    def test_comment_vote_row_carries_its_thread(self):
        cast_vote(self.alice, Comment, self.comment.pk, 1)
        self.assertEqual(Vote.objects.get(user=self.alice).thread, self.thread)

    def test_other_values_are_refused(self):
        with self.assertRaises(ValueError):
            cast_vote(self.alice, Comment, self.comment.pk, 5)

    def test_missing_target_raises_does_not_exist_and_writes_nothing(self):
        for model in (Comment, Thread):
            with self.subTest(model=model.__name__), self.assertRaises(model.DoesNotExist):
                cast_vote(self.alice, model, 10**9, 1)
        self.assertFalse(Vote.objects.exists())

    def test_vote_row_records_when_it_was_cast_as_the_orm_would(self):
        before = timezone.now()
        cast_vote(self.alice, Comment, self.comment.pk, 1)
        created_at = Vote.objects.get().created_at
        self.assertLessEqual(before, created_at)
        # Stored in the ORM's own form, so lookups on the column find it.
        self.assertTrue(Vote.objects.filter(created_at=created_at).exists())

    def test_deleting_a_members_account_takes_their_votes_out_of_the_counts(self):
        cast_vote(self.alice, Comment, self.comment.pk, 1)
        cast_vote(self.alice, Thread, self.thread.pk, -1)
        cast_vote(self.bob, Comment, self.comment.pk, 1)
        self.alice.delete()
        self.comment.refresh_from_db()
        self.thread.refresh_from_db()
        self.assertEqual((self.comment.local_upvotes, self.comment.local_downvotes), (1, 0))
        self.assertEqual((self.thread.local_upvotes, self.thread.local_downvotes), (0, 0))

    def test_vote_rows_written_outside_cast_vote_still_move_the_counters(self):
        """The counters are the database's job, whoever writes the rows."""
        vote = Vote.objects.create(user=self.alice, thread=self.thread, comment=self.comment, value=-1)
        self.assert_counters_equal_rows(self.comment)
        vote.comment = None
        vote.save()
        self.assert_counters_equal_rows(self.comment)
        self.assert_counters_equal_rows(self.thread)
        self.assertEqual(Thread.objects.get().local_downvotes, 1)
        vote.delete()
        self.assert_counters_equal_rows(self.thread)


class VoteEndpointTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread(imported_upvotes=3)
        cls.comment = make_comment(cls.thread, up=5, down=1)
        cls.member = make_user()

    def setUp(self):
        self.client.force_login(self.member)

    def test_json_vote_answers_new_counts(self):
        response = self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "1"}, **JSON)
        self.assertEqual(response.json(), {"upvotes": 6, "downvotes": 1, "score": 5, "vote": 1})
        response = self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "-1"}, **JSON)
        self.assertEqual(response.json(), {"upvotes": 5, "downvotes": 2, "score": 3, "vote": -1})
        response = self.client.post(f"/threads/{self.thread.pk}/vote/", {"value": "1"}, **JSON)
        self.assertEqual(response.json(), {"upvotes": 4, "downvotes": 0, "score": 4, "vote": 1})

    def test_answer_is_json_only_when_accept_prefers_it(self):
        url = f"/comments/{self.comment.pk}/vote/"
        for accept, json in (
            ("application/json", True),
            ("application/json, text/plain, */*", True),
            ("Application/JSON", True),
            ("application/*", True),
            ("text/html;q=0.9, application/json", True),
            ("text/html, application/json;q=0.5", False),
            ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
            ("*/*", False),
            (None, False),
        ):
            with self.subTest(accept=accept):
                headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
                response = self.client.post(url, {"value": "1"}, **headers)
                self.assertEqual(response.status_code, 200 if json else 302)
                self.assertEqual(response["Content-Type"] == "application/json", json)

    def test_form_vote_redirects_back_to_the_comment(self):
        referer = f"http://testserver{self.thread.get_absolute_url()}?sort=top"
        response = self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "1"}, HTTP_REFERER=referer)
        self.assertRedirects(response, f"{self.thread.get_absolute_url()}?sort=top#comment-{self.comment.pk}")
        response = self.client.post(f"/threads/{self.thread.pk}/vote/", {"value": "1"})
        self.assertRedirects(response, f"{self.thread.get_absolute_url()}#thread")

    def test_foreign_referer_is_ignored(self):
        response = self.client.post(
            f"/comments/{self.comment.pk}/vote/", {"value": "1"}, HTTP_REFERER="https://evil.example/phish"
        )
        self.assertRedirects(response, f"{self.thread.get_absolute_url()}#comment-{self.comment.pk}")
        response = self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "0", "next": "//evil.example/"})
        self.assertEqual(response["Location"], f"{self.thread.get_absolute_url()}#comment-{self.comment.pk}")

    def test_bad_values_are_400_not_500(self):
        for value in ("5", "up", "", "1.0"):
            with self.subTest(value=value):
                self.assertEqual(
                    self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": value}).status_code, 400
                )
                response = self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": value}, **JSON)
                self.assertEqual(response.status_code, 400)
                self.assertIn("value", response.json()["errors"])
        self.assertFalse(Vote.objects.exists())

    def test_get_is_refused(self):
        self.assertEqual(self.client.get(f"/comments/{self.comment.pk}/vote/").status_code, 405)
        self.assertEqual(self.client.get(f"/threads/{self.thread.pk}/vote/").status_code, 405)

    def test_placeholder_cannot_be_voted_on(self):
        placeholder = make_comment(self.thread, is_placeholder=True)
        response = self.client.post(f"/comments/{placeholder.pk}/vote/", {"value": "1"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Vote.objects.exists())

    def test_deleted_and_removed_comments_take_no_votes(self):
        cast_vote(self.member, Comment, self.comment.pk, 1)
        for status in (Comment.Status.DELETED, Comment.Status.REMOVED):
            Comment.objects.filter(pk=self.comment.pk).update(status=status)
            for value in ("1", "-1", "0"):
                with self.subTest(status=status, value=value):
                    url = f"/comments/{self.comment.pk}/vote/"
                    self.assertEqual(self.client.post(url, {"value": value}).status_code, 403)
                    response = self.client.post(url, {"value": value}, **JSON)
                    self.assertEqual(response.status_code, 403)
                    self.assertIn("error", response.json())
                    with self.assertRaises(PermissionDenied):
                        cast_vote(self.member, Comment, self.comment.pk, int(value))
            comment = Comment.objects.select_related("thread").get(pk=self.comment.pk)
            self.assertFalse(comment.can_vote(self.member))
            page = self.client.get(self.thread.get_absolute_url()).content.decode()
            self.assertNotIn(f'action="/comments/{self.comment.pk}/vote/"', page)
        # The vote cast before stays, and so do the counters.
        self.assertEqual(list(Vote.objects.values_list("comment_id", "value")), [(self.comment.pk, 1)])
        self.comment.refresh_from_db()
        self.assertEqual((self.comment.local_upvotes, self.comment.local_downvotes), (1, 0))

    def test_extra_fields_are_ignored(self):
        other = make_user("other")
        self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "1", "user": other.pk, "local_upvotes": 100})
        vote = Vote.objects.get()
        self.assertEqual(vote.user, self.member)
        self.comment.refresh_from_db()
        self.assertEqual(self.comment.local_upvotes, 1)


class AnonymousVoteTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.comment = make_comment(cls.thread)

    def test_anonymous_vote_goes_to_login_and_back_to_the_comment(self):
        page = self.thread.get_absolute_url() + "?sort=new"
        response = self.client.post(
            f"/comments/{self.comment.pk}/vote/", {"value": "1"}, HTTP_REFERER=f"http://testserver{page}"
        )
        back = f"{page}#comment-{self.comment.pk}"
        self.assertRedirects(response, f"/accounts/login/?next={quote(back, safe='/')}", fetch_redirect_response=False)
        make_user("voter")
        response = self.client.post(
            "/accounts/login/", {"username": "voter", "password": "a-long-test-password-42", "next": back}
        )
        self.assertRedirects(response, back, fetch_redirect_response=False)
        self.assertFalse(Vote.objects.exists())

    def test_anonymous_json_vote_is_401_with_login_url(self):
        response = self.client.post(f"/threads/{self.thread.pk}/vote/", {"value": "1"}, **JSON)
        self.assertEqual(response.status_code, 401)
        self.assertTrue(response.json()["login_url"].startswith("/accounts/login/?next="))
        self.assertEqual(Thread.objects.get().local_upvotes, 0)


class VoteCsrfTests(TestCase):
    def test_vote_without_csrf_token_is_refused(self):
        thread = make_thread()
        comment = make_comment(thread)
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user())
        self.assertEqual(client.post(f"/comments/{comment.pk}/vote/", {"value": "1"}).status_code, 403)
        self.assertEqual(client.post(f"/threads/{thread.pk}/vote/", {"value": "1"}).status_code, 403)
        self.assertFalse(Vote.objects.exists())

    def test_vote_with_the_page_token_passes(self):
        thread = make_thread()
        comment = make_comment(thread)
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user())
        client.get(thread.get_absolute_url())
        token = client.cookies["csrftoken"].value
        response = client.post(f"/comments/{comment.pk}/vote/", {"value": "1"}, HTTP_X_CSRFTOKEN=token, **JSON)
        self.assertEqual(response.json()["vote"], 1)


def synchronous_commit():
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


RECORD_COMMIT_MODE = """
CREATE FUNCTION test_record_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO test_vote_commit_modes (mode) VALUES (current_setting('synchronous_commit'));
    RETURN NULL;
END
$$
"""


@pytest.mark.postgres
@skipUnless(connection.vendor == "postgresql", "votes commit asynchronously only on PostgreSQL")
class AsynchronousVoteCommitTests(TransactionTestCase):
    """The ``synchronous_commit`` a vote's own transaction commits with, as a
    trigger on the vote rows reads it inside that transaction."""

    def setUp(self):
        self.thread = make_thread()
        self.comment = make_comment(self.thread)
        self.member = make_user()
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE test_vote_commit_modes (id serial PRIMARY KEY, mode text NOT NULL)")
            cursor.execute(RECORD_COMMIT_MODE)
            cursor.execute(
                "CREATE TRIGGER test_record_commit_mode AFTER INSERT OR UPDATE OR DELETE ON threads_vote "
                "FOR EACH ROW EXECUTE FUNCTION test_record_commit_mode()"
            )
        self.addCleanup(self.drop_the_recorder)

    def drop_the_recorder(self):
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_record_commit_mode ON threads_vote")
            cursor.execute("DROP FUNCTION test_record_commit_mode()")
            cursor.execute("DROP TABLE test_vote_commit_modes")

    def commit_modes(self):
        """The modes recorded since the last call, oldest first."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT mode FROM test_vote_commit_modes ORDER BY id")
            modes = [row[0] for row in cursor.fetchall()]
            cursor.execute("DELETE FROM test_vote_commit_modes")
        return modes

    def test_a_vote_that_is_its_own_transaction_commits_asynchronously(self):
        for model, pk in ((Comment, self.comment.pk), (Thread, self.thread.pk)):
            for value in (1, -1, 0):
                with self.subTest(model=model.__name__, value=value):
                    result = cast_vote(self.member, model, pk, value)
                    self.assertEqual((result.upvotes, result.downvotes), {1: (1, 0), -1: (0, 1), 0: (0, 0)}[value])
                    self.assertEqual(self.commit_modes(), ["off"])
                    self.assertEqual(synchronous_commit(), "on")  # for that transaction only

    def test_a_vote_inside_a_callers_transaction_leaves_its_commit_synchronous(self):
        with transaction.atomic():
            cast_vote(self.member, Comment, self.comment.pk, 1)
            self.assertEqual(synchronous_commit(), "on")
        self.assertEqual(self.commit_modes(), ["on"])
        transaction.set_autocommit(False)
        try:
            cast_vote(self.member, Comment, self.comment.pk, -1)
            self.assertEqual(synchronous_commit(), "on")
            transaction.commit()
        finally:
            transaction.set_autocommit(True)
        self.assertEqual(self.commit_modes(), ["on"])
        self.assertEqual(Vote.objects.get().value, -1)
