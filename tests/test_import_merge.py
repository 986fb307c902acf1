"""Importing dumps: creating threads, merging captures, and staying idempotent."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL
from tests.synthetic_dumps import generate_dump
from tests.synthetic_dumps import write_dump as write_synthetic_dump
from threads.dump.parsed import DumpComment
from threads.dump.parser import parse_dump
from threads.dump.writer import write_dump
from threads.exporter import export_thread
from threads.importer import import_dump, import_dump_file
from threads.importer.identity import first_sentence, text_key
from threads.models import Capture, Comment, Person, Thread

pytestmark = pytest.mark.usefixtures("trees_stay_intact")


def with_missing_comment_filled(text):
    """Seed 000 as a fuller capture would show it: the comment behind the
    placeholder present, with the same reply under it."""
    dump = parse_dump(text)
    bomb = dump.comments[1].children[0]
    placeholder = bomb.children[0]
    bomb.children[0] = DumpComment(
        depth=2,
        author_name="Mystery",
        author_instance="lemmy.world",
        language="English",
        upvotes=9,
        age="5 months ago",
        body="The comment both dumps were missing.",
        children=placeholder.children,
    )
    return write_dump(dump)


def full_state():
    return sorted(
        Comment.objects.values_list(
            "pk",
            "parent_id",
            "position",
            "author__name",
            "body",
            "imported_upvotes",
            "imported_downvotes",
            "status",
            "edited_at",
            "created_at",
            "tree_id",
            "lft",
            "rght",
            "level",
            "is_placeholder",
        )
    )


def by_author(name, **filters):
    return Comment.objects.get(author__name=name, **filters)


def test_full_seed_creates_one_thread_with_its_whole_tree(db):
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    thread = Thread.objects.get()
    assert report.thread_created and (report.added, report.placeholders) == (15, 1)
    assert thread.comment_count == 15 and thread.captured_at == CAPTURED_AT
    assert thread.title == (
        "Vladimir Putin said Russia and North Korea have ramped up ties to a “new level,” pledging to help…"
    )
    roots = Comment.objects.filter(parent=None).order_by("position")
    assert [root.author.name for root in roots] == ["bulwark", "RubberDuck", "Varyk", "DarkCloud", "Doom", "AutoTL;DR"]
    assert by_author("AutoTL;DR").author.is_bot
    placeholder = Comment.objects.get(is_placeholder=True)
    assert placeholder.author is None and placeholder.parent == by_author("BombOmOm", level=1)
    assert [child.author.name for child in placeholder.children.all()] == ["BombOmOm"]
    assert by_author("Kusimulkku").parent == by_author("BombOmOm", level=1)


def test_imported_times_are_counted_back_from_the_capture(db):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    bulwark, edited = by_author("bulwark"), by_author("DarkCloud")
    assert bulwark.created_at == CAPTURED_AT - timedelta(days=150) and bulwark.edited_at is None
    assert edited.edited_at == CAPTURED_AT - timedelta(days=150) and edited.is_edited


def test_importing_the_same_dump_twice_changes_nothing(db):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    before = full_state()
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    assert not report.thread_created
    assert (report.added, report.updated, report.unchanged, report.placeholders) == (0, 0, 15, 0)
    assert full_state() == before and Thread.objects.count() == 1


def test_reimporting_a_dump_with_multi_level_gaps_changes_nothing(db):
    text = generate_dump(600, seed=5, gap_rate=0.05)
    first = import_dump(text, source="gaps.txt", captured_at=CAPTURED_AT)
    assert first.placeholders > 0
    before = full_state()
    again = import_dump(text, source="gaps.txt", captured_at=CAPTURED_AT)
    assert (again.added, again.updated, again.placeholders) == (0, 0, 0)
    assert full_state() == before


def test_context_dump_after_the_full_dump_adds_nothing(db):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    before = full_state()
    report = import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
    assert (report.added, report.placeholders, report.unchanged) == (0, 0, 3)
    assert full_state() == before


def test_context_dump_first_gets_its_real_parent_when_the_full_dump_arrives(db):
    import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
    orphan = Comment.objects.get(parent=None)
    assert orphan.author.name == "BombOmOm" and orphan.ancestry_unknown
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    assert (report.added, report.reattached, report.placeholders) == (12, 1, 0)
    orphan.refresh_from_db()
    assert orphan.parent == by_author("RubberDuck") and not orphan.ancestry_unknown
    assert Comment.objects.filter(is_placeholder=True).count() == 1
    assert Comment.objects.filter(is_placeholder=False).count() == 15


@pytest.mark.parametrize("order", [(SEED_FULL, SEED_CONTEXT), (SEED_CONTEXT, SEED_FULL)])
def test_both_orders_export_as_the_full_dump(db, order):
    for path in order:
        import_dump_file(path, captured_at=CAPTURED_AT)
    exported = export_thread(Thread.objects.get(), as_of=CAPTURED_AT)
    assert exported.splitlines() == SEED_FULL.read_text(encoding="utf-8").splitlines()


def test_comment_edited_between_captures_stays_one_comment_with_the_newer_body(db, seed_text):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    varyk = by_author("Varyk")
    later = CAPTURED_AT + timedelta(days=30)
    edited_text = seed_text.replace(
        "    8\n    ·\n    5 months ago\n\n    Imagine manacling yourself to a nuclear-armed rabid Chihuahua",
        "    12\n    arrow-down\n    3\n    ·\n    edit-2\n    1 day ago\n\n    Imagine chaining yourself to a nuclear-armed rabid Chihuahua",
    )
    assert edited_text != seed_text
    report = import_dump(edited_text, source="later.txt", captured_at=later)
    assert (report.added, report.updated) == (0, 1)
    varyk_after = by_author("Varyk")
    assert varyk_after.pk == varyk.pk and varyk_after.body.startswith("Imagine chaining yourself")
    assert (varyk_after.imported_upvotes, varyk_after.imported_downvotes) == (12, 3)
    assert varyk_after.edited_at == later - timedelta(days=1)
    assert varyk_after.created_at == varyk.created_at


def test_an_edited_comment_takes_its_new_identity_so_the_same_capture_again_changes_nothing(db, seed_text):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    edited = seed_text.replace("Imagine manacling yourself", "Imagine chaining yourself")
    later = CAPTURED_AT + timedelta(days=1)
    assert import_dump(edited, source="edited.txt", captured_at=later).updated == 1
    varyk = by_author("Varyk")
    assert varyk.body_key == text_key(varyk.body)
    again = import_dump(edited, source="edited.txt", captured_at=later)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 15)


def test_an_older_capture_never_overwrites_a_newer_one(db, seed_text):
    newer = CAPTURED_AT + timedelta(days=30)
    import_dump(seed_text.replace("    43\n", "    50\n"), source="newer.txt", captured_at=newer)
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    assert report.updated == 0
    assert by_author("bulwark").imported_upvotes == 50


def test_newer_capture_updates_counts_and_keeps_local_votes_apart(db, seed_text):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    Comment.objects.filter(author__name="bulwark").update(local_upvotes=2)
    import_dump(
        seed_text.replace("    43\n", "    60\n"), source="newer.txt", captured_at=CAPTURED_AT + timedelta(days=1)
    )
    bulwark = by_author("bulwark")
    assert (bulwark.imported_upvotes, bulwark.local_upvotes, bulwark.upvotes) == (60, 2, 62)


def test_placeholder_is_filled_in_place_by_a_dump_with_the_missing_comment(db, seed_text):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    placeholder = Comment.objects.get(is_placeholder=True)
    fuller = with_missing_comment_filled(seed_text)
    report = import_dump(fuller, source="fuller.txt", captured_at=CAPTURED_AT)
    assert (report.added, report.filled, report.placeholders) == (0, 1, 0)
    filled = Comment.objects.get(pk=placeholder.pk)
    assert not filled.is_placeholder and filled.author.name == "Mystery"
    assert filled.body == "The comment both dumps were missing." and filled.imported_upvotes == 9
    assert [child.author.name for child in filled.children.all()] == ["BombOmOm"]
    assert not Comment.objects.filter(is_placeholder=True).exists()


def test_older_dump_with_a_gap_matches_the_comment_that_filled_it(db, seed_text):
    fuller = with_missing_comment_filled(seed_text)
    import_dump(fuller, source="fuller.txt", captured_at=CAPTURED_AT)
    before = full_state()
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    assert (report.added, report.placeholders) == (0, 0)
    assert full_state() == before


def test_dry_run_reports_and_stores_nothing(db):
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT, dry_run=True)
    assert report.dry_run and report.added == 15 and "would create thread" in report.summary()
    assert not Thread.objects.exists() and not Comment.objects.exists() and not Person.objects.exists()


def test_each_import_is_recorded_as_a_capture(db):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT + timedelta(hours=1))
    assert list(Capture.objects.values_list("source_name", "added")) == [
        (SEED_CONTEXT.name, 0),
        (SEED_FULL.name, 15),
    ]


def test_title_option_overrides_the_derived_title(db):
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT, title="Putin visits Pyongyang")
    thread = Thread.objects.get()
    assert thread.title == "Putin visits Pyongyang" and thread.slug == "putin-visits-pyongyang"


def test_instance_option_gives_hostless_authors_that_host_and_export_omits_it(db):
    text = "Local post.\n\n  • hafenmeisterA\n    link\n    fedilink\n    arrow-up\n    3\n    ·\n    2 days ago\n\n    Moin."
    report = import_dump(text, source="local.txt", captured_at=CAPTURED_AT, instance="feddit.de")
    comment = Comment.objects.get()
    assert (comment.author.name, comment.author.instance, comment.badge_list) == (
        "hafenmeister",
        "feddit.de",
        ["admin"],
    )
    assert report.warnings and "hafenmeister" in report.warnings[0]
    assert export_thread(Thread.objects.get(), as_of=CAPTURED_AT).splitlines() == text.splitlines()


def test_op_badge_makes_its_author_the_thread_author(db):
    text = "Post.\n\n  • poster@lemmy.worldOP\n    link\n    fedilink\n    arrow-up\n    3\n    ·\n    2 days ago\n\n    I wrote this."
    import_dump(text, source="op.txt", captured_at=CAPTURED_AT)
    assert Thread.objects.get().author.name == "poster"


@pytest.mark.parametrize(
    ("article", "title"),
    [
        ("Short first sentence. Then more.", "Short first sentence."),
        ("word " * 40, ("word " * 20).strip() + "…"),
        ("", ""),
    ],
)
def test_title_is_the_first_sentence_cut_at_a_word(article, title):
    assert first_sentence(article) == title


def test_new_top_level_comment_never_takes_a_nested_twin(db):
    header = "\n".join(
        [
            "  " * 0 + "{pad}• bob@lemmy.world",
            "{pad}  link",
            "{pad}  fedilink",
            "{pad}  arrow-up",
            "{pad}  1",
            "{pad}  ·",
            "{pad}  1 day ago",
            "",
            "{pad}  +1",
        ]
    )
    reply = header.replace("{pad}", "    ")
    first = (
        "Post.\n\n  • alice@lemmy.world\n    link\n    fedilink\n    arrow-up\n    4\n    ·\n    2 days ago\n\n    Hello.\n\n"
        + reply
    )
    second = first + "\n\n" + header.replace("{pad}", "  ")
    import_dump(first, source="first.txt", captured_at=CAPTURED_AT)
    report = import_dump(second, source="second.txt", captured_at=CAPTURED_AT)
    assert (report.added, report.unchanged) == (1, 2)
    plus_ones = Comment.objects.filter(body="+1")
    assert sorted(comment.level for comment in plus_ones) == [0, 1]


def test_reattaching_a_context_root_refreshes_the_cached_page_layout(client, db):
    import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
    thread = Thread.objects.get()
    client.get(thread.get_absolute_url())  # caches the top-level layout
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    thread.refresh_from_db()
    html = client.get(thread.get_absolute_url()).content.decode()
    assert html.count('class="comment') >= 16 and "RubberDuck" in html


@pytest.mark.parametrize(
    ("field", "old", "new", "stored"),
    [
        ("imported_downvotes", "    arrow-down\n    2\n", "    arrow-down\n    5\n", 5),
        ("language", "    English\n    arrow-up\n    43\n", "    Deutsch\n    arrow-up\n    43\n", "Deutsch"),
        ("badges", "  • bulwark@lemmy.world\n", "  • bulwark@lemmy.worldM\n", "mod"),
        ("counts_approximate", "    arrow-up\n    43\n", "    arrow-up\n    1.2K\n", True),
        (
            "age_text",
            "    ·\n    5 months ago\n\n    Hot take",
            "    ·\n    6 months ago\n\n    Hot take",
            "6 months ago",
        ),
    ],
)
def test_a_newer_capture_that_changes_one_field_updates_it(db, seed_text, field, old, new, stored):
    """Whatever a capture says about a comment decides whether it changed:
    a field written but not compared would never be updated."""
    import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    assert seed_text.count(old) >= 1
    later = seed_text.replace(old, new, 1)
    report = import_dump(later, source="later.txt", captured_at=CAPTURED_AT + timedelta(days=1))
    assert report.updated == 1 and report.added == 0
    assert getattr(by_author("bulwark"), field) == stored


def test_command_shows_progress_of_a_large_import_and_of_its_re_import(tmp_path):
    path = tmp_path / "large.txt"
    write_synthetic_dump(path, 6000, seed=3)
    first, again = StringIO(), StringIO()
    call_command("import_dump", str(path), captured_at=CAPTURED_AT, stdout=StringIO(), stderr=first)
    call_command("import_dump", str(path), captured_at=CAPTURED_AT, stdout=StringIO(), stderr=again)
    total = Comment.objects.count()
    written = [line for line in first.getvalue().splitlines() if ": written " in line]
    assert len(written) >= 2
    assert written[-1].endswith(f"written {total:,}/{total:,} comments")
    assert f"merged {total - Comment.objects.filter(is_placeholder=True).count():,}/" in again.getvalue()
