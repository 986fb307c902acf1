"""The shapes real captures come in, read before and by the parser: mojibake,
title lines, full pages, search excerpts, older lemmy-ui, and the files that
must be refused rather than read wrong."""

import pytest

from tests.conftest import variant
from tests.damage import damage
from threads.dump import legacy
from threads.dump.errors import DumpError
from threads.dump.formats import NO_SCORE, SCORE_ONLY, UP_AND_DOWN, age_window
from threads.dump.mojibake import repair_mojibake
from threads.dump.page import restore_first_indent
from threads.dump.parser import parse_dump
from threads.dump.reader import read_dump

HOUR = 3600


FRENCH_REPLY = (
    "\n\n  • zoë@coast.social\n    link\n    fedilink\n    Français\n    arrow-up\n    2\n    ·\n    1 day ago\n\n"
    "    Ça m’a plu — vraiment. “Très” bien… 5 – 6 km\u00a0à pied, ”cité” · fin 😀 Šiauliai žuvis"
)


class TestMojibake:
    @pytest.mark.parametrize(("family", "name"), [("1257", "Windows-1257"), ("1252", "Windows-1252")])
    def test_damaged_text_comes_back_byte_for_byte_with_one_notice(self, family, name):
        clean = variant("full_page_chromeless.txt") + FRENCH_REPLY
        damaged = damage(clean, family)
        assert ("    Ā·" if family == "1257" else "    Â·") in damaged.split("\n")
        repaired, notice = repair_mojibake(damaged)
        assert repaired == clean
        changed = sum(before != after for before, after in zip(clean.split("\n"), damaged.split("\n")))
        assert notice == f"repaired mojibake ({name}) on {changed} lines"

    def test_the_reader_stores_only_the_repaired_text_and_says_so(self):
        clean = variant("full_page_chromeless.txt")
        dump = read_dump(damage(clean, "1257"), "broken.txt")
        assert dump.article == read_dump(clean).article
        assert dump.warnings[0].startswith("broken.txt: repaired mojibake (Windows-1257) on ")

    def test_damage_that_lost_a_byte_is_refused_at_its_line(self):
        # "á" is C3 A1, and A1 is undefined in Windows-1257: the page lost it.
        damaged = damage(variant("wrapper_bare.txt") + FRENCH_REPLY.replace("Ça", "Está"), "1257")
        line = next(number for number, text in enumerate(damaged.split("\n"), 1) if "Est" in text)
        with pytest.raises(DumpError) as raised:
            read_dump(damaged, "lost.txt")
        assert str(raised.value) == (
            f"lost.txt:{line}: text damaged as Windows-1257 mojibake that does not decode back to UTF-8"
        )

    def test_a_page_with_intact_separators_is_never_touched(self):
        text = variant("wrapper_bare.txt").replace("too early.", "too early, it shows â€™ everywhere.")
        assert repair_mojibake(text) == (text, None)


class TestWrapperLine:
    def test_the_title_line_is_a_found_title_and_never_article_text(self):
        wrapped, bare = read_dump(variant("wrapper.txt")), read_dump(variant("wrapper_bare.txt"))
        assert wrapped.post.title == "Ferry timetable changes for the island route"
        assert wrapped.article == bare.article and bare.post is None

    def test_only_the_exact_shape_counts(self):
        text = '"" Ferry timetable changes\n\n' + variant("wrapper_bare.txt")
        assert read_dump(text).article.startswith('"" Ferry timetable changes')

    def test_lines_are_still_counted_in_the_file(self):
        text = variant("wrapper.txt").replace("    1 day ago", "    45 days ago")
        with pytest.raises(DumpError, match=r"^wrapped.txt:12: age '45 days ago' is not one lemmy-ui prints$"):
            read_dump(text, "wrapped.txt")


class TestFullPage:
    def test_a_full_page_gives_the_post_and_the_same_article_and_comments(self):
        page, bare = read_dump(variant("full_page.txt")), read_dump(variant("full_page_chromeless.txt"))
        post = page.post
        assert (post.title, post.author, post.community, post.language) == (
            "Spring tides flooded the old harbour road again",
            "harbour_pilot@lemmy.exampleM",
            "Tide Tables@lemmy.example",
            "English",
        )
        assert (post.age, post.edited, post.comment_count, post.score, post.domain) == (
            "3 days ago",
            False,
            4,
            27,
            "news.example.org",
        )
        assert page.article == bare.article
        assert [(c.author_name, c.depth, c.body) for c in page.walk()] == [
            (c.author_name, c.depth, c.body) for c in bare.walk()
        ]

    def test_a_link_post_page_has_no_article_and_its_negative_score(self):
        page = read_dump(variant("link_page.txt"))
        assert page.article == "" and page.post.score == -3 and page.post.language == ""
        assert [c.author_name for c in page.walk()] == ["barnacle_bill", "old_salt", "spindrift"]

    def test_the_sidebar_list_items_are_not_comments(self):
        page = read_dump(variant("full_page.txt"))
        assert len(page.real_comments()) == 3
        assert all("Be kind" not in comment.body for comment in page.walk())

    @pytest.mark.parametrize(
        ("old", "new", "line", "found"),
        [
            # Logged in: a notification bell and a user menu where Login and Sign Up go.
            ("  • Login\n  • Sign Up\n", "  • bell\n  • harbour_pilot\n", 9, "'  • bell'"),
            # A French interface.
            ("  • Communities\n", "  • Communautés\n", 2, "'  • Communautés'"),
            # The second post block disagrees with the first.
            (
                "\n\nSpring tides flooded the old harbour road again\n\nnews.example.org\n\nharbour_pilot",
                "\n\nSpring tide\n\nnews.example.org\n\nharbour_pilot",
                24,
                "'Spring tide'",
            ),
        ],
    )
    def test_chrome_that_does_not_fit_is_refused_where_it_stops_fitting(self, old, new, line, found):
        text = variant("full_page.txt")
        assert old in text
        with pytest.raises(DumpError) as raised:
            read_dump(text.replace(old, new, 1), "page.txt")
        assert raised.value.line == line
        assert str(raised.value).startswith(f"page.txt:{line}: {found} does not fit a full Lemmy page here")

    def test_icons_after_the_title_and_a_cross_post_list_are_chrome(self):
        text = variant("full_page.txt").replace(
            "\nSpring tides flooded the old harbour road again\n",
            "\nSpring tides flooded the old harbour road again\nlock\npin\n",
        )
        text = text.replace(
            "message-square\n4\n", "message-square\n4\ncross-posted to:\n  • Flooding@lemmy.example\n", 1
        )
        page = read_dump(text)
        assert page.post.title == "Spring tides flooded the old harbour road again"
        assert page.article == read_dump(variant("full_page_chromeless.txt")).article

    def test_an_edited_posts_age_follows_edit_2_on_lines_of_its_own(self):
        text = variant("full_page.txt").replace("English · 3 days ago\n", "English ·\nedit-2\n2 days ago\n")
        post = read_dump(text).post
        assert (post.age, post.edited, post.community) == ("2 days ago", True, "Tide Tables@lemmy.example")

    def test_text_at_indent_0_after_the_comments_must_be_the_sidebar(self):
        text = variant("full_page.txt").replace("Subscribe from Remote Instance", "Follow")
        line = text.split("\n").index("Tide Tables@lemmy.example") + 1
        with pytest.raises(DumpError, match=rf"^page.txt:{line}: text at indent 0 after the comments"):
            read_dump(text, "page.txt")


class TestSearchExcerpt:
    def test_a_first_header_that_lost_its_indent_gets_it_back(self):
        text = variant("link_page_chromeless.txt")
        lines, warning = restore_first_indent(text.lstrip(" ").split("\n"))
        assert "\n".join(lines) == text and "2 spaces" in warning

    def test_an_excerpt_that_lost_two_columns_everywhere_gets_them_back(self):
        text = variant("link_page_chromeless.txt")
        shifted = "\n".join(line[2:] for line in text.split("\n"))
        dump = read_dump(shifted, "excerpt.txt")
        assert [c.author_name for c in dump.walk()] == ["barnacle_bill", "old_salt", "spindrift"]
        assert dump.warnings == ["excerpt.txt:1: the excerpt lost two columns of indent on every line; restored them"]


class TestLegacyLayout:
    @pytest.mark.parametrize(
        ("line", "cuts"),
        [
            ("08 months ago", [(0, "8 months ago")]),
            ("-291 year ago", [(-29, "1 year ago")]),
            ("221 day ago", [(22, "1 day ago")]),
            ("1384 hours ago", [(138, "4 hours ago")]),
            ("250 minutes ago", [(2, "50 minutes ago")]),
            ("112 hours ago", [(1, "12 hours ago"), (11, "2 hours ago")]),
            ("1.2K3 days ago", [(1200, "3 days ago")]),
            ("0 minutes ago", []),
        ],
    )
    def test_a_glued_line_cuts_only_into_what_lemmy_ui_prints(self, line, cuts):
        assert [(reading.score, reading.age) for reading in legacy.glued_readings(line)] == cuts

    def test_a_reply_settles_its_parents_reading(self):
        dump = read_dump(variant("legacy.txt"))
        greenfinger = dump.comments[0]
        assert (greenfinger.upvotes, greenfinger.age, greenfinger.votes_shown) == (1, "12 hours ago", SCORE_ONLY)

    def test_a_parent_settles_its_replys_reading(self):
        text = (
            "Post.\n\n  • @parent\n    link\n    44 hours ago\n\n    Older.\n\n"
            "    • @reply\n      link\n      112 hours ago\n\n      Newer."
        )
        reply = read_dump(text).comments[0].children[0]
        assert (reply.upvotes, reply.age) == (11, "2 hours ago")

    def test_an_unedited_posts_age_bounds_every_comment(self):
        (comment,) = read_dump("Post.\n\n  • @someone\n    link\n    112 hours ago\n\n    Hi.").comments
        readings = {id(comment): legacy.glued_readings("112 hours ago")}
        legacy.resolve_readings([comment], readings, edited=set(), bound=age_window("5 hours ago"))
        assert [(reading.score, reading.age) for reading in readings[id(comment)]] == [(11, "2 hours ago")]

    def test_older_pages_give_scores_hosts_and_edits(self):
        comments = list(read_dump(variant("legacy.txt")).walk())
        shown = [
            (c.author_name, c.author_instance, c.instance_known, c.upvotes - c.downvotes, c.age, c.edited)
            for c in comments
        ]
        assert shown == [
            ("greenfinger", "", True, 1, "12 hours ago", False),
            ("Marrow Queen", "", False, 3, "7 hours ago", False),
            ("greenfinger", "", True, 4, "1 hour ago", False),
            ("compost_carl", "lemmy.example", True, 3, "2 days ago", True),
            ("Bean Counter", "", False, -29, "1 year ago", False),
            ("slug_patrol", "beehaw.example", True, 0, "8 months ago", False),
            ("tomato_tim", "", True, 0, "123 days ago", False),
            ("pond_skater", "", True, 22, "1 day ago", False),
        ]
        assert comments[3].badges == ("op",)

    def test_a_reading_still_ambiguous_is_stored_unknown_with_one_warning(self):
        dump = read_dump(variant("legacy.txt"), "legacy.txt")
        tomato = dump.comments[-2]
        line = variant("legacy.txt").split("\n").index("  • @tomato_tim") + 1
        assert tomato.votes_shown == NO_SCORE and (tomato.upvotes, tomato.downvotes) == (0, 0)
        assert tomato.age_span == (2.5 * 24 * HOUR, 23.5 * 24 * HOUR)
        assert dump.warnings == [
            f"legacy.txt:{line}: ambiguous score and age '123 days ago': 1 + 23 days or 12 + 3 days; "
            "stored with the score unknown"
        ]

    def test_a_file_mixing_both_layouts_is_refused(self):
        text = variant("wrapper_bare.txt") + "\n  • @old\n    link\n    15 days ago\n\n    Glued."
        with pytest.raises(DumpError, match=r"^mixed.txt:16: no vote counts in this comment's metadata"):
            read_dump(text, "mixed.txt")

    def test_a_glued_line_with_no_valid_cut_is_refused(self):
        text = "Post.\n\n  • @someone\n    link\n    0 minutes ago\n\n    Hi."
        with pytest.raises(DumpError, match=r"^old.txt:5: age '0 minutes ago' without a score"):
            read_dump(text, "old.txt")

    def test_current_pages_keep_up_and_down(self):
        assert {c.votes_shown for c in read_dump(variant("full_page.txt")).walk()} == {UP_AND_DOWN}


@pytest.mark.parametrize(
    "age",
    ["45 days ago", "221 day ago", "08 months ago", "13 months ago", "1 days ago", "0 minutes ago", "25 hours ago"],
)
def test_ages_lemmy_ui_never_prints_are_format_errors(age):
    text = variant("wrapper_bare.txt").replace("    1 day ago", f"    {age}")
    with pytest.raises(DumpError) as raised:
        read_dump(text, "ages.txt")
    assert str(raised.value) == f"ages.txt:10: age {age!r} is not one lemmy-ui prints"


def test_every_age_in_its_band_is_printable_and_the_edges_are_not():
    assert age_window("60 seconds ago") == (59.5, 60)
    assert age_window("1 year ago") == (345 * 24 * HOUR, 547.5 * 24 * HOUR)


class TestNoCommentMetadata:
    def test_comment_shaped_lines_without_headers_are_refused_naming_the_first(self):
        with pytest.raises(DumpError) as raised:
            read_dump(variant("no_metadata.txt"), "photon.txt")
        assert str(raised.value) == (
            "photon.txt:8: no comment header (a bullet followed by link) in the file, yet line 8 is a bullet with "
            "indented text under it and line 9 an age: this looks like a rendering without comment metadata "
            "(import it as article-only if it has no comments)"
        )

    def test_article_only_reads_them_as_the_article(self):
        dump = read_dump(variant("no_metadata.txt"), article_only=True)
        assert dump.comments == [] and "The northern cliff path" in dump.article

    def test_an_article_with_its_own_list_and_no_comments_is_a_post_with_no_comments(self):
        text = "Things to pack:\n\n  • boots\n  • a flask\n\nThat is all."
        dump = read_dump(text)
        assert (dump.article, dump.comments) == (text, [])


class TestMisplacedMetadata:
    def test_metadata_far_off_its_header_is_refused(self):
        with pytest.raises(DumpError) as raised:
            read_dump(variant("misplaced.txt"), "misplaced.txt")
        assert str(raised.value) == (
            "misplaced.txt:4: metadata line 'link' at indent 8, expected 4 under the header on line 3"
        )

    def test_a_bullet_whose_link_line_starts_no_metadata_stays_text(self):
        text = variant("wrapper_bare.txt") + "\n\n    • a list item\n        link\n        is just a word here"
        assert read_dump(text).comments[0].body.endswith("• a list item\n    link\n    is just a word here")


class TestHiddenAuthors:
    def test_an_obfuscated_author_is_unknown_and_keeps_what_the_page_showed(self):
        dump = read_dump(variant("cloudflare.txt"), "cf.txt")
        first, second, named = dump.comments
        assert (first.author_known, first.author_shown, first.author_name) == (False, "[email protected]", "")
        assert not second.author_known and named.author_name == "ferryman"
        assert dump.warnings == [
            "cf.txt:3: author shown as '[email protected]' (Cloudflare's email obfuscation) on 2 comments: "
            "stored as unknown"
        ]

    def test_obfuscation_in_a_body_stays_text(self):
        assert "Write to [email protected] if" in read_dump(variant("cloudflare.txt")).comments[0].body

    def test_badges_glued_to_an_obfuscated_author_are_read(self):
        text = variant("cloudflare.txt").replace("  • [email protected]\n", "  • [email protected]OP\n", 1)
        assert read_dump(text).comments[0].badges == ("op",)


def test_an_article_past_the_size_cap_is_refused_at_the_line_that_passes_it():
    text = "First line.\n" + "x" * 60 + "\n" + variant("wrapper_bare.txt")
    with pytest.raises(DumpError, match=r"^big.txt:2: the article passes 50 bytes, the most an import takes$"):
        read_dump(text, "big.txt", max_article_bytes=50)
    assert parse_dump(text, max_article_bytes=10_000).comments


def test_a_language_or_a_name_longer_than_any_lemmy_shows_is_refused_at_its_line():
    text = variant("wrapper_bare.txt")
    with pytest.raises(DumpError, match=r"^long.txt:6: a language name of 80 characters where the language goes$"):
        read_dump(text.replace("    English\n", "    " + "x" * 80 + "\n", 1), "long.txt")
    with pytest.raises(DumpError, match=r"^long.txt:3: an author's name of 300 characters$"):
        read_dump(text.replace("wavewatcher@coast.social", "w" * 300, 1), "long.txt")
