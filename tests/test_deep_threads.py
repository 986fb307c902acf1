"""A reply chain thousands of levels deep: imports accept any depth, so every
page, the JSON API and the commands must answer it in full, without recursion."""

import json
import re
import sys
import tempfile
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from tests.api import response_text
from tests.factories import import_seed_dumps, make_deep_chain
from threads.models import Comment
from threads.pages import PAGE_DEPTH

DEPTH = 5_000


def comment_ids(response):
    return [int(pk) for pk in re.findall(r'<li class="comment[^"]*" id="comment-(\d+)"', response.content.decode())]


def loads_deep(text):
    """``json.loads`` recurses once per level too; give it room for this depth."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 4 * DEPTH)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(limit)


class DeepChainTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.thread, cls.chain = make_deep_chain(DEPTH)
        cls.pks = [comment.pk for comment in cls.chain]

    def test_thread_page_shows_the_first_levels_and_continues(self):
        response = self.client.get(self.thread.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(comment_ids(response), self.pks[:PAGE_DEPTH])
        cut = self.pks[PAGE_DEPTH - 1]
        self.assertContains(response, f'<a class="continue-thread" href="/comments/{cut}/">continue this thread</a>')

    def test_thread_page_with_all_shows_every_level_nested(self):
        response = self.client.get(f"{self.thread.get_absolute_url()}?all=1")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(comment_ids(response), self.pks)
        self.assertContains(response, '<ol class="comment-list">', count=DEPTH)
        self.assertContains(response, f'data-depth="{DEPTH - 1}"')
        self.assertContains(response, f"<p>Depth {DEPTH - 1}.</p>")

    def test_comment_page_deep_down_shows_its_levels_and_context(self):
        middle = DEPTH // 2
        response = self.client.get(f"/comments/{self.pks[middle]}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(comment_ids(response), self.pks[middle : middle + PAGE_DEPTH])
        self.assertContains(response, f'class="parent-link" href="/comments/{self.pks[middle - 1]}/')
        self.assertContains(response, f'class="context-link" href="/comments/{self.pks[middle - 3]}/')

    def test_comment_page_with_all_shows_the_whole_chain_below(self):
        response = self.client.get(f"/comments/{self.pks[0]}/?all=1")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(comment_ids(response), self.pks)
        leaf = self.client.get(f"/comments/{self.pks[-1]}/?all=1")
        self.assertEqual(comment_ids(leaf), [self.pks[-1]])

    def test_profile_lists_the_authors_comments(self):
        response = self.client.get(self.chain[0].author.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'class="profile-comment"', count=25)

    def test_api_nests_every_level(self):
        response = self.client.get(f"/api/threads/{self.thread.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/json")
        nodes, seen = loads_deep(response_text(response))["comments"], []
        while nodes:
            (node,) = nodes
            seen.append((node["id"], node["body"]))
            nodes = node["children"]
        self.assertEqual(seen, [(pk, f"Depth {level}.") for level, pk in enumerate(self.pks)])

    def test_export_writes_every_level(self):
        path = self.tmp_path() / "deep.txt"
        call_command("export_dump", str(self.thread.pk), "-o", str(path))
        text = path.read_bytes()
        self.assertEqual(text.count("• deep@lemmy.world\n".encode()), DEPTH)
        self.assertEqual(text.count(b"  Depth "), DEPTH)
        self.assertTrue(text.endswith(b"\n" + b" " * (2 * DEPTH + 2) + f"Depth {DEPTH - 1}.\n".encode()))

    def test_check_trees_passes_then_finds_and_repairs_a_break(self):
        out = StringIO()
        call_command("check_trees", stdout=out)
        self.assertIn("All comment trees are sound.", out.getvalue())
        Comment.objects.filter(pk=self.pks[-1]).update(lft=1, rght=2)
        with self.assertRaises(CommandError):
            call_command("check_trees", stdout=StringIO(), stderr=StringIO())
        out = StringIO()
        call_command("check_trees", "--repair", stdout=out, stderr=StringIO())
        self.assertIn("Repaired 1 threads.", out.getvalue())
        self.assertEqual(Comment.objects.get(pk=self.pks[-1]).lft, DEPTH)

    def tmp_path(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        return Path(directory.name)


class ApiJsonTextTests(TestCase):
    def test_thread_json_is_what_the_standard_encoder_writes(self):
        thread = import_seed_dumps()
        response = self.client.get(f"/api/threads/{thread.pk}/")
        text = response_text(response)
        data = json.loads(text)
        self.assertEqual(text, json.dumps(data, ensure_ascii=False))
        node = data["comments"][0]
        self.assertEqual(
            list(node),
            [
                "id",
                "placeholder",
                "status",
                "author",
                "language",
                "upvotes",
                "downvotes",
                "score",
                "edited",
                "created_at",
                "body",
                "children",
            ],
        )
        self.assertTrue(node["children"])
