from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    PASSWORD,
    import_seed_dumps,
    make_big_thread,
    make_chain,
    make_comment,
    make_person,
    make_reply,
    make_thread,
    make_user,
)
from tests.html import parse_html
from threads.comment_tree import fetch_nodes
from threads.models import Comment, Thread
from threads.pages import COMMENTS_PER_PAGE, TOP_LEVEL_PER_PAGE
from threads.trees import find_tree_problems


def comment_items(response):
    """The page's ``li.comment`` elements, in page order."""
    return [li for li in parse_html(response).find_all("li", cls="comment") if li.attrs["id"].startswith("comment-")]


def comment_ids(response):
    """Comment ids in page order."""
    return [int(li.attrs["id"].removeprefix("comment-")) for li in comment_items(response)]


def comment_html(response, pk):
    """One comment's own markup: its <li> up to its replies or its end."""
    html = response.content.decode()
    start = html.index(f'id="comment-{pk}"')
    end = min(i for i in (html.find('<ol class="comment-list">', start), html.find("</details>", start)) if i != -1)
    return html[start:end]


class HomePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        cls.old = make_thread("Old but loved", created_at=now - timedelta(days=30), imported_upvotes=500)
        cls.fresh = make_thread("Fresh and small", created_at=now - timedelta(hours=1), imported_upvotes=5)
        cls.middle = make_thread("Yesterday's news", created_at=now - timedelta(days=1), imported_upvotes=50)

    def titles(self, response):
        return [thread.title for thread in response.context["threads"]]

    def test_lists_threads_with_title_score_comment_count_and_age(self):
        make_comment(self.fresh)
        response = self.client.get("/")
        self.assertContains(response, f'href="{self.fresh.get_absolute_url()}"')
        self.assertContains(response, '<span class="score" data-score>5</span> points', html=False)
        self.assertContains(response, "1 comment<")
        self.assertContains(response, "<time datetime=")

    def test_hot_sort_ranks_recent_activity_first(self):
        self.assertEqual(self.titles(self.client.get("/")), ["Fresh and small", "Yesterday's news", "Old but loved"])

    def test_top_sort_orders_by_score(self):
        response = self.client.get("/?sort=top")
        self.assertEqual(self.titles(response), ["Old but loved", "Yesterday's news", "Fresh and small"])

    def test_new_sort_orders_by_age(self):
        response = self.client.get("/?sort=new")
        self.assertEqual(self.titles(response), ["Fresh and small", "Yesterday's news", "Old but loved"])

    def test_unknown_sort_falls_back_to_hot(self):
        self.assertEqual(self.client.get("/?sort=drop table").context["sort"], "hot")

    def test_paginates_threads(self):
        for number in range(30):
            make_thread(f"Filler {number}")
        first = self.client.get("/?sort=new")
        self.assertEqual(len(first.context["threads"]), 25)
        self.assertContains(first, 'rel="next" href="?sort=new&amp;page=2"')
        self.assertEqual(len(self.client.get("/?sort=new&page=2").context["threads"]), 8)

    def test_query_count_is_pinned_for_visitors_and_members(self):
        for number in range(30):
            make_thread(f"Filler {number}")
        with self.assertNumQueries(2):  # the thread count, then the page's threads with their authors
            self.client.get("/")
        with self.assertNumQueries(0):  # visitors now get the page from the cache
            self.client.get("/")
        self.client.force_login(make_user())
        with self.assertNumQueries(2):  # the user, read once, and the threads; the count is cached
            self.client.get("/")
        with self.assertNumQueries(1):  # the user now comes from the cache too
            self.client.get("/")


class ThreadPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = import_seed_dumps()
        cls.url = cls.thread.get_absolute_url()

    def test_shows_article_and_whole_tree_nested(self):
        response = self.client.get(self.url)
        self.assertContains(response, f'<article class="thread" id="thread" data-thread-id="{self.thread.pk}">')
        self.assertContains(response, '<section class="comments" id="comments" aria-label="Comments">')
        self.assertEqual(sorted(comment_ids(response)), sorted(Comment.objects.values_list("pk", flat=True)))
        html = response.content.decode()
        for comment in Comment.objects.exclude(parent=None):
            # Each comment's <li> lies inside its parent's <li>.
            parent_at = html.index(f'id="comment-{comment.parent_id}"')
            self.assertLess(parent_at, html.index(f'id="comment-{comment.pk}"'))
            self.assertIn(f'data-parent="{comment.parent_id}"', comment_html(response, comment.pk))

    def test_stale_or_missing_slug_redirects_permanently(self):
        response = self.client.get(f"/threads/{self.thread.pk}/old-slug/?sort=new")
        self.assertRedirects(response, self.url + "?sort=new", status_code=301)
        self.assertRedirects(self.client.get(f"/threads/{self.thread.pk}/"), self.url, status_code=301)

    def test_unknown_thread_is_404(self):
        self.assertEqual(self.client.get("/threads/999/whatever/").status_code, 404)

    def test_api_url_is_the_thread_page(self):
        url = self.client.get("/api/threads/").json()["threads"][0]["url"]
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_comment_head_shows_author_instance_badges_score_age(self):
        bot = Comment.objects.get(author__name="AutoTL;DR")
        head = comment_html(self.client.get(self.url), bot.pk)
        self.assertIn('<a class="author" href="/u/AutoTL;DR@lemmings.world">AutoTL;DR</a>', head)
        self.assertIn('<span class="instance">@lemmings.world</span>', head)
        self.assertIn('class="badge badge-bot"', head)
        self.assertIn('<span class="score" data-score>2</span> points', head)
        self.assertIn("(+<span data-upvotes>2</span>/−<span data-downvotes>0</span>)", head)
        time = parse_html(head).find("time")
        self.assertEqual(time.attrs, {"datetime": "2024-06-22T12:00:00+00:00", "title": "2024-06-22 12:00 UTC"})
        self.assertRegex(time.text, r"^\d+ \w+ ago$")
        self.assertIn('<span class="visually-hidden">Level 1</span>', head)

    def test_edited_comment_is_marked(self):
        edited = Comment.objects.filter(edited_at__isnull=False).first()
        self.assertIn('<span class="edited">edited</span>', comment_html(self.client.get(self.url), edited.pk))

    def test_op_mod_admin_badges(self):
        comment = make_comment(self.thread, badges="op,mod,admin")
        head = comment_html(self.client.get(self.url), comment.pk)
        self.assertIn('<span class="badge badge-op" title="original poster">OP</span>', head)
        self.assertIn('<span class="badge badge-mod" title="moderator">M</span>', head)
        self.assertIn('<span class="badge badge-admin" title="admin">A</span>', head)

    def test_collapse_markup_is_details_with_hidden_reply_count(self):
        root = Comment.objects.get(parent=None, position=0)
        head = comment_html(self.client.get(self.url), root.pk)
        self.assertIn('<details class="comment-fold" open><summary class="comment-head">', head)
        self.assertIn(f'<span class="hidden-count">{root.descendant_count} replies hidden</span>', head)

    def test_placeholder_reads_not_available_and_keeps_replies(self):
        placeholder = Comment.objects.get(is_placeholder=True)
        response = self.client.get(self.url)
        html = comment_html(response, placeholder.pk)
        self.assertIn('class="comment is-placeholder"', response.content.decode())
        self.assertIn("comment not available", html)
        self.assertNotIn("vote-form", html)
        self.assertNotIn("reply-link", html)
        child = placeholder.get_children().get()
        self.assertIn(child.pk, comment_ids(response))

    def test_deleted_and_removed_comments_say_so_and_keep_replies(self):
        deleted = Comment.objects.get(author__name="palordrolap")
        removed = Comment.objects.get(author__name="BombOmOm", parent__parent=None)
        Comment.objects.filter(pk=deleted.pk).update(status=Comment.Status.DELETED)
        Comment.objects.filter(pk=removed.pk).update(status=Comment.Status.REMOVED)
        response = self.client.get(self.url)
        self.assertIn("deleted by creator", comment_html(response, deleted.pk))
        self.assertNotIn("NK’s narrative", comment_html(response, deleted.pk))
        self.assertIn("Removed by mod", comment_html(response, removed.pk))
        self.assertContains(response, 'class="comment is-deleted"')
        self.assertContains(response, 'class="comment is-removed"')
        ids = comment_ids(response)
        for reply in [*deleted.get_descendants(), *removed.get_descendants()]:
            self.assertIn(reply.pk, ids)

    def test_bodies_keep_paragraphs_and_link_bare_urls(self):
        comment = make_comment(
            self.thread, body="First line\nsecond line\n\nSee https://example.org/a?b=1\n\n• one\n• two"
        )
        body = comment_html(self.client.get(self.url), comment.pk)
        self.assertIn("<p>First line<br>second line</p>", body)
        self.assertIn('<a href="https://example.org/a?b=1" rel="nofollow ugc noopener">', body)
        self.assertIn("<ul><li>one</li><li>two</li></ul>", body)

    def test_imported_hostile_text_is_shown_as_text(self):
        author = make_person('"><script>alert(1)</script>', "evil.example")
        comment = make_comment(
            self.thread, body='<img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>', author=author
        )
        html = self.client.get(self.url).content.decode()
        self.assertNotIn("<script>alert(1)", html)
        self.assertNotIn("<img src=x", html)
        self.assertNotIn('href="javascript:', html)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", comment_html(self.client.get(self.url), comment.pk))

    def test_anonymous_sees_vote_buttons_and_reply_links_but_no_reply_form(self):
        response = self.client.get(self.url)
        self.assertContains(response, 'aria-label="Upvote"')
        self.assertContains(response, 'aria-label="Downvote"')
        self.assertContains(response, 'class="reply-link"')
        self.assertNotContains(response, 'class="reply-form"')
        self.assertContains(response, 'class="login-to-reply"')

    def test_member_sees_reply_form_and_own_vote_pressed(self):
        member = make_user()
        root = Comment.objects.get(parent=None, position=0)
        self.client.force_login(member)
        self.client.post(f"/comments/{root.pk}/vote/", {"value": "1"})
        self.client.post(f"/threads/{self.thread.pk}/vote/", {"value": "-1"})
        response = self.client.get(self.url)
        self.assertContains(
            response, f'<form class="reply-form" method="post" action="/threads/{self.thread.pk}/reply/">'
        )
        self.assertContains(response, '<textarea name="body"')
        head = comment_html(response, root.pk)
        self.assertIn('<button name="value" value="0" class="vote-up" aria-label="Upvote" aria-pressed="true">', head)
        self.assertIn(
            '<button name="value" value="-1" class="vote-down" aria-label="Downvote" aria-pressed="false">', head
        )
        self.assertContains(response, 'value="0" class="vote-down" aria-label="Downvote" aria-pressed="true"')

    def test_locked_thread_shows_no_reply_form_or_links(self):
        Thread.objects.filter(pk=self.thread.pk).update(is_locked=True)
        self.client.force_login(make_user())
        response = self.client.get(self.url)
        self.assertNotContains(response, 'class="reply-form"')
        self.assertNotContains(response, 'class="reply-link"')
        self.assertContains(response, "locked")

    def test_staff_sees_remove_and_lock_forms_members_do_not(self):
        self.client.force_login(make_user())
        response = self.client.get(self.url)
        self.assertNotContains(response, "remove-form")
        self.assertNotContains(response, "lock-form")
        self.client.force_login(make_user("mod", staff=True))
        response = self.client.get(self.url)
        self.assertContains(response, 'class="remove-form"')
        self.assertContains(
            response, f'<form class="lock-form" method="post" action="/threads/{self.thread.pk}/lock/">'
        )

    def test_author_sees_edit_and_delete_on_own_reply_only(self):
        alice, bob = make_user("alice"), make_user("bob")
        reply = make_reply(alice, self.thread)
        self.client.force_login(alice)
        own = comment_html(self.client.get(self.url), reply.pk)
        self.assertIn(f'href="/comments/{reply.pk}/edit/"', own)
        self.assertIn(f'action="/comments/{reply.pk}/delete/"', own)
        self.client.force_login(bob)
        self.assertNotIn("edit-link", comment_html(self.client.get(self.url), reply.pk))
        self.assertEqual(find_tree_problems(), [])

    def test_new_marks_the_comment(self):
        comment = Comment.objects.get(parent=None, position=0)
        response = self.client.get(f"{self.url}?new={comment.pk}")
        self.assertContains(response, f'<li class="comment is-new" id="comment-{comment.pk}"')
        self.assertContains(response, 'class="comment is-new"', count=1)

    def test_per_comment_markup_stays_lean(self):
        member = make_user()
        self.client.force_login(member)
        response = self.client.get(self.url)
        nodes = fetch_nodes(Comment.objects.filter(thread=self.thread))
        text = sum(
            len(node.body_html) + len(node.author_name or "") * 2 + len(node.author_instance or "") * 2
            for node in nodes
        )
        section = response.content.decode().split('<section class="comments"')[1].split("</section>")[0]
        self.assertLess((len(section.encode()) - text) / len(nodes), 1500)


class CommentSortTests(TestCase):
    """Siblings follow Lemmy's formulas on imported plus local counts."""

    @classmethod
    def setUpTestData(cls):
        now = timezone.now()
        cls.thread = make_thread()
        cls.popular_old = make_comment(cls.thread, up=100, down=5, created_at=now - timedelta(days=3))
        cls.split = make_comment(cls.thread, up=40, down=38, created_at=now - timedelta(days=2))
        cls.fresh = make_comment(cls.thread, up=3, down=0, created_at=now - timedelta(minutes=5))
        cls.undated = make_comment(cls.thread, up=1, down=0)
        cls.url = cls.thread.get_absolute_url()

    def order(self, sort):
        return comment_ids(self.client.get(f"{self.url}?sort={sort}"))

    def test_hot_is_the_default(self):
        self.assertEqual(self.order("hot"), comment_ids(self.client.get(self.url)))
        self.assertEqual(self.order("hot")[0], self.fresh.pk)

    def test_top_orders_by_score(self):
        self.assertEqual(self.order("top"), [self.popular_old.pk, self.fresh.pk, self.split.pk, self.undated.pk])

    def test_new_and_old_put_unknown_times_last(self):
        self.assertEqual(self.order("new"), [self.fresh.pk, self.split.pk, self.popular_old.pk, self.undated.pk])
        self.assertEqual(self.order("old"), [self.popular_old.pk, self.split.pk, self.fresh.pk, self.undated.pk])

    def test_controversial_puts_evenly_split_votes_first(self):
        self.assertEqual(self.order("controversial")[:2], [self.split.pk, self.popular_old.pk])

    def test_local_votes_count_in_the_order(self):
        Comment.objects.filter(pk=self.undated.pk).update(local_upvotes=500)
        self.assertEqual(self.order("top")[0], self.undated.pk)

    def test_ties_keep_the_dump_order(self):
        thread = make_thread("Ties")
        first, second = make_comment(thread, up=2), make_comment(thread, up=2)
        self.assertEqual(comment_ids(self.client.get(f"{thread.get_absolute_url()}?sort=top")), [first.pk, second.pk])

    def test_sort_links_mark_the_current_one(self):
        self.assertContains(
            self.client.get(f"{self.url}?sort=old"), '<a href="?sort=old" aria-current="true">old</a>', html=True
        )


class DepthAndPagingTests(TestCase):
    def test_continue_this_thread_beyond_depth_eight(self):
        thread = make_thread()
        chain = make_chain(thread, 10)
        response = self.client.get(thread.get_absolute_url())
        ids = comment_ids(response)
        self.assertEqual(ids, [comment.pk for comment in chain[:8]])
        self.assertContains(
            response, f'<a class="continue-thread" href="/comments/{chain[7].pk}/">continue this thread</a>'
        )
        deeper = self.client.get(f"/comments/{chain[7].pk}/")
        self.assertEqual(comment_ids(deeper), [comment.pk for comment in chain[7:]])
        self.assertEqual(comment_ids(self.client.get(f"{thread.get_absolute_url()}?all=1")), [c.pk for c in chain])

    def test_top_level_subtrees_are_paged(self):
        thread = make_thread()
        tops = [make_comment(thread, body=f"Top {number}") for number in range(TOP_LEVEL_PER_PAGE + 2)]
        url = thread.get_absolute_url()
        first = self.client.get(url)
        self.assertEqual(len(comment_ids(first)), TOP_LEVEL_PER_PAGE)
        self.assertContains(first, 'rel="next" href="?sort=hot&amp;page=2#comments"')
        self.assertEqual(comment_ids(self.client.get(f"{url}?page=2")), [tops[-2].pk, tops[-1].pk])
        self.assertEqual(self.client.get(f"{url}?page=3").status_code, 404)
        self.assertEqual(len(comment_ids(self.client.get(f"{url}?all=1"))), TOP_LEVEL_PER_PAGE + 2)

    def test_page_links_keep_the_sort_and_lead_back_and_to_everything(self):
        thread = make_thread()
        for number in range(TOP_LEVEL_PER_PAGE + 2):
            make_comment(thread, body=f"Top {number}")
        second = self.client.get(f"{thread.get_absolute_url()}?sort=new&page=2&new=1")
        self.assertContains(second, 'rel="prev" href="?sort=new&amp;page=1#comments"')
        self.assertNotContains(second, 'rel="next"')
        self.assertContains(second, '<a href="?sort=new&amp;all=1#comments">all comments</a>')
        for number in range(30):
            make_thread(f"Filler {number}")
        home = self.client.get("/?sort=top&page=2&new=5")
        self.assertContains(home, 'rel="prev" href="?sort=top&amp;page=1"')
        self.assertNotContains(home, "all comments")

    def test_a_huge_subtree_gets_load_more_replies(self):
        thread = make_big_thread(COMMENTS_PER_PAGE + 60, top_level=1)
        response = self.client.get(thread.get_absolute_url())
        self.assertLessEqual(len(comment_ids(response)), COMMENTS_PER_PAGE)
        self.assertContains(response, '<li class="load-more"><a href="/comments/')
        self.assertEqual(find_tree_problems(), [])

    def test_thread_page_query_count_does_not_grow_with_comments(self):
        small, large = make_big_thread(20, top_level=5), make_big_thread(300, top_level=20)
        member = make_user()
        self.client.force_login(member)
        self.client.get("/")  # the member's first request caches their user row
        for thread in (small, large):
            with self.subTest(comments=thread.comment_count):
                # thread, top-level rows, comment rows, the member's votes; the
                # session and the user come from the cache
                with self.assertNumQueries(4):
                    response = self.client.get(thread.get_absolute_url())
                self.assertEqual(len(comment_ids(response)), thread.comment_count)
        self.client.logout()
        cache.clear()
        with self.assertNumQueries(3):  # thread, top-level layout, page comments
            self.client.get(large.get_absolute_url())
        with self.assertNumQueries(2):  # the same layout, now from the cache, for another URL of that page
            self.client.get(f"{large.get_absolute_url()}?sort=hot")
        with self.assertNumQueries(1):  # the thread; the visitors' page comes from the cache
            self.client.get(large.get_absolute_url())
        with self.assertNumQueries(2):  # thread, every comment
            self.client.get(f"{large.get_absolute_url()}?all=1")
        with self.assertNumQueries(1):
            self.client.get(f"{large.get_absolute_url()}?all=1")
        self.assertEqual(find_tree_problems(), [])


class CommentPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.chain = make_chain(cls.thread, 5)
        cls.sibling = make_comment(cls.thread, cls.chain[3], body="A sibling branch.")

    def test_shows_the_comment_with_its_subtree_only(self):
        response = self.client.get(f"/comments/{self.chain[3].pk}/")
        self.assertEqual(comment_ids(response), [self.chain[3].pk, self.chain[4].pk, self.sibling.pk])

    def test_links_to_parent_thread_and_context(self):
        response = self.client.get(f"/comments/{self.chain[4].pk}/")
        self.assertContains(
            response, f'class="parent-link" href="/comments/{self.chain[3].pk}/#comment-{self.chain[3].pk}"'
        )
        self.assertContains(response, f'href="{self.thread.get_absolute_url()}#comment-{self.chain[4].pk}"')
        self.assertContains(
            response, f'class="context-link" href="/comments/{self.chain[1].pk}/#comment-{self.chain[4].pk}"'
        )

    def test_top_level_comment_has_no_parent_link(self):
        response = self.client.get(f"/comments/{self.chain[0].pk}/")
        self.assertNotContains(response, "context-link")

    def test_unknown_comment_is_404(self):
        self.assertEqual(self.client.get("/comments/999999/").status_code, 404)

    def test_query_count_is_pinned(self):
        self.client.force_login(make_user())
        # user, comment+thread, ancestors, subtree, votes (session from the cache)
        with self.assertNumQueries(5):
            self.client.get(f"/comments/{self.chain[2].pk}/")


class ProfilePageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.author = make_person("writer", "lemmy.world")
        now = timezone.now()
        cls.older = make_comment(
            cls.thread, author=cls.author, up=10, down=2, body="Older words.", created_at=now - timedelta(days=2)
        )
        cls.newer = make_comment(cls.thread, author=cls.author, up=3, down=1, body="Newer words.", created_at=now)
        make_comment(cls.thread, author=cls.author, up=50, status=Comment.Status.REMOVED, body="Removed words.")

    def test_imported_author_profile_lists_comments_newest_first_with_karma(self):
        response = self.client.get("/u/writer@lemmy.world")
        self.assertEqual(response.context["page"].items, [self.newer, self.older])
        self.assertContains(response, "10 comment karma")
        self.assertNotContains(response, "Removed words.")

    def test_author_links_on_thread_page_lead_to_profile(self):
        self.assertEqual(self.author.get_absolute_url(), "/u/writer@lemmy.world")
        self.assertContains(self.client.get(self.thread.get_absolute_url()), 'href="/u/writer@lemmy.world"')

    def test_member_profile_by_username(self):
        member = make_user("carol")
        make_reply(member, self.thread, "Carol was here.")
        response = self.client.get("/u/carol")
        self.assertContains(response, "Carol was here.")
        self.assertEqual(find_tree_problems(), [])

    def test_unknown_person_is_404(self):
        self.assertEqual(self.client.get("/u/nobody@nowhere.example").status_code, 404)


class RenderingAgreesWithModelTests(TestCase):
    """What a page offers on each comment is what the model's rules allow."""

    def offered(self, thread):
        """Per comment id, the classes of what its own actions offer on the whole-thread page."""
        offered = {}
        for li in comment_items(self.client.get(f"{thread.get_absolute_url()}?all=1")):
            fold = li.find("details", cls="comment-fold")
            actions = next(child for child in fold.children if "comment-actions" in child.classes)
            offered[int(li.attrs["data-id"])] = {name for element in actions.iter() for name in element.classes}
        return offered

    def test_links_and_forms_match_can_reply_vote_edit_delete_remove(self):
        thread = import_seed_dumps()
        alice, bob, staff = make_user("alice"), make_user("bob"), make_user("mod", staff=True)
        reply = make_reply(alice, Comment.objects.get(parent=None, position=0))
        deleted_reply = make_reply(alice, reply, "Soon gone.")
        Comment.objects.filter(pk__in=[reply.pk - 1, deleted_reply.pk]).update(status=Comment.Status.DELETED)
        Comment.objects.filter(parent=None, position=1).update(status=Comment.Status.REMOVED)
        for locked in (False, True):
            Thread.objects.filter(pk=thread.pk).update(is_locked=locked)
            for user in (alice, bob, staff):
                self.client.force_login(user)
                offered = self.offered(thread)
                for comment in Comment.objects.filter(thread=thread).select_related("thread", "author"):
                    actions = offered[comment.pk]
                    with self.subTest(locked=locked, user=user.username, comment=comment.pk):
                        self.assertEqual("reply-link" in actions, comment.can_reply(user))
                        self.assertEqual("vote-form" in actions, comment.can_vote(user))
                        self.assertEqual("edit-link" in actions, comment.can_edit(user))
                        self.assertEqual("delete-form" in actions, comment.can_delete(user))
                        self.assertEqual("remove-form" in actions, comment.can_remove(user))
        # Both answers were asked for: alice may edit one reply of hers and not the other.
        self.assertTrue(Comment.objects.get(pk=reply.pk).can_edit(alice))
        self.assertFalse(Comment.objects.get(pk=deleted_reply.pk).can_edit(alice))
        self.assertEqual(find_tree_problems(), [])

    def test_hardcoded_paths_match_the_urlconf(self):
        self.assertEqual(reverse("threads:comment-vote", args=[7]), "/comments/7/vote/")
        self.assertEqual(reverse("threads:comment-reply", args=[7]), "/comments/7/reply/")
        self.assertEqual(reverse("threads:comment", args=[7]), "/comments/7/")
        self.assertEqual(reverse("threads:comment-edit", args=[7]), "/comments/7/edit/")
        self.assertEqual(reverse("threads:comment-delete", args=[7]), "/comments/7/delete/")
        self.assertEqual(reverse("threads:comment-remove", args=[7]), "/comments/7/remove/")
        self.assertEqual(reverse("threads:profile", args=["AutoTL;DR@lemmings.world"]), "/u/AutoTL;DR@lemmings.world")


class BaseLayoutTests(TestCase):
    def test_every_page_has_header_main_css_and_deferred_js_and_no_inline_script(self):
        thread = make_thread()
        comment = make_comment(thread)
        for url in [
            "/",
            thread.get_absolute_url(),
            f"/comments/{comment.pk}/",
            "/u/someone@lemmy.world",
            "/accounts/login/",
            "/accounts/signup/",
        ]:
            with self.subTest(url=url):
                html = self.client.get(url).content.decode()
                self.assertIn('<main id="content">', html)
                self.assertIn('<header class="site-header">', html)
                self.assertIn('<meta name="viewport" content="width=device-width, initial-scale=1">', html)
                self.assertIn('<link rel="stylesheet" href="/static/threads/forum.css">', html)
                self.assertIn('<script src="/static/threads/forum.js" defer></script>', html)
                document = parse_html(html)
                self.assertTrue(all("src" in script.attrs for script in document.find_all("script")))
                self.assertEqual([name for e in document.iter() for name in e.attrs if name.startswith("on")], [])
                self.assertNotIn(" style=", html)

    def test_header_shows_username_logout_and_password_change_for_members(self):
        self.client.login(username=make_user("dora").username, password=PASSWORD)
        response = self.client.get("/")
        self.assertContains(response, '<a class="username" href="/u/dora">dora</a>', html=True)
        self.assertContains(response, 'action="/accounts/logout/"')
        self.assertContains(response, 'href="/accounts/password_change/"')


class CachedLayoutTests(TestCase):
    def test_new_top_level_reply_shows_at_once_despite_the_cached_layout(self):
        thread = make_big_thread(300, top_level=60)
        newest_first = f"{thread.get_absolute_url()}?sort=new"
        before = comment_ids(self.client.get(newest_first))  # caches the layout for this sort
        self.client.force_login(make_user("fresh"))
        response = self.client.post(
            f"/threads/{thread.pk}/reply/", {"body": "Brand new"}, HTTP_ACCEPT="application/json"
        )
        after = comment_ids(self.client.get(newest_first))
        self.assertNotIn(response.json()["id"], before)
        self.assertEqual(after[0], response.json()["id"])


class ListingColumnsTests(TestCase):
    """Listings read the columns they show, never the articles: two 30 MB
    articles made the home page take seconds and workers grow past a GB."""

    @classmethod
    def setUpTestData(cls):
        author = make_person("poster", "lemmy.world")
        for number in range(3):
            make_thread(
                f"Long read {number}", body="A long article. " * 1000, author=author, source_instance="lemmy.world"
            )

    def assert_no_article_read(self, url, queries):
        with CaptureQueriesContext(connection) as captured:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(captured), queries)
        for query in captured.captured_queries:
            self.assertNotIn('"threads_thread"."body"', query["sql"])
            self.assertNotIn('"threads_thread"."body_html"', query["sql"])
        return response

    def test_home_page_reads_no_article(self):
        response = self.assert_no_article_read("/", queries=2)
        self.assertContains(response, "Long read 2")
        self.assertContains(response, 'class="author" href="/u/poster@lemmy.world">poster</a>')
        self.assertContains(response, "from lemmy.world")

    def test_api_thread_list_reads_no_article(self):
        response = self.assert_no_article_read("/api/threads/", queries=1)
        threads = response.json()["threads"]
        self.assertEqual([thread["title"] for thread in threads], [f"Long read {n}" for n in (2, 1, 0)])
        self.assertEqual(
            set(threads[0]),
            {
                "id",
                "title",
                "title_source",
                "url",
                "author",
                "community",
                "upvotes",
                "downvotes",
                "score",
                "comment_count",
                "created_at",
            },
        )
        self.assertEqual(
            threads[0]["author"], {"name": "poster", "instance": "lemmy.world", "badges": [], "bot": False}
        )
