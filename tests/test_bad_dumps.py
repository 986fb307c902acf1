"""Malformed dumps are refused with path:line, and nothing of them is stored."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import CAPTURED_AT, SEED_CONTEXT
from threads.dump.errors import DumpError
from threads.dump.reader import read_dump
from threads.importer import import_dump
from threads.models import Capture, Comment, Person, Thread

HEADER = "  • someone@lemmy.world"


def with_meta(*tokens, body="    Text."):
    return "\n".join(["Article text.", "", HEADER, *("    " + token for token in tokens), "", body])


BAD_DUMPS = {
    "empty file": ("", 1, "empty file"),
    "only blank lines": ("\n\n\n", 1, "empty file"),
    "metadata truncated by the end of the file": (
        "Article.\n\n" + HEADER + "\n    link\n    fedilink",
        5,
        "metadata ends early",
    ),
    "metadata broken by a blank line": (with_meta("link", "fedilink", "", "arrow-up"), 6, "metadata ends early"),
    "unknown token": (
        with_meta("link", "fedilink", "English", "Deutsch", "arrow-up", "2", "·", "1 day ago"),
        7,
        "unknown metadata token 'Deutsch'",
    ),
    "token out of order": (
        with_meta("link", "fedilink", "arrow-down", "2", "·", "1 day ago"),
        6,
        "unexpected metadata token 'arrow-down'",
    ),
    "separator missing": (
        with_meta("link", "fedilink", "arrow-up", "2", "1 day ago"),
        8,
        "unexpected metadata token '1 day ago'",
    ),
    "unparseable count": (
        with_meta("link", "fedilink", "arrow-up", "2x", "·", "1 day ago"),
        7,
        "unparseable count '2x'",
    ),
    "unparseable age": (
        with_meta("link", "fedilink", "arrow-up", "2", "·", "3 weeks ago"),
        9,
        "unparseable age '3 weeks ago'",
    ),
    "count too large to store": (
        with_meta("link", "fedilink", "arrow-up", "999999999993", "·", "1 day ago"),
        7,
        "count '999999999993' is more than 2,147,483,647",
    ),
    "age too large for a date": (
        with_meta("link", "fedilink", "arrow-up", "2", "·", "5000 years ago"),
        9,
        "'5000 years ago' is more than 1000 years",
    ),
    "localised age": (
        with_meta("link", "fedilink", "arrow-up", "2", "·", "vor 5 Monaten"),
        9,
        "unknown metadata token 'vor 5 Monaten'",
    ),
    "bare score followed by a bullet": (with_meta("link", "fedilink", "12", "•", "1 day ago"), 7, "bare score '12'"),
    "odd header indentation": (
        "Article.\n\n   • a@b.org\n     link\n     fedilink\n     arrow-up\n     1\n     ·\n     1 day ago\n\n     Hi",
        3,
        "indent 3",
    ),
    "metadata at a wrong indent": (
        "Article.\n\n  • a@b.org\n     link\n    fedilink",
        4,
        "metadata line 'link' at indent 5",
    ),
    "body indented less than its comment": (
        with_meta("link", "fedilink", "arrow-up", "1", "·", "1 day ago", body="    Fine.\n  Too shallow."),
        12,
        "text at indent 2",
    ),
    "tab character": ("Article.\n\tindented", 2, "tab character"),
    "full page render": ("Communities\nCreate Post\n\nSome text", 2, "full Lemmy page"),
}


@pytest.mark.parametrize("kind", BAD_DUMPS)
def test_malformed_dump_is_refused_with_its_line_and_reason(kind):
    text, line, message = BAD_DUMPS[kind]
    with pytest.raises(DumpError) as raised:
        read_dump(text, "bad.txt")
    assert raised.value.line == line
    assert message in raised.value.message
    assert str(raised.value).startswith(f"bad.txt:{line}: ")


def test_bytes_that_are_not_utf8_name_their_line(db):
    with pytest.raises(DumpError) as raised:
        import_dump("Fine line\nbad \xff byte\n".encode("latin-1"), source="latin.txt")
    assert str(raised.value).startswith("latin.txt:2: bytes that are not UTF-8")


def test_empty_article_imports_with_a_title_from_its_first_comment(db):
    text = "\n".join(
        [
            HEADER,
            "    link",
            "    fedilink",
            "    arrow-up",
            "    1",
            "    ·",
            "    1 day ago",
            "",
            "    Hi there, a link.",
        ]
    )
    import_dump(text, source="no-article.txt")
    thread = Thread.objects.get()
    assert (thread.title, thread.title_source, thread.body) == ("Hi there, a link.", "derived", "")


def database_state():
    return (
        list(Thread.objects.values_list("pk", "title", "comment_count", "captured_at")),
        list(Comment.objects.values_list("pk", "parent_id", "body", "imported_upvotes", "tree_id", "lft", "rght")),
        list(Person.objects.values_list("pk", "name", "instance")),
        Capture.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("trees_stay_intact")
@pytest.mark.parametrize(
    "kind", ["metadata truncated by the end of the file", "unknown token", "unparseable age", "empty file"]
)
def test_command_refuses_a_bad_file_changes_nothing_and_imports_the_rest(tmp_path, kind, seed_text):
    call_command("import_dump", str(SEED_CONTEXT), captured_at=CAPTURED_AT, verbosity=0)
    before = database_state()
    text, line, message = BAD_DUMPS[kind]
    bad = tmp_path / "bad.txt"
    bad.write_text(text, encoding="utf-8")
    broken_merge = tmp_path / "broken-merge.txt"
    broken_merge.write_text(seed_text.replace("    43\n", "    4x3\n"), encoding="utf-8")
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_dump", str(bad), str(broken_merge), captured_at=CAPTURED_AT, stdout=stdout, stderr=stderr)
    assert raised.value.returncode == 1
    assert f"{bad}:{line}: " in stderr.getvalue() and message in stderr.getvalue()
    assert f"{broken_merge}:12: unparseable count '4x3'" in stderr.getvalue()
    assert "Traceback" not in stderr.getvalue()
    assert database_state() == before


@pytest.mark.django_db
@pytest.mark.usefixtures("trees_stay_intact")
def test_good_files_are_imported_beside_a_refused_one(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("", encoding="utf-8")
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 files imported, 1 refused"):
        call_command("import_dump", str(bad), str(SEED_CONTEXT), captured_at=CAPTURED_AT, stdout=stdout, stderr=stderr)
    assert f"{bad}:1: empty file" in stderr.getvalue()
    assert Comment.objects.filter(is_placeholder=False).count() == 3


@pytest.mark.django_db
def test_missing_file_is_reported_without_a_traceback(tmp_path):
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("import_dump", str(tmp_path / "nope.txt"), stdout=StringIO(), stderr=stderr)
    assert "nope.txt:0: cannot read the file" in stderr.getvalue()
