"""Fuzz the dump parser and importer with generated and mutated dumps.

Mutations start from the seeds (and from synthetic dumps), so most inputs are
almost valid: that is where a parser's error handling is weakest. Whatever
happens, only ``DumpError`` may escape, and a refused import leaves the
database exactly as it was.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL, assert_trees_intact, variant
from tests.damage import damage
from tests.synthetic_dumps import generate_dump
from threads.dump.errors import DumpError
from threads.dump.formats import format_count
from threads.dump.parsed import CURRENT
from threads.dump.parser import parse_dump
from threads.dump.reader import read_dump
from threads.dump.writer import write_dump
from threads.importer import import_dump
from threads.models import Comment, Person, Thread

SEEDS = [
    SEED_FULL.read_text(encoding="utf-8"),
    SEED_CONTEXT.read_text(encoding="utf-8"),
    generate_dump(60, seed=11, gap_rate=0.05),
    # The shapes real captures come in: a full page, a link post, a title
    # line, older lemmy-ui, hidden authors and mojibake.
    variant("full_page.txt"),
    variant("link_page.txt"),
    variant("wrapper.txt"),
    variant("legacy.txt"),
    variant("cloudflare.txt"),
    damage(variant("full_page_chromeless.txt"), "1257"),
]
TOKENS = [
    "link",
    "fedilink",
    "English",
    "arrow-up",
    "arrow-down",
    "·",
    "edit-2",
    "5 months ago",
    "12",
    "1.2K",
    "cake",
    "shield",
    "OPM",
    "heart",
    "smile",
    "80%",
    "•",
    "• a@b.org",
    "deleted by creator",
    "",
    "x",
    "112 hours ago",
    "-291 year ago",
    "45 days ago",
    "[email protected]",
    "@old_name",
    "message-square",
    "Subscribe from Remote Instance",
    "  • Communities",
    '"" A title - Pobierz',
    "Ā·",
    "ā€™",
]
FUZZ = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_dumps(draw):
    """A seed with a few line-level mutations: deletions, duplicates, swaps,
    re-indentation, injected tokens, truncation and stray characters."""
    lines = draw(st.sampled_from(SEEDS)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(["delete", "duplicate", "swap", "indent", "token", "truncate", "chars", "digits"])
        )
        line = lines[index]
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "swap" and index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], line
        elif action == "indent":
            shift = draw(st.integers(-3, 3))
            lines[index] = " " * max(0, len(line) - len(line.lstrip(" ")) + shift) + line.lstrip(" ")
        elif action == "token":
            indent = len(line) - len(line.lstrip(" "))
            lines.insert(index, " " * indent + draw(st.sampled_from(TOKENS)))
        elif action == "truncate":
            lines = [*lines[:index], line[: draw(st.integers(0, len(line)))]]
        elif action == "chars":
            lines[index] = line + draw(st.text(alphabet=" •·@\u00a0<>&\"'\\", max_size=4))
        elif action == "digits":
            lines[index] = line.replace("2", draw(st.sampled_from(["", "x", "2.5", "99999999999", "-2"])))
    return "\n".join(lines)


structured_noise = st.lists(
    st.tuples(st.integers(0, 12), st.sampled_from([*TOKENS, "Some body text.", "• list item"])), max_size=40
).map(lambda rows: "\n".join(" " * indent + token for indent, token in rows))


def comparable(dump):
    """What a reader sees of a dump; large counts compare as printed, since
    compact notation (``100B``) cannot carry every digit."""
    return (
        dump.article,
        [
            (
                c.depth,
                c.is_placeholder,
                c.author_name,
                c.author_instance,
                c.author_shown,
                c.badges,
                c.language,
                format_count(c.upvotes),
                format_count(c.downvotes),
                c.edited,
                c.age,
                c.body,
                c.status,
                c.is_cake_day,
                c.is_distinguished,
            )
            for c in dump.walk()
        ],
    )


@FUZZ
@given(st.one_of(mutated_dumps(), structured_noise, st.text(max_size=300)))
def test_reader_raises_nothing_but_its_own_error_and_round_trips_what_it_accepts(text):
    """Whatever the page's shape, the reader either refuses it naming a line
    of the file or reads it; what it reads in the current layout the writer
    gives back (older layouts are written in the current one, not back)."""
    try:
        dump = read_dump(text, "fuzz.txt")
    except DumpError as error:
        assert str(error).startswith("fuzz.txt:") and 1 <= error.line <= text.count("\n") + 2
        return
    if dump.layout == CURRENT:
        assert comparable(parse_dump(write_dump(dump))) == comparable(dump)


def database_state():
    return (
        list(Thread.objects.order_by("pk").values_list("pk", "fingerprint", "comment_count", "captured_at")),
        list(
            Comment.objects.order_by("pk").values_list(
                "pk", "parent_id", "body", "imported_upvotes", "tree_id", "lft", "rght"
            )
        ),
        list(Person.objects.order_by("pk").values_list("pk", "name", "instance", "is_bot")),
    )


class ImportFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        import_dump(SEEDS[0], source="seed.txt", captured_at=CAPTURED_AT)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(mutated_dumps())
    def test_refused_import_leaves_the_database_as_it_was(self, text):
        before = database_state()
        try:
            import_dump(text.encode("utf-8"), source="fuzz.txt", captured_at=CAPTURED_AT, title="Fuzzed")
        except DumpError:
            assert database_state() == before
            return
        assert_trees_intact()
        assert Comment.objects.filter(is_placeholder=False).count() == sum(
            thread.comment_count for thread in Thread.objects.all()
        )


@pytest.mark.parametrize("data", [b"\xff\xfe\x00", b"ok\n\x80\n", "caf\u00e9".encode("latin-1")])
@pytest.mark.django_db
def test_undecodable_bytes_are_a_dump_error(data):
    with pytest.raises(DumpError, match="not UTF-8"):
        import_dump(data, source="bytes.txt", captured_at=CAPTURED_AT)
    assert not Thread.objects.exists()
