"""Exporting threads back to the dump format."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL
from threads.dump.parser import parse_dump
from threads.importer import import_dump_file
from threads.models import Comment, Thread

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seed", [SEED_FULL, SEED_CONTEXT])
def test_export_reproduces_the_imported_dump_line_for_line(seed, tmp_path):
    import_dump_file(seed, captured_at=CAPTURED_AT)
    out = tmp_path / "out.txt"
    call_command("export_dump", Thread.objects.get().pk, as_of=CAPTURED_AT, output=str(out))
    assert out.read_text(encoding="utf-8").splitlines() == seed.read_text(encoding="utf-8").splitlines()


def test_ages_are_printed_relative_to_as_of():
    import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
    stdout = StringIO()
    call_command("export_dump", Thread.objects.get().pk, as_of=CAPTURED_AT + timedelta(days=60), stdout=stdout)
    ages = {comment.age for comment in parse_dump(stdout.getvalue()).real_comments()}
    assert ages == {"7 months ago"}


def test_export_shows_imported_plus_local_votes():
    import_dump_file(SEED_CONTEXT, captured_at=CAPTURED_AT)
    Comment.objects.filter(author__name="Kusimulkku").update(local_upvotes=1, local_downvotes=2)
    stdout = StringIO()
    call_command("export_dump", Thread.objects.get().pk, as_of=CAPTURED_AT, stdout=stdout)
    kusimulkku = next(c for c in parse_dump(stdout.getvalue()).real_comments() if c.author_name == "Kusimulkku")
    assert (kusimulkku.upvotes, kusimulkku.downvotes) == (3, 2)


def test_exporting_an_unknown_thread_is_a_clear_error():
    with pytest.raises(CommandError, match="no thread with id 999"):
        call_command("export_dump", 999, stdout=StringIO())
