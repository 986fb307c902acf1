"""The JSON API: the thread list paged by cursor, a thread's tree streamed in batches."""

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.http import StreamingHttpResponse
from django.test import TestCase

from tests.api import get_json, response_text
from tests.conftest import CAPTURED_AT
from tests.factories import import_seed_dumps, make_comment, make_reply, make_thread, make_user
from tests.synthetic_dumps import generate_dump
from threads import api
from threads.importer import import_dump
from threads.models import Comment, Thread

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)


class ThreadListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Threads sharing a creation time too, so that the cursor must order ties by id.
        for number in range(130):
            make_thread(f"Thread {number}", created_at=MOMENT - timedelta(hours=number // 3))

    def test_pages_follow_next_links_through_every_thread_once_newest_first(self):
        url, seen = "/api/threads/", []
        while url:
            with self.assertNumQueries(1):
                data = self.client.get(url).json()
            self.assertLessEqual(len(data["threads"]), 50)
            seen += [thread["id"] for thread in data["threads"]]
            url = data["next"]
        expected = list(Thread.objects.order_by("-created_at", "-pk").values_list("pk", flat=True))
        self.assertEqual(seen, expected)
        self.assertEqual(len(seen), 130)

    def test_limit_is_kept_in_next_links_and_capped(self):
        data = self.client.get("/api/threads/?limit=7").json()
        self.assertEqual(len(data["threads"]), 7)
        self.assertIn("limit=7", data["next"])
        self.assertTrue(data["next"].startswith("http://testserver/api/threads/?cursor="))

    def test_the_cap_is_200(self):
        for number in range(80):
            make_thread(f"More {number}")
        self.assertEqual(len(self.client.get("/api/threads/?limit=500").json()["threads"]), 200)

    def test_bad_limits_and_cursors_are_400(self):
        for query in ("limit=0", "limit=abc", "limit=-3", "cursor=nonsense", "cursor=WzEsMl0"):
            with self.subTest(query=query):
                response = self.client.get(f"/api/threads/?{query}")
                self.assertEqual(response.status_code, 400)
                self.assertIn("error", response.json())

    def test_the_last_page_has_no_next(self):
        self.assertIsNone(self.client.get("/api/threads/?limit=200").json()["next"])


def tree_json_as_before(thread):
    """The tree as the API wrote it before it streamed: every comment loaded,
    siblings by (position, id), nested from the parents' ids."""
    children = defaultdict(list)
    for comment in Comment.objects.filter(thread=thread).select_related("author").order_by("position", "pk"):
        children[comment.parent_id].append(comment)
    out, first, stack = ["["], True, [iter(children[None])]
    while stack:
        comment = next(stack[-1], None)
        if comment is None:
            stack.pop()
            out.append("]}" if stack else "]")
            first = False
            continue
        if not first:
            out.append(", ")
        row = {
            "id": comment.pk,
            "placeholder": comment.is_placeholder,
            "status": comment.status,
            "author": api.person_json(comment.author if comment.author_id else None, comment.badges),
            "language": comment.language or None,
            **api.votes_json(comment),
            "edited": comment.is_edited,
            "created_at": api.iso(comment.created_at),
            "body": comment.gone_text or api.plain_body(comment.body),
        }
        out.append(f'{api.ENCODER.encode(row)[:-1]}, "children": [')
        first = True
        stack.append(iter(children[comment.pk]))
    return "".join(out)


class ThreadDetailTests(TestCase):
    def assert_same_text_as_before(self, thread):
        response = self.client.get(f"/api/threads/{thread.pk}/")
        self.assertIsInstance(response, StreamingHttpResponse)
        self.assertEqual(response["Content-Type"], "application/json")
        text = response_text(response)
        comments = json.dumps(json.loads(text)["comments"], ensure_ascii=False)
        self.assertEqual(comments, tree_json_as_before(thread))
        self.assertTrue(text.endswith(f', "comments": {tree_json_as_before(thread)}}}'))

    def test_seed_thread_merged_from_two_captures_with_replies_and_gone_comments(self):
        thread = import_seed_dumps()
        alice = make_user("alice")
        root = Comment.objects.get(parent=None, position=0)
        make_reply(alice, make_reply(alice, root, "Deeper."), "Deeper still.")
        make_reply(alice, thread, "A new top-level comment.")
        Comment.objects.filter(parent=None, position=1).update(status=Comment.Status.REMOVED)
        self.assert_same_text_as_before(thread)

    def test_a_synthetic_thread_read_in_small_batches_and_as_one_big_tree(self):
        report = import_dump(generate_dump(400, seed=3, gap_rate=0.02), source="synthetic.txt", captured_at=CAPTURED_AT)
        thread = Thread.objects.get(pk=report.thread_id)
        biggest = max(Comment.objects.filter(thread=thread, parent=None), key=lambda top: top.rght - top.lft)
        for batch in (api.COMMENT_BATCH, 25, 1):
            with self.subTest(batch=batch), mock.patch.object(api, "COMMENT_BATCH", batch):
                self.assert_same_text_as_before(thread)
        self.assertGreater((biggest.rght - biggest.lft + 1) // 2, 25)

    def test_an_empty_thread(self):
        thread = make_thread()
        self.assertEqual(get_json(self.client, f"/api/threads/{thread.pk}/")["comments"], [])
        make_comment(thread)
        self.assert_same_text_as_before(thread)

    def test_queries_grow_with_batches_not_comments(self):
        report = import_dump(generate_dump(300, seed=4), source="synthetic.txt", captured_at=CAPTURED_AT)
        with mock.patch.object(api, "COMMENT_BATCH", 100), self.assertNumQueries(6):
            # thread, top-level comments, then about one query per 100 comments
            response_text(self.client.get(f"/api/threads/{report.thread_id}/"))
