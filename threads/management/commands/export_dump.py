"""Write a thread back out in the Lemmy dump format (also a thread backup)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from threads.exporter import export_thread
from threads.management.arguments import aware_datetime
from threads.models import Thread


class Command(BaseCommand):
    help = "Export a thread in the dump format, with ages relative to --as-of."

    def add_arguments(self, parser):
        parser.add_argument("thread_id", type=int, metavar="THREAD_ID")
        parser.add_argument("--as-of", type=aware_datetime, help="Print ages relative to this time; default: now.")
        parser.add_argument("-o", "--output", metavar="PATH", help="Write here instead of standard output.")

    def handle(self, *args, thread_id, as_of, output, **options):
        try:
            thread = Thread.objects.get(pk=thread_id)
        except Thread.DoesNotExist:
            raise CommandError(f"no thread with id {thread_id}") from None
        text = export_thread(thread, as_of=as_of)
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
