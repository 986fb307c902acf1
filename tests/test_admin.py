from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from tests.conftest import SEED_DUMPS, variant
from tests.damage import damage
from tests.factories import make_comment, make_person, make_thread, make_user
from threads.models import Capture, Comment, Thread
from threads.trees import find_tree_problems


def upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/plain")


class AdminPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_user("admin", staff=True)
        cls.staff.is_superuser = True
        cls.staff.save()
        cls.thread = make_thread()
        cls.comment = make_comment(cls.thread)

    def setUp(self):
        self.client.force_login(self.staff)

    def test_changelists_and_change_forms_load(self):
        for url in [
            "/admin/threads/thread/",
            f"/admin/threads/thread/{self.thread.pk}/change/",
            "/admin/threads/comment/",
            f"/admin/threads/comment/{self.comment.pk}/change/",
            "/admin/threads/comment/add/",
            "/admin/threads/person/",
            "/admin/threads/vote/",
            "/admin/threads/capture/",
            "/admin/threads/thread/import/",
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_thread_changelist_links_to_import(self):
        self.assertContains(self.client.get("/admin/threads/thread/"), 'href="/admin/threads/thread/import/"')

    def test_comment_form_uses_raw_ids_and_hides_tree_fields(self):
        response = self.client.get("/admin/threads/comment/add/")
        self.assertContains(response, 'class="vForeignKeyRawIdAdminField"', count=3)
        self.assertNotContains(response, 'name="lft"')

    def test_adding_a_comment_in_the_admin_keeps_the_tree_sound(self):
        author = make_person()
        for _ in range(2):
            response = self.client.post(
                "/admin/threads/comment/add/",
                {
                    "thread": self.thread.pk,
                    "parent": self.comment.pk,
                    "author": author.pk,
                    "origin": "imported",
                    "status": "normal",
                    "body": "Added by hand.",
                    "imported_upvotes": 0,
                    "imported_downvotes": 0,
                },
            )
            self.assertEqual(response.status_code, 302)
        added = list(Comment.objects.filter(body="Added by hand.").order_by("pk"))
        self.assertEqual([c.position for c in added], [0, 1])
        self.assertEqual(added[0].body_html, "<p>Added by hand.</p>")
        self.assertEqual(Thread.objects.get().comment_count, 3)
        self.assertEqual(find_tree_problems(), [])

    def test_parent_from_another_thread_is_refused(self):
        other = make_comment(make_thread("Another"))
        response = self.client.post(
            "/admin/threads/comment/add/",
            {
                "thread": self.thread.pk,
                "parent": other.pk,
                "origin": "imported",
                "status": "normal",
                "body": "Cross",
                "imported_upvotes": 0,
                "imported_downvotes": 0,
            },
        )
        self.assertContains(response, "The parent belongs to another thread.")

    def test_deleting_a_comment_in_the_admin_keeps_the_tree_sound(self):
        reply = make_comment(self.thread, self.comment)
        make_comment(self.thread, self.comment)
        self.client.post(f"/admin/threads/comment/{reply.pk}/delete/", {"post": "yes"})
        self.assertFalse(Comment.objects.filter(pk=reply.pk).exists())
        self.assertEqual(Thread.objects.get().comment_count, 2)
        self.assertEqual(find_tree_problems(), [])

    def test_members_cannot_reach_the_admin(self):
        self.client.force_login(make_user("plain"))
        self.assertEqual(self.client.get("/admin/threads/thread/import/").status_code, 302)


class AdminImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.staff = make_user("admin", staff=True)
        cls.staff.is_superuser = True
        cls.staff.save()

    def setUp(self):
        self.client.force_login(self.staff)

    def test_uploading_the_seed_dumps_imports_them_with_summaries(self):
        response = self.client.post(
            "/admin/threads/thread/import/",
            {
                "files": [upload(path) for path in SEED_DUMPS],
                "captured_at": "2024-11-19 12:00",
            },
        )
        self.assertEqual(response.status_code, 200)
        thread = Thread.objects.get()
        self.assertContains(response, f"{SEED_DUMPS[0].name}: created thread {thread.pk}")
        self.assertContains(response, "15 comments added")
        self.assertContains(response, f"{SEED_DUMPS[1].name}: merged into thread {thread.pk}")
        self.assertEqual(Comment.objects.count(), 16)
        self.assertEqual(Capture.objects.count(), 2)
        self.assertEqual(find_tree_problems(), [])

    def test_malformed_file_shows_its_error_and_stores_nothing(self):
        bad = SimpleUploadedFile(
            "broken.txt", b"An article.\n\n  \xe2\x80\xa2 \xff\xfe broken", content_type="text/plain"
        )
        response = self.client.post("/admin/threads/thread/import/", {"files": [bad]})
        self.assertContains(response, "broken.txt:")
        self.assertContains(response, "import-error")
        self.assertFalse(Thread.objects.exists())
        self.assertFalse(Comment.objects.exists())

    def test_a_bad_file_does_not_stop_the_good_one(self):
        bad = SimpleUploadedFile("bad.txt", b"\xff\xfe", content_type="text/plain")
        response = self.client.post("/admin/threads/thread/import/", {"files": [bad, upload(SEED_DUMPS[0])]})
        self.assertContains(response, "bad.txt:1:")
        self.assertContains(response, "created thread")
        self.assertEqual(Thread.objects.count(), 1)

    def post_files(self, *named_texts, **fields):
        files = [SimpleUploadedFile(name, text.encode(), content_type="text/plain") for name, text in named_texts]
        return self.client.post("/admin/threads/thread/import/", {"files": files, **fields})

    def test_uploads_show_the_commands_notices_warnings_and_refusals(self):
        """The admin imports through the command's own path, so the same
        files give the same words."""
        damaged = damage(variant("wrapper_bare.txt"), "1257")
        response = self.post_files(
            ("broken.txt", damaged), ("cf.txt", variant("cloudflare.txt")), ("off.txt", variant("misplaced.txt"))
        )
        self.assertContains(response, "warning: broken.txt: repaired mojibake (Windows-1257) on ")
        self.assertContains(response, "warning: cf.txt:3: author shown as &#x27;[email protected]&#x27;")
        self.assertContains(response, "off.txt:4: metadata line &#x27;link&#x27; at indent 8, expected 4")
        self.assertEqual(Thread.objects.count(), 2)

    def test_a_full_page_upload_gets_its_title_from_the_page(self):
        response = self.post_files(("page.txt", variant("full_page.txt")), captured_at="2024-11-19 12:00")
        self.assertContains(response, "created thread")
        self.assertEqual(Thread.objects.get().title, "Spring tides flooded the old harbour road again")

    def test_article_only_and_the_instance_are_checked_like_the_commands(self):
        response = self.post_files(("photon.txt", variant("no_metadata.txt")), instance="not a host")
        self.assertContains(response, "is not a host name such as lemmy.world")
        self.assertFalse(Thread.objects.exists())
        response = self.post_files(("photon.txt", variant("no_metadata.txt")), instance="Feddit.DE", article_only="on")
        self.assertContains(response, "(the page has no comments)")
        self.assertEqual(Thread.objects.get().source_instance, "feddit.de")

    def test_import_needs_a_file(self):
        response = self.client.post("/admin/threads/thread/import/", {})
        self.assertContains(response, "This field is required.")

    def test_import_needs_csrf(self):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(self.staff)
        response = client.post("/admin/threads/thread/import/", {"files": [upload(SEED_DUMPS[0])]})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Thread.objects.exists())
