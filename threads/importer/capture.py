"""Import one captured page: find its thread, merge it, record the capture.

Each file is one transaction under the thread's tree lock: it is stored
whole or not at all. The thread's own fields follow the captures: its title
(a title found in a dump replaces a derived one, one given on import
replaces both and is never replaced), and what a full page says about the
post (its author, community, time, comment count and score), where no newer
capture said otherwise.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from threads.dump.authors import split_header_text
from threads.dump.errors import DumpError
from threads.dump.formats import SCORE_ONLY, parse_age
from threads.dump.reader import read_dump, read_dump_file
from threads.importer.identity import (
    EMPTY_ARTICLE_PREFIX,
    article_fingerprint,
    comment_key,
    first_sentence,
    is_identifying,
    new_empty_fingerprint,
    normalise_text,
    post_fingerprint,
    stored_key,
)
from threads.importer.merge import Merge
from threads.importer.store import badge_text, chunks, person_key, resolve_people
from threads.markup import render_dump_text
from threads.models import Capture, Comment, Thread
from threads.trees import tree_write

logger = logging.getLogger(__name__)
# The advisory lock that link-post imports take around finding their thread.
LINK_POST_LOOKUP_LOCK = 0x7468_7264
TITLE_LENGTH_LIMIT = Thread._meta.get_field("title").max_length
UNTITLED = "Untitled post"


@dataclass
class ImportReport:
    """What one file did to the database (or would do, on a dry run)."""

    source: str
    thread_id: int = None
    thread_title: str = ""
    thread_created: bool = False
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    placeholders: int = 0
    filled: int = 0
    reattached: int = 0
    dry_run: bool = False
    warnings: list = field(default_factory=list)

    def summary(self):
        verb = "would create" if self.dry_run else "created"
        if not self.thread_created:
            verb = "would merge into" if self.dry_run else "merged into"
        text = (
            f"{self.source}: {verb} thread {self.thread_id} ({self.thread_title!r}): "
            f"{self.added} comments added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.placeholders} placeholders"
        )
        extras = [f"{self.filled} placeholders filled"] if self.filled else []
        extras += [f"{self.reattached} context roots re-attached"] if self.reattached else []
        if not (self.added or self.updated or self.unchanged or self.placeholders):
            extras.append("the page has no comments")
        return text + (f" ({', '.join(extras)})" if extras else "")


def import_dump_file(path, *, source=None, article_only=False, **options):
    """Import the dump file at ``path``, streamed: a new thread's comments
    are read and written a batch at a time, so a file of any size imports
    in the memory of one batch (a merge into a stored thread reads it whole)."""
    source = source or str(path)
    max_bytes = settings.DUMP_ARTICLE_MAX_BYTES
    dump = read_dump_file(path, source, article_only=article_only, max_article_bytes=max_bytes)
    return import_parsed(dump, source=source, **options)


def import_or_refuse(data, *, source, **options):
    """Import one file (``data`` its bytes, or its ``Path``) for an operator,
    never raising: return ``(report, None)``, or ``(None, refusal)`` with the
    refusal as ``path:line: what``.

    The command and the admin upload both go through here, so they show
    the same reports and refusals; an error nobody foresaw is logged with
    its traceback and refuses only its own file.
    """
    try:
        if isinstance(data, Path):
            return import_dump_file(data, source=source, **options), None
        return import_dump(data, source=source, **options), None
    except OSError as error:
        return None, f"{source}:0: cannot read the file: {error.strerror or error}"
    except DumpError as error:
        return None, str(error)
    except DatabaseError as error:
        return None, f"{source}:0: the database refused the import, nothing stored: {error}"
    except Exception as error:
        logger.exception("importing %s failed", source)
        return None, f"{source}:0: the import failed, nothing stored ({type(error).__name__}: {error})"


def import_dump(
    data,
    *,
    source="<dump>",
    captured_at=None,
    title=None,
    instance="",
    dry_run=False,
    progress=None,
    article_only=False,
):
    """Import one dump (text or bytes) in one transaction; return its report.

    Raises ``DumpError`` for a malformed dump, before anything is written.
    ``article_only`` states that the file has no comments, so lines that
    look like comments without their metadata are article text.
    """
    dump = read_dump(data, source, article_only=article_only, max_article_bytes=settings.DUMP_ARTICLE_MAX_BYTES)
    return import_parsed(
        dump, source=source, captured_at=captured_at, title=title, instance=instance, dry_run=dry_run, progress=progress
    )


def import_parsed(dump, *, source, captured_at=None, title=None, instance="", dry_run=False, progress=None):
    """Import a dump read by ``read_dump`` or ``read_dump_file``, in one transaction."""
    if not normalise_text(dump.article):
        dump = dump.materialize()  # a link post is found by its comments
    captured_at = captured_at or timezone.now()
    report = ImportReport(source=source, dry_run=dry_run)
    with transaction.atomic():
        thread, report.thread_created = find_or_create_thread(dump, captured_at, title, instance)
        if not report.thread_created:
            instance = instance_of(thread, instance, source)
            dump = dump.materialize()  # a merge reads the whole capture: before the tree lock, not under it
        with tree_write(thread.pk):
            Merge(thread, dump, captured_at, instance, report, progress).apply()
            update_thread(thread, dump, captured_at, title, instance)
            Capture.objects.create(
                thread=thread,
                source_name=Path(source).name,
                captured_at=captured_at,
                added=report.added,
                updated=report.updated,
                unchanged=report.unchanged,
                placeholders=report.placeholders,
            )
        report.thread_id, report.thread_title = thread.pk, thread.title
        report.warnings = list(dump.warnings)
        if dry_run:
            transaction.set_rollback(True)
    return report


def instance_of(thread, instance, source):
    """The instance whose page a capture of a stored thread shows: the one
    its earlier captures were imported with. Authors shown without a host
    are that instance's own, so another one would make them other people
    and add their comments again."""
    if instance == thread.source_instance or not Comment.objects.filter(thread=thread).exists():
        return instance
    if not instance:
        return thread.source_instance
    earlier = f"with --instance {thread.source_instance}" if thread.source_instance else "without --instance"
    raise DumpError(
        0,
        f"this thread's earlier captures were imported {earlier}, this one with --instance {instance}: authors "
        "shown without a host would become other people; import it as the earlier ones were",
        source,
    )


def find_or_create_thread(dump, captured_at, title, instance):
    """Return ``(thread, created)`` for the post a dump shows.

    A link post is found by its comments, so two imports of one at once
    could each miss the other's new thread: on PostgreSQL they take turns
    (SQLite's writers always do)."""
    if not normalise_text(dump.article) and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINK_POST_LOOKUP_LOCK])
    thread, fingerprint = find_thread(dump, instance)
    if thread is not None:
        return thread, False
    return Thread.objects.get_or_create(
        fingerprint=fingerprint,
        defaults={
            "title": (title or UNTITLED)[:TITLE_LENGTH_LIMIT],
            "body": dump.article,
            "body_html": render_dump_text(dump.article),
            "source_instance": instance,
            "created_at": captured_at,
            "captured_at": captured_at,
        },
    )


def find_thread(dump, instance):
    """Return ``(thread or None, the fingerprint a new thread would get)``.

    An article names its thread by its hash. Without one (a link or image
    post), a full page names the post by community, author and title;
    otherwise the thread is the one whose comments this dump shares.
    """
    if normalise_text(dump.article):
        fingerprint = article_fingerprint(dump.article)
        return Thread.objects.filter(fingerprint=fingerprint).first(), fingerprint
    fingerprint = None
    if dump.post is not None and dump.post.author:
        fingerprint = post_fingerprint(dump.post)
        thread = Thread.objects.filter(fingerprint=fingerprint).first()
        if thread is not None:
            return thread, fingerprint
    return thread_sharing_comments(dump, instance), fingerprint or new_empty_fingerprint()


def thread_sharing_comments(dump, instance):
    """The link post (a thread without an article) that shares most of this
    dump's identifying comments, or ``None``.

    A full capture is looked up by its top-level comments; a context view by
    its root, wherever that sits; and a thread begun by a context view (its
    root's ancestry unknown) by any of its comments, since the fuller
    capture shows that root deeper down. One shared comment is not enough
    where the smaller of the two shows more: a comment found in several
    threads (a moderator's reminder, a repost) counts for none of them, a
    full page never joins a thread that another full page named, and the
    shared comments must be at least half of what the smaller one shows.
    """
    keys = {comment_key(parsed, instance) for parsed in dump.real_comments() if is_identifying(parsed)}
    if not keys:
        return None
    context_view = len(dump.comments) == 1
    if context_view:
        looked_up = {comment_key(dump.comments[0], instance)} & keys
    else:
        looked_up = {comment_key(parsed, instance) for parsed in dump.comments if not parsed.is_placeholder} & keys
    link_posts = Comment.objects.filter(thread__body="", origin=Comment.Origin.IMPORTED, is_placeholder=False)
    begun_by_context = Comment.objects.filter(thread__body="", ancestry_unknown=True, parent=None).values("thread_id")
    by_top_level = link_posts if context_view else link_posts.filter(parent=None)
    found = {
        "top level": _shared_keys(by_top_level, looked_up),
        "begun by a context view": _shared_keys(link_posts.filter(thread__in=begun_by_context), keys),
    }
    threads_of = Counter(key for pairs in found.values() for _, key in set(pairs))
    shared = {
        search: Counter(thread_id for thread_id, key in pairs if threads_of[key] == 1)
        for search, pairs in found.items()
    }
    candidates = set(shared["top level"]) | set(shared["begun by a context view"])
    named = post_fingerprint(dump.post) if dump.post is not None and dump.post.author else None
    sizes = {
        pk: (fingerprint, count)
        for pk, fingerprint, count in Thread.objects.filter(pk__in=candidates).values_list(
            "pk", "fingerprint", "comment_count"
        )
    }
    top_level_sizes = Counter(
        dict(
            link_posts.filter(thread__in=candidates, parent=None)
            .values_list("thread_id")
            .annotate(count=Count("pk"))
            .values_list("thread_id", "count")
        )
    )
    likely = {}
    for pk in candidates:
        fingerprint, count = sizes[pk]
        if named and not fingerprint.startswith(EMPTY_ARTICLE_PREFIX) and fingerprint != named:
            continue  # another full page named another post
        by_top, by_all = shared["top level"][pk], shared["begun by a context view"][pk]
        if 2 * by_top >= min(len(looked_up), top_level_sizes[pk]) > 0 or 2 * by_all >= min(len(keys), count) > 0:
            likely[pk] = by_top + by_all
    if not likely:
        return None
    best = max(likely.values())
    return Thread.objects.get(pk=min(pk for pk, count in likely.items() if count == best))


def _shared_keys(comments, wanted):
    """``(thread id, key)`` of the stored ``comments`` whose keys are ``wanted``."""
    fields = ("thread_id", "author__name", "author__instance", "author__instance_known", "body_key")
    found = []
    for chunk in chunks(sorted({key[2] for key in wanted}), 500):
        for row in comments.filter(body_key__in=chunk).values_list(*fields, named=True):
            if stored_key(row) in wanted:
                found.append((row.thread_id, stored_key(row)))
    return found


def update_thread(thread, dump, captured_at, title, instance):
    """Write the thread fields an import owns, and only those: members' vote
    counters and the lock may have changed since ``thread`` was read."""
    thread.refresh_from_db()
    newest = thread.captured_at is None or captured_at >= thread.captured_at
    fields = ["comment_count", "captured_at", "created_at", "title", "title_source", "source_instance", "author"]
    thread.comment_count = Comment.objects.filter(thread=thread, is_placeholder=False).count()
    thread.captured_at = max(filter(None, [thread.captured_at, captured_at]))
    thread.created_at = min(thread.created_at, captured_at)
    if instance and not thread.source_instance:
        thread.source_instance = instance
    post = dump.post
    if post is not None and post.author and (newest or not thread.community):
        fields += apply_page_post(thread, post, captured_at, instance)
    old_title = thread.title
    set_title(thread, dump, title, newest)
    if thread.title != old_title:
        thread.slug = ""  # made again from the new title; links with the old one redirect
        fields.append("slug")
    if thread.author_id is None:
        thread.author_id = (
            Comment.objects.filter(thread=thread, badges__contains="op", author__isnull=False)
            .values_list("author_id", flat=True)
            .first()
        )
    thread.save(update_fields=fields)


def set_title(thread, dump, given, newest):
    """The title by precedence: given on import, found in a dump (the newest
    capture's: a post's title can be edited), derived from the article or,
    for a link post, from its top-level comments."""
    found = dump.post.title if dump.post is not None else ""
    if given:
        thread.title, thread.title_source = given, Thread.TitleSource.GIVEN
    elif found and thread.title_source == Thread.TitleSource.DERIVED:
        thread.title, thread.title_source = found, Thread.TitleSource.DUMP
    elif found and thread.title_source == Thread.TitleSource.DUMP and newest:
        thread.title = found
    elif thread.title_source == Thread.TitleSource.DERIVED:
        thread.title = derived_title(thread)
    thread.title = thread.title[:TITLE_LENGTH_LIMIT] or UNTITLED


def derived_title(thread):
    """The article's first sentence; for a link post, that of its first
    top-level comment by the poster (they often explain the link there),
    else of its first top-level comment."""
    if normalise_text(thread.body):
        return first_sentence(thread.body)
    top_level = Comment.objects.filter(thread=thread, parent=None, status=Comment.Status.NORMAL).exclude(body="")
    top_level = top_level.order_by("position").values_list("body", flat=True)
    return first_sentence(top_level.filter(badges__contains="op").first() or top_level.first() or "")


def apply_page_post(thread, post, captured_at, instance):
    """Store what a full page says about the post; return the fields set."""
    name, host, badges = split_header_text(post.author)
    key = person_key(name, host or instance)
    people = resolve_people([(key, "bot" in badges)])
    thread.author_id = people[key]
    thread.author_badges = badge_text(badges)
    thread.community = post.community[: Thread._meta.get_field("community").max_length]
    thread.link_domain = post.domain[: Thread._meta.get_field("link_domain").max_length]
    thread.shown_comment_count = post.comment_count
    thread.imported_upvotes, thread.imported_downvotes = max(post.score, 0), max(-post.score, 0)
    thread.votes_shown = SCORE_ONLY
    age = parse_age(post.age)
    if age is not None:
        thread.created_at = captured_at - age
    return [
        "author_badges",
        "community",
        "link_domain",
        "shown_comment_count",
        "imported_upvotes",
        "imported_downvotes",
        "votes_shown",
    ]
