"""Time a large import, its unchanged re-import, and a raw executemany of the
same rows; report the process's peak memory.

Each round times an import, a raw insert of its rows and an unchanged
re-import, one right after the other, and the ratio is the median of the
rounds': on a shared machine the speed drifts by a quarter from one minute
to the next, and a round sees the same drift on all three.

Run by ``benchmarks/run.py`` in a process of its own, so the peak resident
size is the first import's and not the page benchmark's. Prints one JSON
object.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django

# The project root, for the tests package (its synthetic dumps) when run as a script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from tests.synthetic_dumps import write_dump  # noqa: E402
from threads.importer import import_dump  # noqa: E402
from threads.models import Capture, Comment, Person, Thread  # noqa: E402

CAPTURED_AT = datetime(2024, 11, 19, 12, 0, tzinfo=UTC)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_insert_seconds(thread_id):
    """Insert the imported rows again with one ``executemany`` into the same
    table, with its indexes and constraints, and commit: the floor for any
    importer, which must also commit what it stores (on SQLite the commit
    writes the transaction's last pages and checkpoints the WAL, a seventh
    of the insert). Returns the seconds with and without the commit, and
    the row count; once it returns, the table holds the same rows again."""
    fields = Comment._meta.concrete_fields
    rows = list(Comment.objects.filter(thread_id=thread_id).values_list(*[field.attname for field in fields]))
    adapt = connection.ops.adapt_datetimefield_value
    datetimes = [index for index, field in enumerate(fields) if field.get_internal_type() == "DateTimeField"]
    rows = [[adapt(value) if index in datetimes else value for index, value in enumerate(row)] for row in rows]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"INSERT INTO {quote(Comment._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    Comment.objects.filter(thread_id=thread_id)._raw_delete(connection.alias)
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        inserted = time.perf_counter()
    committed = time.perf_counter()
    return committed - started, inserted - started, len(rows)


def forget_import(thread_id):
    """Remove an imported thread and the people it brought, so that the next
    import starts from the same state as the first."""
    with transaction.atomic():
        Comment.objects.filter(thread_id=thread_id)._raw_delete(connection.alias)
        Capture.objects.filter(thread_id=thread_id).delete()
        Thread.objects.filter(pk=thread_id).delete()
        Person.objects.filter(user__isnull=True, comments__isnull=True, threads__isnull=True).delete()


def timed_import(path):
    """Time an import the way operators run one, through the command; return
    the capture it recorded and the seconds."""
    started = time.perf_counter()
    call_command("import_dump", str(path), captured_at=CAPTURED_AT, verbosity=0)
    seconds = time.perf_counter() - started
    return Capture.objects.order_by("-pk").first(), seconds


def long_edit_merge_ms(characters=100_000):
    """The milliseconds of merging a capture whose one long comment was edited
    (its body compared with the stored one, under the thread lock). Bodies
    are compared on their first words only, so this does not grow with the
    body; comparing whole bodies took minutes for 40,000 characters."""
    body = " ".join(f"word{number}" for number in range(characters // 8))[:characters]
    text = (
        "A post with one long comment.\n\n  • writer@lemmy.example\n    link\n    fedilink\n    arrow-up\n    1\n"
        f"    ·\n    1 day ago\n\n    {body}"
    )
    edited = text.replace("word1 ", "first ", 1).replace("    1 day ago", "    edit-2\n    1 hour ago", 1)
    first = import_dump(text, source="long.txt", captured_at=CAPTURED_AT)
    started = time.perf_counter()
    second = import_dump(edited, source="long-edited.txt", captured_at=CAPTURED_AT + timedelta(days=1))
    milliseconds = (time.perf_counter() - started) * 1000
    assert (second.added, second.updated) == (0, 1), second.summary()
    forget_import(first.thread_id)
    return round(milliseconds, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--no-reimport", action="store_true", help="skip the unchanged re-import (it reads the whole dump into memory)"
    )
    args = parser.parse_args()
    path = Path(tempfile.gettempdir()) / f"forum-bench-{args.comments}.txt"
    write_dump(path, args.comments, seed=7, gap_rate=0.01)
    size_mb = path.stat().st_size / 1024 / 1024
    baseline_mb = peak_rss_mb()
    imports, raws, uncommitted, reimports = [], [], [], []
    for round_number in range(args.rounds):
        report, seconds = timed_import(path)
        if not round_number:
            peak_mb = peak_rss_mb()
        imports.append(seconds)
        raw_seconds, uncommitted_seconds, raw_rows = raw_insert_seconds(report.thread_id)
        raws.append(raw_seconds)
        uncommitted.append(uncommitted_seconds)
        if not args.no_reimport:
            again, seconds = timed_import(path)
            assert again.added == 0 and again.updated == 0, (again.added, again.updated)
            reimports.append(seconds)
        forget_import(report.thread_id)
    path.unlink()
    import_seconds, raw_seconds = statistics.median(imports), statistics.median(raws)
    reimport_seconds = statistics.median(reimports) if reimports else None
    json.dump(
        {
            "comments": args.comments,
            "rows": raw_rows,
            "rounds": args.rounds,
            "import_s": round(import_seconds, 2),
            "import_rate": round(raw_rows / import_seconds),
            "reimport_s": round(reimport_seconds, 2) if reimports else None,
            "reimport_rate": round(raw_rows / reimport_seconds) if reimports else None,
            "raw_s": round(raw_seconds, 2),
            "raw_rate": round(raw_rows / raw_seconds),
            "raw_uncommitted_s": round(statistics.median(uncommitted), 2),
            "ratios": [round(raw / imported, 3) for imported, raw in zip(imports, raws)],
            "ratio_to_uncommitted": round(
                statistics.median(raw / imported for imported, raw in zip(imports, uncommitted)), 3
            ),
            "reimport_vs_import": [round(again / imported, 3) for imported, again in zip(imports, reimports)],
            "ratio": round(statistics.median(raw / imported for imported, raw in zip(imports, raws)), 3),
            "long_edit_merge_ms": long_edit_merge_ms(),
            "file_mb": round(size_mb, 1),
            "peak_rss_mb": round(peak_mb),
            "baseline_rss_mb": round(baseline_mb),
            "database": connection.vendor,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
