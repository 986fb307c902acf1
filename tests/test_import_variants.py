"""Importing the shapes real captures come in: each lands in the thread it
shows, captures of one post land in one thread in either order, and what
must be refused is refused with the database left as it was."""

import itertools
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.api import get_json
from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL, VARIANTS, variant
from tests.damage import damage
from tests.html import parse_html
from threads.dump.errors import DumpError
from threads.dump.formats import SCORE_ONLY
from threads.dump.parser import parse_dump
from threads.exporter import export_thread
from threads.importer import capture as capture_module
from threads.importer import import_dump, import_dump_file
from threads.models import Capture, Comment, Person, Thread

pytestmark = pytest.mark.usefixtures("trees_stay_intact")
LATER = CAPTURED_AT + timedelta(days=2)


def comments_as_shown():
    """Every comment by what it says and where it sits, ids aside."""
    rows = Comment.objects.select_related("author", "parent__author").order_by("tree_id", "lft")
    return sorted(
        (
            row.author.name if row.author else row.author_shown,
            row.body,
            row.level,
            (row.parent.author.name, row.parent.body) if row.parent and row.parent.author else None,
            row.is_placeholder,
        )
        for row in rows
    )


def database_state():
    return (
        list(Thread.objects.values_list("pk", "title", "comment_count", "captured_at", "fingerprint")),
        list(Comment.objects.values_list("pk", "parent_id", "body", "imported_upvotes", "tree_id", "lft", "rght")),
        list(Person.objects.values_list("pk", "name", "instance", "instance_known")),
        Capture.objects.count(),
    )


class TestFullPages:
    def test_a_full_page_stores_what_its_chrome_says_about_the_post(self, db, client):
        import_dump(variant("full_page.txt"), source="page.txt", captured_at=CAPTURED_AT)
        thread = Thread.objects.get()
        assert (thread.title, thread.title_source, thread.community, thread.link_domain) == (
            "Spring tides flooded the old harbour road again",
            "dump",
            "Tide Tables@lemmy.example",
            "news.example.org",
        )
        assert (thread.author.name, thread.author.instance, thread.author_badges) == (
            "harbour_pilot",
            "lemmy.example",
            "mod",
        )
        assert thread.created_at == CAPTURED_AT - timedelta(days=3)
        assert (thread.shown_comment_count, thread.comment_count) == (4, 3)
        assert (thread.imported_upvotes, thread.imported_downvotes, thread.votes_shown) == (27, 0, SCORE_ONLY)
        data = get_json(client, f"/api/threads/{thread.pk}/")
        assert data["author"] == {"name": "harbour_pilot", "instance": "lemmy.example", "badges": ["mod"], "bot": False}
        assert (data["community"], data["title_source"], data["score"], data["upvotes"]) == (
            "Tide Tables@lemmy.example",
            "dump",
            27,
            None,
        )
        assert Thread.objects.get().body.startswith("For the third time this month")

    @pytest.mark.parametrize("first", ["full_page.txt", "full_page_chromeless.txt"])
    def test_a_full_page_and_the_bare_dump_are_one_thread_in_either_order(self, db, first):
        second = "full_page_chromeless.txt" if first == "full_page.txt" else "full_page.txt"
        import_dump(variant(first), source=first, captured_at=CAPTURED_AT)
        before = comments_as_shown()
        report = import_dump(variant(second), source=second, captured_at=CAPTURED_AT)
        assert Thread.objects.count() == 1 and (report.added, report.unchanged) == (0, 3)
        assert comments_as_shown() == before
        assert Thread.objects.get().title == "Spring tides flooded the old harbour road again"


LINK_POST_FILES = ["link_page.txt", "link_page_chromeless.txt", "link_page_context.txt"]


class TestLinkPosts:
    def test_a_link_post_imports_without_a_title_and_derives_one_from_the_posters_comment(self, db):
        import_dump(variant("link_page_chromeless.txt"), source="bare.txt", captured_at=CAPTURED_AT)
        thread = Thread.objects.get()
        # No top-level comment by the poster here, so the first top-level one.
        assert (thread.title, thread.title_source, thread.body) == (
            "The low tide on Tuesday looks wrong, it is an hour later than last year.",
            "derived",
            "",
        )

    def test_the_posters_top_level_comment_is_preferred_for_the_title(self, db):
        text = variant("link_page_chromeless.txt").replace("  • spindrift@sh.example", "  • spindrift@sh.exampleOP")
        import_dump(text, source="bare.txt", captured_at=CAPTURED_AT)
        assert Thread.objects.get().title == "Bookmarked, thanks."

    @pytest.mark.parametrize(("first", "second"), list(itertools.permutations(LINK_POST_FILES, 2)))
    def test_every_pair_of_captures_of_a_link_post_is_one_thread_in_either_order(self, db, first, second):
        import_dump(variant(first), source=first, captured_at=CAPTURED_AT)
        import_dump(variant(second), source=second, captured_at=CAPTURED_AT)
        assert Thread.objects.count() == 1
        shown = [(name, body) for name, body, *_ in comments_as_shown()]
        assert len(shown) == len(set(shown)) == 3, "every comment once"
        old_salt = Comment.objects.get(author__name="old_salt")
        assert old_salt.parent.author.name == "barnacle_bill" and not old_salt.ancestry_unknown

    def test_all_three_captures_in_every_order_give_the_same_thread(self, db):
        outcomes = []
        for order in itertools.permutations(LINK_POST_FILES):
            Thread.objects.all().delete()
            Person.objects.all().delete()
            for name in order:
                import_dump(variant(name), source=name, captured_at=CAPTURED_AT)
            thread = Thread.objects.get()
            outcomes.append((comments_as_shown(), thread.title, thread.title_source, thread.community))
        assert all(outcome == outcomes[0] for outcome in outcomes), "the order of captures changed the thread"
        shown, title, source, community = outcomes[0]
        assert (title, source, community) == (
            "Tide table for the winter solstice week",
            "dump",
            "Tide Tables@lemmy.example",
        )
        assert [name for name, *_ in shown] == ["barnacle_bill", "old_salt", "spindrift"]
        assert not Comment.objects.filter(ancestry_unknown=True).exists()

    def test_reimporting_a_link_post_changes_nothing(self, db):
        import_dump(variant("link_page_chromeless.txt"), source="bare.txt", captured_at=CAPTURED_AT)
        before = database_state()
        report = import_dump(variant("link_page_chromeless.txt"), source="bare.txt", captured_at=CAPTURED_AT)
        assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
        assert database_state()[:3] == before[:3]

    def test_another_link_post_sharing_one_comment_is_another_thread(self, db):
        """A moderator's reminder under two posts does not make them one, and
        the second never takes over the first's title, author or domain."""
        reminder = comment_text("modbot@lemmy.example", "Reminder: keep it civil and stay on the topic, please.")
        first = variant("link_page.txt").replace("  • spindrift@sh.example", reminder + "  • spindrift@sh.example")
        other = (
            first.replace("Tide table for the winter solstice week", "Ferry timetable for the island route")
            .replace("tides.example.net", "ferry.example.com")
            .replace("old_salt@lemmy.example to", "deckhand@lemmy.example to")
            .replace("barnacle_bill@coast.social", "gull@coast.social")
            .replace("old_salt@lemmy.exampleOP", "deckhand@lemmy.exampleOP")
            .replace("spindrift@sh.example", "tern@sh.example")
        )
        import_dump(first, source="tides.txt", captured_at=CAPTURED_AT)
        import_dump(other, source="ferry.txt", captured_at=CAPTURED_AT)
        assert sorted(Thread.objects.values_list("title", "link_domain")) == [
            ("Ferry timetable for the island route", "ferry.example.com"),
            ("Tide table for the winter solstice week", "tides.example.net"),
        ]
        bare = variant("link_page_chromeless.txt").replace("barnacle_bill", "puffin").replace("old_salt", "skipper")
        import_dump(reminder + bare.replace("spindrift", "cormorant"), source="bare.txt", captured_at=CAPTURED_AT)
        assert Thread.objects.count() == 3

    def test_unrelated_link_posts_sharing_only_short_or_bot_comments_stay_apart(self, db):
        short = (
            variant("wrapper_bare.txt")
            .split("\n\n", 1)[1]
            .replace("Two sailings is not enough for the school run, the morning one leaves too early.", "Nice!")
        )
        import_dump(short, source="one.txt", captured_at=CAPTURED_AT)
        import_dump(short.replace("arrow-up\n    6", "arrow-up\n    2"), source="two.txt", captured_at=CAPTURED_AT)
        assert Thread.objects.count() == 2

    def test_a_given_title_wins_over_every_dump_and_a_found_one_over_a_derived_one(self, db):
        import_dump(variant("link_page_chromeless.txt"), source="bare.txt", captured_at=CAPTURED_AT)
        assert Thread.objects.get().title_source == "derived"
        import_dump(variant("link_page.txt"), source="page.txt", captured_at=CAPTURED_AT)
        thread = Thread.objects.get()
        assert (thread.title, thread.title_source) == ("Tide table for the winter solstice week", "dump")
        assert thread.slug == "tide-table-for-the-winter-solstice-week"
        import_dump(variant("link_page_chromeless.txt"), source="bare.txt", captured_at=LATER, title="Tides, winter")
        import_dump(variant("link_page.txt"), source="page.txt", captured_at=LATER + timedelta(days=1))
        thread = Thread.objects.get()
        assert (thread.title, thread.title_source) == ("Tides, winter", "given")


class TestPages:
    def test_a_full_pages_thread_shows_its_author_community_and_domain(self, db, client):
        import_dump(variant("full_page.txt"), source="page.txt", captured_at=CAPTURED_AT)
        thread = Thread.objects.get()
        meta = parse_html(client.get(thread.get_absolute_url())).find("p", cls="thread-meta")
        assert meta.find("a", cls="author").text == "harbour_pilot"
        assert meta.find("span", cls="community").text == "to Tide Tables@lemmy.example"
        home = parse_html(client.get("/"))
        assert home.find("span", cls="link-domain").text == "(news.example.org)"

    def test_older_pages_show_a_score_without_votes_and_an_unknown_one_as_such(self, db, client):
        import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT)
        page = parse_html(client.get(f"{Thread.objects.get().get_absolute_url()}?all=1"))

        def comment_saying(start):
            (li,) = [
                li
                for li in page.find_all("li", cls="comment")
                if li.find("div", cls="comment-body").text.startswith(start)
            ]
            return li

        bean = comment_saying("Rain barrels")
        assert bean.find("span", cls="score").text == "-29" and bean.find("span", cls="votes") is None
        assert comment_saying("Does the water").find("span", cls="score").text == "?"
        marrow = comment_saying("Flexible downpipe")
        assert marrow.find("a", cls="author").attrs["href"] == "/u/Marrow%20Queen@%3F"
        assert marrow.find("span", cls="instance") is None

    def test_hidden_authors_show_as_unknown(self, db, client):
        import_dump(variant("cloudflare.txt"), source="cf.txt", captured_at=CAPTURED_AT)
        page = parse_html(client.get(Thread.objects.get().get_absolute_url()))
        assert [span.text for span in page.find_all("span", cls="unknown")] == ["unknown", "unknown"]


def test_an_older_capture_keeps_neither_its_title_nor_its_instance(db):
    import_dump(variant("wrapper.txt"), source="new.txt", captured_at=LATER)
    older = variant("wrapper.txt").replace('"" Ferry timetable changes', '"" Ferry timetable')
    import_dump(older, source="old.txt", captured_at=CAPTURED_AT)
    assert Thread.objects.get().title == "Ferry timetable changes for the island route"


def test_a_capture_with_another_instance_is_refused_and_without_one_takes_the_threads(db):
    """Authors shown without a host are the rendering instance's own: another
    instance would make every one of them a new person."""
    import_dump(variant("legacy.txt"), source="first.txt", captured_at=CAPTURED_AT, instance="lemmy.example")
    before = database_state()
    with pytest.raises(DumpError, match=r"earlier captures were imported with --instance lemmy\.example"):
        import_dump(variant("legacy.txt"), source="other.txt", captured_at=LATER, instance="lemmy.world")
    assert database_state() == before
    report = import_dump(variant("legacy.txt"), source="again.txt", captured_at=LATER)
    assert report.added == 0 and Comment.objects.count() == 8


class TestWrapperLine:
    @pytest.mark.parametrize("first", ["wrapper.txt", "wrapper_bare.txt"])
    def test_captures_with_and_without_the_title_line_are_one_thread(self, db, first):
        second = "wrapper_bare.txt" if first == "wrapper.txt" else "wrapper.txt"
        import_dump(variant(first), source=first, captured_at=CAPTURED_AT)
        import_dump(variant(second), source=second, captured_at=CAPTURED_AT)
        thread = Thread.objects.get()
        assert (thread.title, thread.title_source) == ("Ferry timetable changes for the island route", "dump")
        assert not thread.body.startswith('""') and Comment.objects.count() == 1


class TestOlderLemmyUi:
    def test_scores_only_are_stored_and_the_api_says_up_and_down_are_unknown(self, db, client):
        report = import_dump(
            variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT, instance="lemmy.example"
        )
        assert any("ambiguous score and age '123 days ago'" in warning for warning in report.warnings)
        thread = Thread.objects.get()
        nodes = {}
        stack = list(get_json(client, f"/api/threads/{thread.pk}/")["comments"])
        while stack:
            node = stack.pop()
            nodes[(node["author"] or {}).get("name"), node["body"][:12]] = node
            stack.extend(node["children"])
        bean = nodes["Bean Counter", "Rain barrels"]
        assert (bean["upvotes"], bean["downvotes"], bean["score"]) == (None, None, -29)
        tomato = nodes["tomato_tim", "Does the wat"]
        assert (tomato["upvotes"], tomato["downvotes"], tomato["score"]) == (None, None, None)
        bean_comment = Comment.objects.get(author__name="Bean Counter")
        assert bean_comment.created_at == CAPTURED_AT - timedelta(days=365)
        tomato_comment = Comment.objects.get(author__name="tomato_tim")
        assert tomato_comment.created_at == CAPTURED_AT - timedelta(days=13)

    def test_local_names_take_the_instance_and_hidden_hosts_stay_apart(self, db):
        import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT, instance="lemmy.example")
        local = variant("wrapper_bare.txt").replace("wavewatcher@coast.social", "Marrow Queen")
        import_dump(local, source="local.txt", captured_at=CAPTURED_AT, instance="lemmy.example")
        people = Person.objects.filter(name="Marrow Queen")
        assert sorted(people.values_list("instance", "instance_known")) == [("", False), ("lemmy.example", True)]
        assert Person.objects.get(name="greenfinger").instance == "lemmy.example"
        hidden = people.get(instance_known=False)
        assert hidden.handle == "Marrow Queen@?"
        assert Person.objects.get_by_handle("Marrow Queen@?") == hidden

    def test_the_profile_of_an_author_whose_host_was_hidden_opens(self, db, client):
        import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT)
        hidden = Person.objects.get(name="Marrow Queen")
        response = client.get(hidden.get_absolute_url())
        assert response.status_code == 200 and b"Flexible downpipe" in response.content

    def test_a_legacy_thread_exports_in_the_current_layout(self, db):
        import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT)
        exported = parse_dump(export_thread(Thread.objects.get(), as_of=CAPTURED_AT))
        assert exported.layout == "current" and len(exported.real_comments()) == 8
        assert [c.upvotes - c.downvotes for c in exported.walk()][:2] == [1, 3]

    def test_reimporting_a_legacy_page_changes_nothing(self, db):
        import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT)
        before = database_state()
        report = import_dump(variant("legacy.txt"), source="legacy.txt", captured_at=CAPTURED_AT)
        assert (report.added, report.updated) == (0, 0)
        assert database_state()[:3] == before[:3]


def test_a_damaged_capture_stores_the_repaired_text_in_the_clean_ones_thread(db):
    clean = variant("full_page_chromeless.txt")
    import_dump(clean, source="clean.txt", captured_at=CAPTURED_AT)
    before = comments_as_shown()
    report = import_dump(damage(clean, "1257").encode(), source="broken.txt", captured_at=CAPTURED_AT)
    assert report.warnings[0].startswith("broken.txt: repaired mojibake (Windows-1257) on ")
    assert (Thread.objects.count(), report.added, report.updated) == (1, 0, 0)
    assert comments_as_shown() == before


class TestHiddenAuthors:
    def test_hidden_authors_are_unknown_and_never_one_shared_person(self, db, client):
        import_dump(variant("cloudflare.txt"), source="cf.txt", captured_at=CAPTURED_AT)
        hidden = Comment.objects.filter(author=None, is_placeholder=False)
        assert hidden.count() == 2 and set(hidden.values_list("author_shown", flat=True)) == {"[email protected]"}
        assert not Person.objects.filter(name__contains="protected").exists()
        data = get_json(client, f"/api/threads/{Thread.objects.get().pk}/")
        assert [node["author"] for node in data["comments"][:2]] == [None, None]
        assert "[email protected] if the import" in data["comments"][0]["body"]

    def test_reimporting_them_matches_by_body_and_place(self, db):
        import_dump(variant("cloudflare.txt"), source="cf.txt", captured_at=CAPTURED_AT)
        report = import_dump(variant("cloudflare.txt"), source="cf.txt", captured_at=CAPTURED_AT)
        assert (report.added, report.unchanged) == (0, 3)

    def test_they_export_as_the_page_showed_them(self, db):
        import_dump(variant("cloudflare.txt"), source="cf.txt", captured_at=CAPTURED_AT)
        exported = export_thread(Thread.objects.get(), as_of=CAPTURED_AT)
        assert exported.splitlines() == variant("cloudflare.txt").splitlines()


def edited_context_view(text):
    """Seed 001 captured later: its root edited again (new body, counts
    moved) and a new reply under it."""
    edited = text.replace(
        "    Edit: Flipped the names. They are now correct.",
        "    Edit: Flipped the names, and added a map of the CSTO members for anyone confused like me.",
    ).replace("    arrow-up\n    21\n    arrow-down\n    1\n", "    arrow-up\n    30\n    arrow-down\n    2\n", 1)
    assert edited != text
    return edited + (
        "\n    • newcomer@lemmy.ml\n      link\n      fedilink\n      English\n      arrow-up\n      1\n      ·\n"
        "      2 days ago\n\n      Late to this, but the map helps a lot."
    )


class TestContextRootEditedBetweenCaptures:
    def test_after_the_full_capture_it_updates_its_comment_in_place(self, db, context_text):
        import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
        root = Comment.objects.get(author__name="BombOmOm", level=1)
        report = import_dump(edited_context_view(context_text), source="later.txt", captured_at=LATER)
        assert (report.added, report.placeholders) == (1, 0)
        after = Comment.objects.get(pk=root.pk)
        assert after.parent_id == root.parent_id and after.parent.author.name == "RubberDuck"
        assert "added a map of the CSTO" in after.body and (after.imported_upvotes, after.imported_downvotes) == (30, 2)
        assert Comment.objects.get(author__name="newcomer").parent_id == root.pk
        assert Comment.objects.filter(is_placeholder=False).count() == 16

    def test_before_the_full_capture_it_is_reattached_and_keeps_the_newer_body(self, db, context_text):
        import_dump(edited_context_view(context_text), source="later.txt", captured_at=LATER)
        root = Comment.objects.get(parent=None)
        report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
        assert (report.added, report.reattached) == (12, 1)
        after = Comment.objects.get(pk=root.pk)
        assert after.parent.author.name == "RubberDuck" and not after.ancestry_unknown
        assert "added a map of the CSTO" in after.body and after.imported_upvotes == 30
        assert Comment.objects.filter(is_placeholder=False).count() == 16

    def test_both_orders_give_the_same_thread(self, db, context_text):
        shown = []
        for order in ("full first", "context first"):
            Thread.objects.all().delete()
            if order == "full first":
                import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
            import_dump(edited_context_view(context_text), source="later.txt", captured_at=LATER)
            if order == "context first":
                import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
            shown.append(comments_as_shown())
        assert shown[0] == shown[1]


def comment_text(header, body, depth=0, age="1 day ago"):
    pad = " " * (2 * depth + 2)
    meta = "".join(f"{pad}  {token}\n" for token in ("link", "fedilink", "arrow-up", "3", "·", age))
    return f"{pad}• {header}\n{meta}\n{pad}  {body}\n\n"


HARBOUR = "A post about the harbour flooding again.\n\n"


def test_a_short_shared_opening_does_not_make_another_comment_an_edit(db):
    """'Yes.' opens many comments: a context view of a new comment of the
    same author is not an edit of their old one."""
    full = (
        HARBOUR
        + comment_text("bob@lemm.ee", "The water reached the bakery steps this morning.")
        + comment_text("alice@lemmy.world", "Yes. The barrier is late again, as always.", 1)
        + comment_text("carol@x.org", "Does anyone have photos of the market road?")
    )
    context = (
        HARBOUR
        + comment_text("alice@lemmy.world", "Yes. I have photos from the market road, posting them tonight.")
        + comment_text("carol@x.org", "Thank you, that would help a lot!", 1)
    )
    import_dump(full, source="full.txt", captured_at=CAPTURED_AT)
    report = import_dump(context, source="context.txt", captured_at=LATER)
    assert report.added == 2
    assert Comment.objects.get(body__startswith="Yes. The barrier").parent.author.name == "bob"
    assert Comment.objects.get(body__startswith="Yes. I have photos").ancestry_unknown


def test_a_context_view_of_a_since_deleted_comment_merges_into_it(db, context_text):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    before = Comment.objects.count()
    root_body = context_text.split("    The fun part is", 1)[1].split("\n\n      • BombOmOm", 1)[0]
    deleted = context_text.replace("    The fun part is" + root_body, "    deleted by creator", 1)
    report = import_dump(deleted, source="later.txt", captured_at=LATER)
    assert (report.added, report.updated) == (0, 1)
    assert Comment.objects.count() == before
    root = Comment.objects.get(author__name="BombOmOm", level=1)
    assert root.status == "deleted" and root.parent.author.name == "RubberDuck"


def test_a_long_edited_comment_still_merges_as_an_edit(db, seed_text):
    long_body = " ".join(f"word{n}" for n in range(20_000))
    first = seed_text.replace("    Hot take, I doubt", f"    {long_body} Hot take, I doubt", 1)
    import_dump(first, source="first.txt", captured_at=CAPTURED_AT)
    edited = first.replace("word19999", "changed19999").replace("word5 ", "five ")
    report = import_dump(edited, source="edited.txt", captured_at=LATER)
    assert (report.added, report.updated) == (0, 1)
    assert "changed19999" in Comment.objects.get(author__name="bulwark").body


def test_a_thousand_level_gap_reimports_without_recursion(db):
    header = "\n".join(
        [
            "{pad}• deep@lemmy.world",
            *("{pad}  " + token for token in ("link", "fedilink", "arrow-up", "1", "·", "1 day ago")),
            "",
            "{pad}  {body}",
        ]
    )
    text = "Deep post.\n\n" + header.format(pad="  ", body="At the top.") + "\n\n"
    text += header.format(pad=" " * 2002, body="A thousand levels down.")
    first = import_dump(text, source="deep.txt", captured_at=CAPTURED_AT)
    assert first.placeholders == 999
    again = import_dump(text, source="deep.txt", captured_at=CAPTURED_AT)
    assert (again.added, again.updated, again.placeholders, again.unchanged) == (0, 0, 0, 2)


def line_of(text, needle):
    return next(number for number, line in enumerate(text.split("\n"), 1) if needle in line)


BAD_CAPTURES = {
    "misplaced.txt": (variant("misplaced.txt"), "        link", "metadata line 'link' at indent 8"),
    "no_metadata.txt": (variant("no_metadata.txt"), "  • The northern", "no comment header"),
    "logged_in.txt": (
        variant("full_page.txt").replace("  • Login\n", "  • bell\n"),
        "  • bell",
        "does not fit a full Lemmy page",
    ),
    "ages.txt": (
        variant("full_page_chromeless.txt").replace("3 days ago", "45 days ago"),
        "45 days ago",
        "is not one lemmy-ui prints",
    ),
    "lost.txt": (
        damage(variant("wrapper_bare.txt").replace("school", "Está school"), "1257"),
        "Est",
        "does not decode",
    ),
    "mixed.txt": (
        variant("wrapper_bare.txt") + "\n  • @old\n    link\n    15 days ago\n\n    Glued.",
        "15 days ago",
        "the file mixes lemmy-ui layouts",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", BAD_CAPTURES)
def test_the_command_refuses_a_bad_capture_names_its_line_and_changes_nothing(tmp_path, name):
    text, needle, reason = BAD_CAPTURES[name]
    call_command("import_dump", str(SEED_CONTEXT), captured_at=CAPTURED_AT, verbosity=0)
    before = database_state()
    bad = tmp_path / name
    bad.write_text(text, encoding="utf-8")
    stderr = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_dump", str(bad), captured_at=CAPTURED_AT, stderr=stderr, stdout=StringIO())
    assert raised.value.returncode == 1
    (refusal,) = [line for line in stderr.getvalue().splitlines() if line.startswith(str(bad))]
    assert refusal.startswith(f"{bad}:{line_of(text, needle)}: ") and reason in refusal
    assert database_state() == before


@pytest.mark.django_db
def test_an_unforeseen_error_in_one_file_is_named_logged_and_the_rest_go_on(tmp_path, monkeypatch, caplog):
    original = capture_module.update_thread

    def fail_for_one_file(thread, dump, *args):
        if dump.source.endswith("cloudflare.txt"):
            raise RuntimeError("the disk fell off")
        return original(thread, dump, *args)

    monkeypatch.setattr(capture_module, "update_thread", fail_for_one_file)
    stderr = StringIO()
    with caplog.at_level(logging.ERROR, logger="threads.importer.capture"), pytest.raises(CommandError) as raised:
        call_command(
            "import_dump",
            str(VARIANTS / "cloudflare.txt"),
            str(VARIANTS / "wrapper.txt"),
            captured_at=CAPTURED_AT,
            stderr=stderr,
            stdout=StringIO(),
        )
    assert raised.value.returncode == 1
    assert (
        f"{VARIANTS / 'cloudflare.txt'}:0: the import failed, nothing stored (RuntimeError: the disk fell off)"
        in stderr.getvalue()
    )
    assert "Traceback" not in stderr.getvalue()
    assert caplog.records and caplog.records[0].exc_info
    assert list(Thread.objects.values_list("title", flat=True)) == ["Ferry timetable changes for the island route"]


def test_the_command_says_when_a_page_has_no_comments(db, tmp_path):
    path = tmp_path / "article.txt"
    path.write_text("Just an article, nobody has replied yet.", encoding="utf-8")
    stdout = StringIO()
    call_command("import_dump", str(path), captured_at=CAPTURED_AT, stdout=stdout, stderr=StringIO())
    assert "(the page has no comments)" in stdout.getvalue()


def test_article_only_imports_a_file_of_comment_shaped_lines(db):
    import_dump(variant("no_metadata.txt"), source="photon.txt", captured_at=CAPTURED_AT, article_only=True)
    thread = Thread.objects.get()
    assert thread.comment_count == 0 and "The northern cliff path" in thread.body


def test_the_command_refuses_an_instance_that_is_not_a_host(db):
    with pytest.raises(CommandError, match=r"^--instance: 'not a host' is not a host name such as lemmy\.world$"):
        call_command("import_dump", str(SEED_FULL), instance="not a host", verbosity=0)
    assert not Thread.objects.exists()
