from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.test import Client, TestCase

from tests.factories import make_chain, make_comment, make_reply, make_thread, make_user
from threads.models import Comment, Thread
from threads.replies import create_reply
from threads.trees import find_tree_problems

JSON = {"HTTP_ACCEPT": "application/json"}


class TreeSoundnessMixin:
    def tearDown(self):
        self.assertEqual(find_tree_problems(), [])
        super().tearDown()


class ReplyTests(TreeSoundnessMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.root = make_comment(cls.thread, body="The first comment.")
        cls.older_reply = make_comment(cls.thread, cls.root, body="An older reply.")
        cls.member = make_user()

    def setUp(self):
        self.client.force_login(self.member)

    def test_reply_to_comment_is_its_last_child_and_redirects_to_it_marked_new(self):
        response = self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "I *agree*."})
        reply = Comment.objects.get(body="I *agree*.")
        url = f"{self.thread.get_absolute_url()}?new={reply.pk}#comment-{reply.pk}"
        self.assertRedirects(response, url, fetch_redirect_response=False)
        self.assertEqual(reply.parent, self.root)
        self.assertEqual(reply.position, self.older_reply.position + 1)
        self.root.refresh_from_db()
        self.assertEqual(list(self.root.get_children()), [self.older_reply, reply])
        self.assertEqual(
            (reply.origin, reply.author.user, reply.body_html), ("local", self.member, "<p>I <em>agree</em>.</p>\n")
        )
        self.assertIsNotNone(reply.created_at)
        page = self.client.get(url)
        self.assertContains(page, f'<li class="comment is-new" id="comment-{reply.pk}"')
        self.assertEqual(Thread.objects.get().comment_count, 3)

    def test_reply_to_thread_is_a_new_top_level_comment(self):
        self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": "Top-level words."})
        reply = Comment.objects.get(body="Top-level words.")
        self.assertIsNone(reply.parent)
        self.assertEqual(reply.position, 1)
        self.assertNotEqual(reply.tree_id, self.root.tree_id)

    def test_json_reply_answers_the_rendered_item(self):
        response = self.client.post(f"/comments/{self.older_reply.pk}/reply/", {"body": "Via script."}, **JSON)
        self.assertEqual(response.status_code, 201)
        data = response.json()
        reply = Comment.objects.get(pk=data["id"])
        self.assertEqual(data["parent_id"], self.older_reply.pk)
        self.assertTrue(
            data["html"].startswith(
                f'<li class="comment is-new" id="comment-{reply.pk}" data-id="{reply.pk}" data-depth="2" data-parent="{self.older_reply.pk}">'
            )
        )
        self.assertIn("<p>Via script.</p>", data["html"])
        self.assertIn(f'href="/comments/{reply.pk}/edit/"', data["html"])
        thread_reply = self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": "Top."}, **JSON).json()
        self.assertIsNone(thread_reply["parent_id"])

    def test_reply_page_without_javascript(self):
        response = self.client.get(f"/comments/{self.root.pk}/reply/")
        self.assertContains(
            response, f'<form class="reply-form" method="post" action="/comments/{self.root.pk}/reply/">'
        )
        self.assertContains(response, "The first comment.")
        self.assertContains(self.client.get(f"/threads/{self.thread.pk}/reply/"), 'name="body"')

    def test_empty_and_overlong_bodies_come_back_with_an_error(self):
        for body, message in (
            ("", "This field is required."),
            ("   \n ", "This field is required."),
            ("x" * 10_001, "at most 10000 characters"),
        ):
            with self.subTest(length=len(body)):
                response = self.client.post(f"/comments/{self.root.pk}/reply/", {"body": body})
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, message)
                self.assertContains(response, 'class="reply-form"')
                response = self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": body}, **JSON)
                self.assertEqual(response.status_code, 400)
                self.assertIn("body", response.json()["errors"])
        self.assertEqual(Comment.objects.count(), 2)

    def test_longest_allowed_body_is_accepted(self):
        self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "y" * 10_000})
        self.assertTrue(Comment.objects.filter(body="y" * 10_000).exists())

    def test_hostile_markdown_is_shown_as_text(self):
        payload = (
            '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> "><svg onload=alert(1)>'
        )
        self.client.post(f"/comments/{self.root.pk}/reply/", {"body": payload + "\n\nsee https://example.org"})
        html = self.client.get(self.thread.get_absolute_url()).content.decode()
        self.assertNotIn("<script>alert", html)
        self.assertNotIn('href="javascript:', html)
        self.assertNotIn("<img", html)
        self.assertNotIn("<svg", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertIn('<a href="https://example.org" rel="nofollow ugc noopener">', html)

    def test_markdown_quotes_code_and_lists_render(self):
        self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "> quoted\n\n`code`\n\n1. one\n2. two"})
        html = Comment.objects.get(body__startswith="> quoted").body_html
        for fragment in ("<blockquote>", "<code>code</code>", "<ol>", "<li>one</li>"):
            self.assertIn(fragment, html)

    def test_double_submit_keeps_one_reply(self):
        for _ in range(2):
            self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "Once."})
        self.assertEqual(Comment.objects.filter(body="Once.").count(), 1)

    def test_cannot_reply_to_a_placeholder(self):
        placeholder = make_comment(self.thread, self.root, is_placeholder=True)
        self.assertEqual(self.client.post(f"/comments/{placeholder.pk}/reply/", {"body": "Hi"}).status_code, 403)
        self.assertFalse(Comment.objects.filter(body="Hi").exists())

    def test_deleted_and_removed_comments_take_no_replies(self):
        for status in (Comment.Status.DELETED, Comment.Status.REMOVED):
            with self.subTest(status=status):
                Comment.objects.filter(pk=self.root.pk).update(status=status)
                root = Comment.objects.select_related("thread").get(pk=self.root.pk)
                self.assertFalse(root.can_reply(self.member))
                self.assertEqual(self.client.get(f"/comments/{root.pk}/reply/").status_code, 403)
                self.assertEqual(self.client.post(f"/comments/{root.pk}/reply/", {"body": "Hi"}).status_code, 403)
                response = self.client.post(f"/comments/{root.pk}/reply/", {"body": "Hi"}, **JSON)
                self.assertEqual(response.status_code, 403)
                self.assertIn("error", response.json())
                with self.assertRaises(PermissionDenied):
                    create_reply(self.member, self.thread, root.pk, "Hi")
                self.assertNotContains(
                    self.client.get(self.thread.get_absolute_url()), f'href="/comments/{root.pk}/reply/"'
                )
        self.assertFalse(Comment.objects.filter(body="Hi").exists())
        # The replies it had stay, and still take replies of their own.
        self.assertEqual(
            self.client.post(f"/comments/{self.older_reply.pk}/reply/", {"body": "Below."}).status_code, 302
        )

    def test_locked_thread_refuses_replies(self):
        Thread.objects.filter(pk=self.thread.pk).update(is_locked=True)
        self.assertEqual(self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": "Hi"}).status_code, 403)
        self.assertEqual(self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "Hi"}).status_code, 403)
        self.assertFalse(Comment.objects.filter(body="Hi").exists())

    def test_reply_deeper_than_the_thread_page_lands_on_the_parent_page(self):
        chain = make_chain(self.thread, 8, parent=None)
        response = self.client.post(f"/comments/{chain[-1].pk}/reply/", {"body": "Deep."})
        reply = Comment.objects.get(body="Deep.")
        self.assertEqual(reply.level, 8)
        url = f"/comments/{chain[-1].pk}/?new={reply.pk}#comment-{reply.pk}"
        self.assertRedirects(response, url, fetch_redirect_response=False)
        self.assertContains(self.client.get(url), f'<li class="comment is-new" id="comment-{reply.pk}"')

    def test_new_reply_on_a_later_page_opens_that_page(self):
        thread = make_thread("Paged")
        tops = [make_comment(thread) for _ in range(55)]
        reply = make_reply(self.member, tops[-1], "On page two.")
        response = self.client.get(f"{thread.get_absolute_url()}?sort=old&new={reply.pk}")
        self.assertEqual(response.context["comments"].number, 2)
        self.assertContains(response, f'id="comment-{reply.pk}"')


class AnonymousReplyTests(TreeSoundnessMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.root = make_comment(cls.thread)

    def test_anonymous_post_goes_to_login_and_stores_nothing(self):
        response = self.client.post(f"/comments/{self.root.pk}/reply/", {"body": "Hi"})
        back = f"{self.thread.get_absolute_url()}#comment-{self.root.pk}"
        self.assertRedirects(response, f"/accounts/login/?next={quote(back, safe='/')}", fetch_redirect_response=False)
        self.assertEqual(self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": "Hi"}, **JSON).status_code, 401)
        self.assertEqual(Comment.objects.count(), 1)

    def test_anonymous_reply_page_asks_to_log_in(self):
        response = self.client.get(f"/comments/{self.root.pk}/reply/")
        self.assertRedirects(
            response, f"/accounts/login/?next=/comments/{self.root.pk}/reply/", fetch_redirect_response=False
        )

    def test_reply_without_csrf_token_is_refused(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user())
        self.assertEqual(client.post(f"/comments/{self.root.pk}/reply/", {"body": "Hi"}).status_code, 403)
        self.assertEqual(Comment.objects.count(), 1)


class EditDeleteRemoveTests(TreeSoundnessMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread = make_thread()
        cls.alice, cls.bob, cls.staff = make_user("alice"), make_user("bob"), make_user("mod", staff=True)
        cls.imported = make_comment(cls.thread, body="Imported.")
        cls.reply = make_reply(cls.alice, cls.imported, "Alice's words.")
        cls.answer = make_reply(cls.bob, cls.reply, "Bob answers.")

    def test_author_edits_own_comment_and_it_shows_as_edited(self):
        self.client.force_login(self.alice)
        self.assertContains(self.client.get(f"/comments/{self.reply.pk}/edit/"), "Alice&#x27;s words.")
        response = self.client.post(f"/comments/{self.reply.pk}/edit/", {"body": "Better **words**."})
        self.assertRedirects(
            response, f"{self.thread.get_absolute_url()}#comment-{self.reply.pk}", fetch_redirect_response=False
        )
        self.reply.refresh_from_db()
        self.assertEqual(self.reply.body_html, "<p>Better <strong>words</strong>.</p>\n")
        self.assertIsNotNone(self.reply.edited_at)
        self.assertContains(self.client.get(self.thread.get_absolute_url()), '<span class="edited">edited</span>')

    def test_edit_with_empty_body_comes_back_with_an_error(self):
        self.client.force_login(self.alice)
        response = self.client.post(f"/comments/{self.reply.pk}/edit/", {"body": ""})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This field is required.")

    def test_another_member_cannot_edit_or_delete(self):
        self.client.force_login(self.bob)
        self.assertEqual(self.client.get(f"/comments/{self.reply.pk}/edit/").status_code, 404)
        self.assertEqual(self.client.post(f"/comments/{self.reply.pk}/edit/", {"body": "Hacked"}).status_code, 404)
        self.assertEqual(self.client.post(f"/comments/{self.reply.pk}/delete/").status_code, 404)
        self.reply.refresh_from_db()
        self.assertEqual((self.reply.body, self.reply.status), ("Alice's words.", "normal"))

    def test_staff_cannot_edit_someone_elses_comment(self):
        self.client.force_login(self.staff)
        self.assertEqual(self.client.post(f"/comments/{self.reply.pk}/edit/", {"body": "Mod text"}).status_code, 404)

    def test_imported_comments_cannot_be_edited(self):
        self.client.force_login(self.alice)
        self.assertEqual(self.client.get(f"/comments/{self.imported.pk}/edit/").status_code, 404)

    def test_anonymous_edit_and_delete_go_to_login(self):
        response = self.client.get(f"/comments/{self.reply.pk}/edit/")
        self.assertTrue(response["Location"].startswith("/accounts/login/"))
        response = self.client.post(f"/comments/{self.reply.pk}/delete/")
        self.assertTrue(response["Location"].startswith("/accounts/login/"))
        self.assertEqual(Comment.objects.get(pk=self.reply.pk).status, "normal")

    def test_author_deletes_own_comment_text_goes_replies_stay(self):
        self.client.force_login(self.alice)
        response = self.client.post(f"/comments/{self.reply.pk}/delete/")
        self.assertRedirects(
            response, f"{self.thread.get_absolute_url()}#comment-{self.reply.pk}", fetch_redirect_response=False
        )
        self.reply.refresh_from_db()
        self.assertEqual((self.reply.status, self.reply.body, self.reply.body_html), ("deleted", "", ""))
        page = self.client.get(self.thread.get_absolute_url())
        self.assertContains(page, "deleted by creator")
        self.assertContains(page, "Bob answers.")
        self.assertEqual(self.client.post(f"/comments/{self.reply.pk}/delete/").status_code, 404)

    def test_delete_and_remove_are_post_only(self):
        self.client.force_login(self.staff)
        for action in ("delete", "remove"):
            self.assertEqual(self.client.get(f"/comments/{self.reply.pk}/{action}/").status_code, 405)
        self.assertEqual(self.client.get(f"/threads/{self.thread.pk}/lock/").status_code, 405)

    def test_staff_removes_any_comment(self):
        self.client.force_login(self.staff)
        response = self.client.post(f"/comments/{self.imported.pk}/remove/", **JSON)
        self.assertEqual(response.json(), {"id": self.imported.pk, "status": "removed"})
        page = self.client.get(self.thread.get_absolute_url())
        self.assertContains(page, "Removed by mod")
        self.assertNotContains(page, "Imported.")
        self.assertContains(page, "Alice's words.")

    def test_members_cannot_remove(self):
        self.client.force_login(self.alice)
        self.assertEqual(self.client.post(f"/comments/{self.answer.pk}/remove/").status_code, 403)
        self.assertEqual(Comment.objects.get(pk=self.answer.pk).status, "normal")

    def test_staff_locks_and_unlocks_a_thread(self):
        self.client.force_login(self.staff)
        response = self.client.post(f"/threads/{self.thread.pk}/lock/", {"locked": "1"})
        self.assertRedirects(response, f"{self.thread.get_absolute_url()}#thread", fetch_redirect_response=False)
        self.assertTrue(Thread.objects.get().is_locked)
        self.client.force_login(self.alice)
        self.assertEqual(self.client.post(f"/threads/{self.thread.pk}/reply/", {"body": "Late"}).status_code, 403)
        self.client.force_login(self.staff)
        self.client.post(f"/threads/{self.thread.pk}/lock/", {"locked": "0"})
        self.assertFalse(Thread.objects.get().is_locked)

    def test_members_and_anonymous_cannot_lock(self):
        self.client.force_login(self.alice)
        self.assertEqual(self.client.post(f"/threads/{self.thread.pk}/lock/", {"locked": "1"}).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.post(f"/threads/{self.thread.pk}/lock/", {"locked": "1"}).status_code, 302)
        self.assertFalse(Thread.objects.get().is_locked)

    def test_edit_delete_remove_lock_need_csrf(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        self.assertEqual(client.post(f"/comments/{self.imported.pk}/remove/").status_code, 403)
        self.assertEqual(client.post(f"/threads/{self.thread.pk}/lock/", {"locked": "1"}).status_code, 403)
        client.force_login(self.alice)
        self.assertEqual(client.post(f"/comments/{self.reply.pk}/edit/", {"body": "x"}).status_code, 403)
        self.assertEqual(client.post(f"/comments/{self.reply.pk}/delete/").status_code, 403)
        self.assertEqual(Comment.objects.filter(status="normal").count(), 3)
