"""The dump parser on the two seeds and on the format's hard cases."""

import pytest

from threads.dump.authors import split_header_text
from threads.dump.errors import DumpError
from threads.dump.parser import parse_dump
from threads.dump.writer import write_dump

# depth, author, instance, badges, language, up, down, edited, first line starts, last line ends, blank separators
SEED_FULL_COMMENTS = [
    (0, "bulwark", "lemmy.world", (), "English", 43, 2, False, "Hot take, I doubt", "than a symbolic gesture.", 0),
    (1, "catloaf", "lemm.ee", (), "English", 20, 1, False, "No, they would.", "would happen again, I think.", 0),
    (1, "Diplomjodler", "lemmy.world", (), "English", 11, 1, False, "Probably the two", "each other as allies.", 0),
    (1, "palordrolap", "kbin.run", (), "", 5, 1, False, "NK’s narrative", "dictator of a new SSR.", 2),
    (2, "tal", "lemmy.today", (), "English", 2, 0, False, "That means that if", "few undamaged villages.”", 5),
    (1, "Crashumbc", "lemmy.world", (), "English", 2, 1, False, "NK has bodies,", "help each other plenty.", 2),
    (0, "RubberDuck", "lemmy.world", (), "English", 23, 0, False, "Kim should check", "and you get attacked.", 0),
    (1, "BombOmOm", "lemmy.world", (), "English", 21, 1, True, "The fun part is", "They are now correct.", 1),
    (2, None),
    (3, "BombOmOm", "lemmy.world", (), "English", 5, 0, True, "Ah, crap, that I do.", "are near Turkey.", 1),
    (2, "Kusimulkku", "lemm.ee", (), "English", 2, 0, False, "Russian equivalent of NATO", "tested either.", 2),
    (0, "Varyk", "sh.itjust.works", (), "English", 8, 0, False, "Imagine manacling", "I’ll protect you”.", 0),
    (0, "DarkCloud", "lemmy.world", (), "English", 7, 1, True, "Is this a back channel", "deniability insurance.", 1),
    (0, "Doom", "ttrpg.network", (), "English", 2, 0, False, "If you see this", "Putin is afraid", 0),
    (1, "BruceTwarzen", "lemm.ee", (), "English", 2, 0, False, "I just wonder what", "preeeeetty good i’d say", 0),
    (
        0,
        "AutoTL;DR",
        "lemmings.world",
        ("bot",),
        "English",
        2,
        0,
        False,
        "This is the best summary",
        "I’m open source!",
        7,
    ),
]


def meta(depth, token_lines):
    pad = " " * (2 * depth + 4)
    return "\n".join(pad + token for token in token_lines)


def one_comment(header, tokens, body="Body text.", depth=0):
    pad = " " * (2 * depth + 2)
    body_pad = pad + "  "
    return f"Article.\n\n{pad}• {header}\n{meta(depth, tokens)}\n\n{body_pad}{body}"


STANDARD_META = ["link", "fedilink", "English", "arrow-up", "3", "·", "2 days ago"]


def test_full_seed_parses_every_comment_with_its_metadata(seed_text):
    dump = parse_dump(seed_text, "000.txt")
    nodes = list(dump.walk())
    assert len(nodes) == len(SEED_FULL_COMMENTS)
    for node, expected in zip(nodes, SEED_FULL_COMMENTS):
        if expected[1] is None:
            assert node.is_placeholder and node.depth == expected[0]
            continue
        depth, author, instance, badges, language, up, down, edited, starts, ends, blanks = expected
        lines = node.body.split("\n")
        assert (node.depth, node.author_name, node.author_instance) == (depth, author, instance)
        assert (node.badges, node.language, node.upvotes, node.downvotes) == (badges, language, up, down)
        assert node.edited is edited and node.age == "5 months ago" and node.status == "normal"
        assert lines[0].startswith(starts) and lines[-1].endswith(ends)
        assert node.body.count("\n\n") == blanks
    assert dump.warnings == []


def test_full_seed_article_keeps_its_three_paragraphs_and_no_break_spaces(seed_text):
    article = parse_dump(seed_text).article
    paragraphs = article.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Vladimir Putin said Russia and North Korea")
    assert "\u00a0North Koreans" in paragraphs[1]


def test_body_list_items_at_reply_indentation_stay_body_text(seed_text):
    nested = next(node for node in parse_dump(seed_text).walk() if node.depth == 3)
    assert nested.body == (
        "Ah, crap, that I do. I should look at a map whenever I talk about them. "
        "It’s stored in my head in this fashion:\n\n"
        "• Russia’s buddy is in the west and gets disputed land taken by guy in the east.\n"
        "• Both countries start with ‘A’ and are near Turkey."
    )
    assert nested.children == []


def test_skipped_depth_gets_one_placeholder_shared_with_the_later_sibling(seed_text):
    bomb = parse_dump(seed_text).comments[1].children[0]
    placeholder, kusimulkku = bomb.children
    assert placeholder.is_placeholder and placeholder.depth == 2
    assert [child.author_name for child in placeholder.children] == ["BombOmOm"]
    assert kusimulkku.author_name == "Kusimulkku" and kusimulkku.depth == 2


def test_context_seed_roots_at_depth_zero_with_a_placeholder(context_text):
    dump = parse_dump(context_text)
    (root,) = dump.comments
    assert (root.author_name, root.depth, root.upvotes, root.edited) == ("BombOmOm", 0, 21, True)
    assert [child.is_placeholder for child in root.children] == [True, False]
    assert root.children[0].children[0].author_name == "BombOmOm"
    assert len(dump.real_comments()) == 3


def test_bot_badge_glued_to_the_host_is_split_off(seed_text):
    bot = parse_dump(seed_text).comments[-1]
    assert (bot.author_name, bot.author_instance, bot.badges, bot.is_bot) == (
        "AutoTL;DR",
        "lemmings.world",
        ("bot",),
        True,
    )


def test_double_blank_line_for_a_horizontal_rule_is_kept_in_the_body(seed_text):
    bot = parse_dump(seed_text).comments[-1]
    assert bot.body.startswith("This is the best summary I could come up with:\n\n\nVladimir Putin said")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("erotador@lemmy.blahaj.zoneOPM", ("erotador", "lemmy.blahaj.zone", ("op", "mod"))),
        ("Chaotic Cookie@sh.itjust.works", ("Chaotic Cookie", "sh.itjust.works", ())),
        ("me@home@lemmy.world", ("me@home", "lemmy.world", ())),
        ("hafenmeisterA", ("hafenmeister", "", ("admin",))),
        ("TeamDE", ("TeamDE", "", ())),
        ("OPM", ("OPM", "", ())),
        ("Toes♀@ani.social", ("Toes♀", "ani.social", ())),
        ("someone@xn--bcher-kva.exampleB", ("someone", "xn--bcher-kva.example", ("bot",))),
        ("spammer@lemmy.worldBanned", ("spammer", "lemmy.world", ())),
        ("spammer@lemmy.worldMBanned from community", ("spammer", "lemmy.world", ("mod",))),
        ("gone@lemmy.worlddeleted by creator", ("gone", "lemmy.world", ())),
        ("IAmBanned", ("IAmBanned", "", ())),
    ],
)
def test_header_text_splits_name_host_and_badges(text, expected):
    assert split_header_text(text) == expected


def test_compact_counts_are_stored_and_flagged_approximate():
    dump = parse_dump(
        one_comment("a@b.org", ["link", "fedilink", "arrow-up", "1.2K", "arrow-down", "12", "·", "1 year ago"])
    )
    comment = dump.comments[0]
    assert (comment.upvotes, comment.downvotes, comment.counts_approximate) == (1200, 12, True)


def test_missing_arrow_down_means_zero_and_missing_language_means_none():
    comment = parse_dump(one_comment("a@b.org", ["link", "fedilink", "arrow-up", "0", "·", "3 hours ago"])).comments[0]
    assert (comment.upvotes, comment.downvotes, comment.language) == (0, 0, "")


def test_cake_shield_and_badge_line_before_link_are_accepted():
    tokens = ["cake", "shield", "OPM", "link", "fedilink", "Deutsch", "arrow-up", "4", "·", "edit-2", "1 day ago"]
    comment = parse_dump(one_comment("a@b.org", tokens)).comments[0]
    assert comment.is_cake_day and comment.is_distinguished
    assert comment.badges == ("op", "mod") and comment.language == "Deutsch" and comment.edited


def test_deleted_and_removed_bodies_set_the_status():
    deleted = parse_dump(one_comment("a@b.org", STANDARD_META, "deleted by creator")).comments[0]
    removed = parse_dump(one_comment("a@b.org", STANDARD_META, "Removed by mod")).comments[0]
    longer = parse_dump(one_comment("a@b.org", STANDARD_META, "It was deleted by creator, sadly")).comments[0]
    assert (deleted.status, removed.status, longer.status) == ("deleted", "removed", "normal")


def test_bullet_without_metadata_in_the_article_is_article_text():
    text = (
        "Intro:\n\n  • first point\n  • second point\n" + one_comment("a@b.org", STANDARD_META)[len("Article.\n\n") :]
    )
    dump = parse_dump(text)
    assert dump.article == "Intro:\n\n  • first point\n  • second point"
    assert len(dump.comments) == 1


def test_empty_article_starts_with_a_header():
    text = one_comment("a@b.org", STANDARD_META)[len("Article.\n\n") :]
    dump = parse_dump(text)
    assert dump.article == "" and dump.comments[0].author_name == "a"


@pytest.mark.parametrize("seed", ["seed_text", "context_text"])
def test_writing_a_parsed_seed_gives_the_same_lines(seed, request):
    text = request.getfixturevalue(seed)
    assert write_dump(parse_dump(text)).splitlines() == text.splitlines()


def test_parse_error_names_source_and_line():
    error = DumpError(7, "unknown metadata token 'x'", "dumps/a.txt")
    assert str(error) == "dumps/a.txt:7: unknown metadata token 'x'"
