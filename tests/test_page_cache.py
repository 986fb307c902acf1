"""Visitors' pages from the cache: every write shows on the next view, members
never get a cached page, and no CSRF token reaches another visitor."""

import re
from io import StringIO
from unittest import mock

from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.management import call_command
from django.test import Client, TestCase, override_settings

from forum.cache import breaker
from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL
from tests.factories import make_comment, make_person, make_reply, make_thread, make_user
from tests.html import parse_html
from threads import page_cache, views
from threads.importer import import_dump_file
from threads.models import Thread
from threads.page_cache import CSRF_PLACEHOLDER

CSRF_VALUE_RE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"')
TIME_RE = re.compile(r"<time [^>]*>[^<]*</time>")


def comparable(html):
    """A page without what differs between two renders of the same content:
    the visitor's CSRF tokens and the relative ages of its times."""
    return TIME_RE.sub("<time>", CSRF_VALUE_RE.sub(r'\1"', html))


class FailingCache(BaseCache):
    """A cache whose every call fails, as a Redis that is down does."""

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("the cache is down")

    get = set = add = delete = get_many = set_many = delete_many = clear = incr = touch = has_key = _fail


class VisitorPagesStayFreshTests(TestCase):
    """After each kind of write, the next visitor sees what an uncached render shows."""

    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread("A cached thread", imported_upvotes=4)
        cls.author = make_person("writer", "lemmy.world")
        cls.root = make_comment(cls.thread, body="The first words.", author=cls.author, up=3)
        cls.reply = make_comment(cls.thread, cls.root, body="A reply.", author=cls.author)
        cls.alice = make_user("alice")
        cls.staff = make_user("mod", staff=True)
        cls.staff.is_superuser = True
        cls.staff.save()

    def setUp(self):
        self.visitor = Client()
        self.writer = Client()
        self.own = make_reply(self.alice, self.root, "Alice's own reply.")
        self.urls = [self.thread.get_absolute_url(), f"{self.thread.get_absolute_url()}?all=1", "/"]

    def visit(self):
        """Each page as a visitor, twice: the second answer comes from the cache."""
        pages = {}
        for url in self.urls:
            self.visitor.get(url)
            with self.assertNumQueries(0 if url == "/" else 1):
                pages[url] = self.visitor.get(url).content.decode()
        return pages

    def assert_fresh(self, *expected, absent=()):
        """The visitor's next pages are an uncached render's, and show ``expected``."""
        for url in self.urls:
            cached = self.visitor.get(url).content.decode()
            with override_settings(VISITOR_PAGE_SECONDS=0):
                uncached = Client().get(url).content.decode()
            with self.subTest(url=url):
                self.assertEqual(comparable(cached), comparable(uncached))
                if url != "/":
                    for text in expected:
                        self.assertIn(text, cached)
                    for text in absent:
                        self.assertNotIn(text, cached)

    def test_a_reply(self):
        self.visit()
        self.writer.force_login(self.alice)
        self.writer.post(f"/comments/{self.root.pk}/reply/", {"body": "Fresh words."})
        self.assert_fresh("Fresh words.")
        self.assertContains(self.visitor.get("/"), "4 comments")

    def test_an_edit(self):
        self.visit()
        self.writer.force_login(self.alice)
        self.writer.post(f"/comments/{self.own.pk}/edit/", {"body": "Edited words."})
        self.assert_fresh("Edited words.", absent=["Alice's own reply."])

    def test_a_deletion(self):
        self.visit()
        self.writer.force_login(self.alice)
        self.writer.post(f"/comments/{self.own.pk}/delete/")
        self.assert_fresh("deleted by creator")

    def test_a_removal_by_staff_and_by_the_admin_action(self):
        self.visit()
        self.writer.force_login(self.staff)
        self.writer.post(f"/comments/{self.reply.pk}/remove/")
        self.assert_fresh("Removed by mod", absent=["A reply."])
        self.visit()
        self.writer.post(
            "/admin/threads/comment/",
            {"action": "remove_comments", "_selected_action": [self.own.pk]},
        )
        self.assert_fresh(absent=["Alice's own reply."])

    def test_votes_on_a_comment_and_on_the_thread(self):
        self.visit()
        self.writer.force_login(self.alice)
        self.writer.post(f"/comments/{self.root.pk}/vote/", {"value": "1"})
        self.assert_fresh("(+<span data-upvotes>4</span>")
        self.visit()
        self.writer.post(f"/threads/{self.thread.pk}/vote/", {"value": "-1"})
        self.assert_fresh()
        self.assertContains(self.visitor.get("/"), '<span class="score" data-score>3</span>')

    def test_a_lock(self):
        self.visit()
        self.writer.force_login(self.staff)
        self.writer.post(f"/threads/{self.thread.pk}/lock/", {"locked": "1"})
        self.assert_fresh("locked: no new replies")
        self.assertContains(self.visitor.get("/"), '<span class="locked">locked</span>')

    def test_admin_edits_of_the_thread_a_comment_and_a_person(self):
        self.writer.force_login(self.staff)
        self.visit()
        form = self.writer.get(f"/admin/threads/thread/{self.thread.pk}/change/").context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None}
        data.update(title="A renamed thread", author="", created_at_0="2024-01-01", created_at_1="00:00:00")
        self.writer.post(f"/admin/threads/thread/{self.thread.pk}/change/", data)
        self.assertEqual(Thread.objects.get().title, "A renamed thread")
        self.assert_fresh("A renamed thread")
        self.assertContains(self.visitor.get("/"), "A renamed thread")
        self.visit()
        self.writer.post(
            f"/admin/threads/comment/{self.root.pk}/change/",
            {
                "author": self.author.pk,
                "origin": "imported",
                "status": "normal",
                "badges": "",
                "language": "",
                "body": "Words an admin put right.",
                "imported_upvotes": 3,
                "imported_downvotes": 0,
            },
        )
        self.assert_fresh("Words an admin put right.")
        self.visit()
        self.writer.post(
            f"/admin/threads/person/{self.author.pk}/change/",
            {
                "name": "renamed-writer",
                "instance": "lemmy.world",
                "instance_known": "on",
                "is_bot": "on",
                "created_at_0": "2024-01-01",
                "created_at_1": "00:00:00",
            },
        )
        self.assert_fresh("renamed-writer", "badge-bot")

    def test_an_import_into_the_thread_and_a_new_thread(self):
        thread = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT).thread_id
        self.urls = [Thread.objects.get(pk=thread).get_absolute_url(), "/"]
        self.urls.insert(1, f"{self.urls[0]}?all=1")
        self.visit()
        import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
        self.assert_fresh()
        self.urls = ["/"]
        self.visit()
        make_thread("Imported just now")
        self.assert_fresh()
        self.assertContains(self.visitor.get("/?sort=new"), "Imported just now")

    def test_a_hot_rank_refresh_reorders_the_front_page(self):
        self.urls = ["/"]
        self.visit()
        make_thread("Newer and hotter", imported_upvotes=50)
        call_command("refresh_ranks", stdout=StringIO())
        self.assert_fresh()
        self.assertEqual(parse_html(self.visitor.get("/")).find("a", cls="thread-title").text, "Newer and hotter")


class VisitorCacheBoundsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.comment = make_comment(cls.thread, body="Words.")

    def test_members_never_get_the_visitors_page(self):
        url = self.thread.get_absolute_url()
        self.client.get(url)
        self.client.force_login(make_user("alice"))
        self.client.post(f"/comments/{self.comment.pk}/vote/", {"value": "1"})
        page = self.client.get(url)
        self.assertContains(page, 'class="reply-form"')
        self.assertContains(page, 'aria-pressed="true"')
        self.assertNotContains(page, 'class="login-to-reply"')

    def test_each_visitor_gets_their_own_csrf_token_and_it_works(self):
        url = f"{self.thread.get_absolute_url()}?all=1"
        tokens = []
        for _ in range(2):
            visitor = Client(enforce_csrf_checks=True)
            html = visitor.get(url).content.decode()
            self.assertNotIn(str(CSRF_PLACEHOLDER), html)
            form = parse_html(html).find("form", cls="vote-form")
            token = form.find("input").attrs["value"]
            tokens.append(token)
            # The token matches this visitor's cookie: the vote goes on to the login page, not to a CSRF 403.
            response = visitor.post(form.attrs["action"], {"value": "1", "csrfmiddlewaretoken": token})
            self.assertEqual(response.status_code, 302)
            self.assertIn("/accounts/login/", response["Location"])
        self.assertNotEqual(tokens[0], tokens[1])

    def test_only_canonical_urls_are_stored(self):
        url = self.thread.get_absolute_url()
        for query in ("?utm=1", "?all=2", "?page=01", "?sort=drop", "?new=1", "?sort=new&sort=old"):
            self.client.get(url + query)
            # thread and comments (the layout is cached), where a stored page would cost the thread only
            with (
                self.subTest(query=query),
                self.assertNumQueries(3 if query == "?new=1" else 2),
            ):  # +the new comment's page
                self.client.get(url + query)
        self.client.get("/?page=999")  # shows the last page, under another URL
        with self.assertNumQueries(1):
            self.client.get("/?page=999")

    def test_pages_render_and_writes_go_through_when_the_cache_fails(self):
        url = self.thread.get_absolute_url()
        expected = comparable(self.client.get(url).content.decode())
        member = Client()
        member.force_login(make_user("alice"))
        with mock.patch("forum.cache.cache", FailingCache("", {})):
            for page in (url, f"{url}?all=1", "/"):
                with self.subTest(page=page):
                    response = Client().get(page)
                    self.assertEqual(response.status_code, 200)
                    self.assertNotIn(str(CSRF_PLACEHOLDER), response.content.decode())
            self.assertEqual(comparable(Client().get(url).content.decode()), expected)
            self.assertEqual(member.post(f"/comments/{self.comment.pk}/vote/", {"value": "1"}).status_code, 302)
            self.assertEqual(member.post(f"/comments/{self.comment.pk}/reply/", {"body": "Still"}).status_code, 302)
        breaker.reset()
        self.assertContains(Client().get(url), "Still")

    def test_the_cache_can_be_switched_off(self):
        url = self.thread.get_absolute_url()
        with override_settings(VISITOR_PAGE_SECONDS=0):
            self.client.get(url)
            with self.assertNumQueries(2):  # thread, comments: only the layout comes from the cache
                self.client.get(url)


class OneRenderAtATimeTests(TestCase):
    """Visitors asking for a page that another request is rendering wait for it."""

    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        make_comment(cls.thread, body="Words.")

    def setUp(self):
        self.url = self.thread.get_absolute_url()
        self.renders = mock.patch.object(views, "_thread_page", wraps=views._thread_page)

    def test_a_visitor_gets_the_page_another_request_was_rendering(self):
        real_add, others = cache.add, []

        def add(key, *args):
            # The first visitor finds the render taken by a request that is still at it.
            return False if "visitor-rendering" in key and not others else real_add(key, *args)

        def sleep(seconds):
            if not others:
                others.append("the other request")
                others[0] = Client().get(self.url)  # it finishes, and stores the page

        with (
            self.renders as renders,
            mock.patch.object(cache, "add", side_effect=add),
            mock.patch.object(page_cache.time, "sleep", side_effect=sleep),
        ):
            response = self.client.get(self.url)
        self.assertEqual(renders.call_count, 1)  # the other request's render only
        self.assertEqual(comparable(response.content.decode()), comparable(others[0].content.decode()))
        self.assertNotIn(str(CSRF_PLACEHOLDER), response.content.decode())

    def test_a_render_that_stored_nothing_ends_the_wait(self):
        real_add = cache.add

        def add(key, *args):
            return False if "visitor-rendering" in key else real_add(key, *args)

        with (
            self.renders as renders,
            mock.patch.object(cache, "add", side_effect=add),
            mock.patch.object(page_cache, "RENDER_POLL_SECONDS", 0),
        ):
            self.assertEqual(self.client.get(self.url).status_code, 200)
        self.assertEqual(renders.call_count, 1)
