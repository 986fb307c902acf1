"""Find comment trees that concurrent or manual writes have broken.

django-mptt corruption is silent until a subtree query returns the wrong
rows, so operators need a check; ``--repair`` renumbers each affected
thread from its parent links under the same lock every writer takes.
"""

from django.core.management.base import BaseCommand, CommandError

from threads.trees import find_tree_problems, rebuild_thread_trees


class Command(BaseCommand):
    help = "Report broken comment trees; with --repair, rebuild them."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Rebuild every thread with a broken tree.")

    def handle(self, *args, repair, verbosity, **options):
        problems = find_tree_problems()
        for problem in problems:
            self.stderr.write(str(problem))
        if not problems:
            if verbosity:
                self.stdout.write(self.style.SUCCESS("All comment trees are sound."))
            return
        if not repair:
            raise CommandError(f"{len(problems)} problems found; run with --repair to rebuild", returncode=1)
        thread_ids = sorted({pk for problem in problems for pk in problem.thread_ids})
        for thread_id in thread_ids:
            changed = rebuild_thread_trees(thread_id)
            self.stdout.write(f"thread {thread_id}: rebuilt, {changed} comments renumbered")
        remaining = find_tree_problems()
        if remaining:
            raise CommandError(f"{len(remaining)} problems remain after the repair", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Repaired {len(thread_ids)} threads."))
