"""Import Lemmy thread dumps (plain-text renderings of post pages).

Each file is imported in its own transaction: a malformed file is refused
with ``path:line: what is wrong`` and leaves the database as it was, while
the other files are still imported; any refusal makes the exit status 1.
"""

import gc
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from threads.dump.formats import FormatError, parse_host
from threads.importer import import_or_refuse
from threads.management.arguments import aware_datetime

PROGRESS_THRESHOLD = 5_000


class Command(BaseCommand):
    help = "Import one or more Lemmy thread dumps, creating threads or merging into existing ones."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--captured-at", type=aware_datetime, help="When the pages were captured (ISO-8601); default: now."
        )
        parser.add_argument(
            "--title",
            help="Thread title; default: one the page shows, else the article's (or first comment's) first sentence.",
        )
        parser.add_argument(
            "--instance",
            default="",
            help="Host of the instance that rendered the page (authors shown without @host).",
        )
        parser.add_argument(
            "--article-only",
            action="store_true",
            help="The files have no comments: lines that look like comments without their metadata are article text.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; store nothing.")

    def handle(self, *args, paths, captured_at, title, instance, article_only, dry_run, verbosity, **options):
        try:
            instance = parse_host(instance) if instance else ""
        except FormatError as error:
            raise CommandError(f"--instance: {error}") from None
        if captured_at is None and verbosity:
            self.stderr.write("warning: no --captured-at given; ages are counted back from now")
        refused = 0
        for path in paths:
            with garbage_collector_paused():
                refused += self.import_one(path, captured_at, title, instance, article_only, dry_run, verbosity)
        imported = len(paths) - refused

        summary = f"{imported} of {len(paths)} files {'checked' if dry_run else 'imported'}"
        if refused:
            raise CommandError(f"{summary}, {refused} refused", returncode=1)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(summary))

    def import_one(self, path, captured_at, title, instance, article_only, dry_run, verbosity):
        """Import one file and print what it did; return 1 if it was refused, else 0."""
        report, refusal = import_or_refuse(
            Path(path),
            source=path,
            captured_at=captured_at,
            title=title,
            instance=instance,
            article_only=article_only,
            dry_run=dry_run,
            progress=self.progress_printer(path) if verbosity else None,
        )
        if refusal:
            self.stderr.write(refusal)
            return 1
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        if verbosity:
            self.stdout.write(report.summary())
        return 0

    def progress_printer(self, path):
        """Print a line per tenth of a large dump, so long imports show life."""
        shown = {}

        def show(stage, done, total):
            if total < PROGRESS_THRESHOLD:
                return
            tenth = done * 10 // total
            if shown.get(stage, 0) < tenth:
                shown[stage] = tenth
                self.stderr.write(f"{path}: {stage} {done:,}/{total:,} comments")

        return show


@contextmanager
def garbage_collector_paused():
    """Pause Python's cyclic garbage collector while one file is imported.

    A large dump becomes a few hundred thousand objects, none of them garbage
    before the import ends, and the collections their allocation alone sets
    off took 6% of a 100,000-comment import. A command is a process of its
    own, so pausing is safe here; the importer itself never does it, since
    the admin runs it inside a web server's worker.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
