"""Refresh what decays or accumulates between writes: hot ranks and karma.

Run it every few minutes (cron, a systemd timer), as Lemmy refreshes its
ranks on a schedule. Writers keep every stored rank exact as of the last
refresh (``HotRankEpoch``); this moves that moment to now, so the front
page's hot order is never older than the interval between runs. It also
folds the karma changes comments have logged into people's totals, which
keeps each profile's karma one indexed read.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from threads.models import KarmaChange, Thread
from threads.page_cache import LISTING, changed


class Command(BaseCommand):
    help = "Re-rank the last week's threads as of now and fold pending karma changes."

    def handle(self, *args, verbosity, **options):
        ranked = Thread.objects.refresh_hot_ranks(timezone.now())
        changed(LISTING)
        people = KarmaChange.objects.fold()
        if verbosity:
            self.stdout.write(f"Re-ranked {ranked} threads; karma changed for {people} people.")
