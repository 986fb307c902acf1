"""Profiles: karma kept by the database, comments paged by keyset."""

from datetime import UTC, datetime, timedelta

from django.db.models import F, Sum
from django.test import TestCase, TransactionTestCase

from tests.conftest import CAPTURED_AT, SEED_FULL
from tests.factories import make_comment, make_person, make_reply, make_thread, make_user
from tests.html import parse_html
from threads.importer import import_dump, import_dump_file
from threads.models import Comment, KarmaChange, Person
from threads.replies import delete_comment, remove_comment
from threads.voting import cast_vote

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)


def summed_karma(person):
    """Karma as the profile used to add it up on every view."""
    totals = person.comments.visible_on_profile().aggregate(
        total=Sum(F("imported_upvotes") + F("local_upvotes") - F("imported_downvotes") - F("local_downvotes"))
    )
    return totals["total"] or 0


class KarmaIsKeptTests(TestCase):
    def assert_karma_kept(self):
        for person in Person.objects.with_karma():
            with self.subTest(person=person.handle):
                self.assertEqual(person.karma, summed_karma(person))

    def test_through_imports_votes_deletions_removals_edits_and_folds(self):
        import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
        self.assertTrue(KarmaChange.objects.exists())
        self.assert_karma_kept()
        alice, bob, staff = make_user("alice"), make_user("bob"), make_user("mod", staff=True)
        comments = list(Comment.objects.real().order_by("pk")[:6])
        for number, comment in enumerate(comments):
            cast_vote(alice, Comment, comment.pk, 1 if number % 2 else -1)
            cast_vote(bob, Comment, comment.pk, 1)
        cast_vote(bob, Comment, comments[0].pk, 0)
        self.assert_karma_kept()
        remove_comment(Comment.objects.get(pk=comments[1].pk), staff)
        Comment.objects.filter(pk=comments[2].pk).update(imported_upvotes=F("imported_upvotes") + 40)
        Comment.objects.filter(pk=comments[3].pk).update(author=make_person("someone-else"))
        reply = make_reply(alice, comments[4], "Mine.")
        cast_vote(bob, Comment, reply.pk, 1)
        self.assert_karma_kept()
        delete_comment(Comment.objects.select_related("author").get(pk=reply.pk), alice)
        KarmaChange.objects.fold()
        self.assertFalse(KarmaChange.objects.exists())
        self.assert_karma_kept()
        # A re-import of the same capture changes nothing; deleting the thread takes its karma away.
        import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
        self.assert_karma_kept()
        Comment.objects.filter(status=Comment.Status.NORMAL, is_placeholder=False).first().thread.delete()
        KarmaChange.objects.fold()
        self.assertFalse(Person.objects.exclude(comment_karma=0).exists())

    def test_replies_without_score_log_nothing(self):
        thread = make_thread()
        make_reply(make_user("alice"), thread, "No score yet.")
        self.assertFalse(KarmaChange.objects.exists())


class KarmaThroughCommittedImportsTests(TransactionTestCase):
    """The triggers' changes commit with an import and fold after it (outside
    a test's transaction, as in production)."""

    def test_a_committed_import_is_kept_and_folded(self):
        report = import_dump(SEED_FULL.read_text(encoding="utf-8"), source="seed.txt", captured_at=CAPTURED_AT)
        self.assertTrue(report.added)
        for person in Person.objects.with_karma():
            self.assertEqual(person.karma, summed_karma(person))
        KarmaChange.objects.fold()
        for person in Person.objects.all():
            self.assertEqual(person.comment_karma, summed_karma(person))


class ProfilePagingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.author = make_person("writer", "lemmy.world")
        cls.comments = []
        for number in range(70):
            # Pairs share a time; every seventh has none, and lists last.
            created = None if number % 7 == 6 else MOMENT - timedelta(hours=number // 2)
            cls.comments.append(make_comment(cls.thread, author=cls.author, created_at=created, up=number % 3))
        make_comment(cls.thread, author=cls.author, status=Comment.Status.DELETED, created_at=MOMENT)

    def listed(self):
        dated = sorted((c for c in self.comments if c.created_at), key=lambda c: (c.created_at, c.pk), reverse=True)
        undated = sorted((c for c in self.comments if not c.created_at), key=lambda c: c.pk, reverse=True)
        return [c.pk for c in dated + undated]

    def ids(self, response):
        return [
            int(li.attrs["id"].removeprefix("comment-"))
            for li in parse_html(response).find_all("li", cls="profile-comment")
        ]

    def links(self, response):
        nav = parse_html(response).find("nav", cls="pagination")
        return {a.attrs["rel"]: a.attrs["href"] for a in nav.find_all("a")} if nav else {}

    def test_older_links_walk_every_comment_once_and_newer_links_walk_back(self):
        url, pages = "/u/writer@lemmy.world", []
        response = self.client.get(url)
        while True:
            pages.append(self.ids(response))
            older = self.links(response).get("next")
            if not older:
                break
            response = self.client.get(url + older)
        self.assertEqual([pk for page in pages for pk in page], self.listed())
        self.assertEqual([len(page) for page in pages], [25, 25, 20])
        self.assertNotIn("prev", self.links(self.client.get(url)))
        back = []
        while "prev" in self.links(response):
            response = self.client.get(url + self.links(response)["prev"])
            back.append(self.ids(response))
        self.assertEqual(back, pages[-2::-1])

    def test_karma_and_query_count_are_pinned(self):
        response = self.client.get("/u/writer@lemmy.world")
        self.assertContains(response, f"{sum(number % 3 for number in range(70))} comment karma")
        third = self.links(self.client.get("/u/writer@lemmy.world" + self.links(response)["next"]))["next"]
        with self.assertNumQueries(2):  # the person with their karma, a page of dated comments
            self.client.get("/u/writer@lemmy.world")
        with self.assertNumQueries(3):  # where the dated run out, the undated follow
            self.client.get(f"/u/writer@lemmy.world{third}")

    def test_a_cursor_not_written_here_is_404(self):
        self.assertEqual(self.client.get("/u/writer@lemmy.world?after=junk").status_code, 404)
        self.assertEqual(self.client.get("/u/writer@lemmy.world?before=WyJ4IiwxXQ").status_code, 404)
