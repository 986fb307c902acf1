"""Threads, comments, the people who wrote them, and members' votes.

Invariants other code keeps:

- Every comment carries its ``thread``; each top-level comment is the root of
  its own django-mptt tree: a reply shifts rows of one top-level subtree,
  never the whole thread, so its cost does not grow with the thread
  (docs/trees.md).
- Tree fields are written only inside ``threads.trees.tree_write`` (the
  per-thread lock), either by django-mptt or by ``threads.trees.lay_out``.
- Siblings are ordered by ``position`` (the dump's order, then new replies);
  ``lft`` follows the same order within a tree.
- Shown vote counts are imported plus local. Imports write only the
  ``imported_*`` counters; members' votes only the ``local_*`` ones, which
  database triggers (migration 0005) keep equal to the ``Vote`` rows.
  ``votes_shown`` says how much of the imported half a page showed: pages
  of older lemmy-ui show a score only, so its up and down are unknown.
- What listings sort and profiles total is stored, so that neither reads
  every row (docs/performance.md): a thread's ``hot_rank`` is kept by
  database triggers as of ``HotRankEpoch`` (migration 0009), and each
  person's karma is ``Person.comment_karma`` plus the ``KarmaChange`` rows
  that triggers on comments append, folded in by ``refresh_ranks``.
"""

from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from threads.db import allocate_tree_ids
from threads.dump.formats import MAX_LANGUAGE_LENGTH, MAX_NAME_LENGTH, NO_SCORE, SCORE_ONLY, UP_AND_DOWN
from threads.ranking import HOT, HOT_RANK_MAX_HOURS, NEW, TOP

# Thread action URLs (threads/urls.py) that a slug must not shadow.
RESERVED_SLUGS = {"vote", "reply", "lock"}


# What a profile URL leaves unquoted: RFC 3986's sub-delimiters, ":" and "@".
HANDLE_SAFE = "!$&'()*+,;=~:@"


def split_handle(handle):
    """``name@instance`` → ``(name, instance)``; a handle without "@", or
    ending in one, has no instance."""
    name, at, instance = handle.rpartition("@")
    return (name, instance) if at else (handle, "")


class PersonQuerySet(models.QuerySet):
    def imported(self):
        return self.filter(user__isnull=True)

    def with_karma(self):
        """People with ``karma``: their folded total plus the changes not yet
        folded in, one indexed lookup per person whatever they wrote."""
        pending = (
            KarmaChange.objects.filter(person=OuterRef("pk"))
            .values("person")
            .annotate(total=Sum("delta"))
            .values("total")
        )
        return self.annotate(karma=F("comment_karma") + Coalesce(Subquery(pending), Value(0)))

    def get_by_handle(self, handle):
        """Find a person by ``name`` (a member first) or ``name@instance``;
        ``name@?`` is an author of another instance whose host no page showed."""
        name, instance = split_handle(handle)
        if instance == Person.UNKNOWN_HOST:
            return self.imported().get(name=name, instance="", instance_known=False)
        if instance:
            return self.imported().get(name=name, instance=instance)
        member = self.filter(user__username=name).first()
        return member or self.imported().get(name=name, instance="")


class KarmaChangeManager(models.Manager):
    def fold(self):
        """Add every pending change to its person's total and delete it, in
        one statement on PostgreSQL (a change committed meanwhile is either
        both added and deleted, or neither); SQLite runs one writer at a
        time, so two statements in a transaction do the same there.
        Returns how many people's totals changed."""
        changes, people = KarmaChange._meta.db_table, Person._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH folded AS (DELETE FROM {changes} RETURNING person_id, delta) "
                    f"UPDATE {people} p SET comment_karma = p.comment_karma + f.total "
                    f"FROM (SELECT person_id, SUM(delta) AS total FROM folded GROUP BY person_id) f "
                    f"WHERE p.id = f.person_id"
                )
            else:
                cursor.execute(
                    f"UPDATE {people} SET comment_karma = comment_karma + "
                    f"(SELECT SUM(delta) FROM {changes} c WHERE c.person_id = {people}.id) "
                    f"WHERE id IN (SELECT person_id FROM {changes})"
                )
                people_changed = cursor.rowcount
                cursor.execute(f"DELETE FROM {changes}")
                return people_changed
            return cursor.rowcount


class Person(models.Model):
    """Someone who wrote in a thread: an imported author or one of our members.

    Imported authors are keyed by (shown name, instance host); a dump shows no
    username, so an account that renamed itself appears as two people.
    """

    name = models.CharField(max_length=MAX_NAME_LENGTH)
    UNKNOWN_HOST = "?"

    instance = models.CharField(
        max_length=253, blank=True, default="", help_text="Host of an imported author; empty for none."
    )
    instance_known = models.BooleanField(
        default=True,
        help_text="False for an author of another instance whose host the page did not show (lemmy-ui 0.19.3 "
        "and older show display names without one); never merged with a local author of the same name.",
    )
    is_bot = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="person"
    )
    created_at = models.DateTimeField(default=timezone.now)
    comment_karma = models.IntegerField(
        default=0,
        editable=False,
        help_text="Score of the comments the profile lists, as of the last fold of KarmaChange rows.",
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["name", "instance", "instance_known"],
                condition=Q(user__isnull=True),
                name="unique_imported_person",
            ),
        ]

    def __str__(self):
        return self.handle

    def get_absolute_url(self):
        return self.profile_url(self.name, self.instance if self.instance_known else self.UNKNOWN_HOST)

    @staticmethod
    def profile_url(name, instance):
        """The profile of ``name`` (on ``instance``) as one path segment,
        whatever an imported name holds.

        "/" is percent-encoded (the route reads the segment back as a path,
        since servers decode it), so "../../admin" stays one segment. A name
        that a bare handle would misread gets a trailing "@" (no instance):
        one holding "@", and "." or "..", which browsers resolve as dot
        segments, percent-encoded or not. ``reverse()`` can do neither: it
        leaves "/" alone and quotes "%".
        """
        handle = f"{name}@{instance}" if instance else name
        if not instance and ("@" in name or name in {".", ".."}):
            handle += "@"
        return f"/u/{quote(handle, safe=HANDLE_SAFE)}"

    @property
    def handle(self):
        if not self.instance_known:
            return f"{self.name}@{self.UNKNOWN_HOST}"
        return f"{self.name}@{self.instance}" if self.instance else self.name

    @property
    def is_member(self):
        return self.user_id is not None

    @classmethod
    def for_user(cls, user):
        person, _ = cls.objects.get_or_create(user=user, defaults={"name": user.username})
        return person


class ShownVotes:
    """What pages and the API show of a row's counts: imported plus local,
    with up and down (or even the score) unknown where the page a dump came
    from did not show them. Shared by the models and by plain rows read with
    ``values_list``; uses the attributes ``imported_upvotes``,
    ``imported_downvotes``, ``local_upvotes``, ``local_downvotes`` and
    ``votes_shown``."""

    __slots__ = ()

    @property
    def upvotes(self):
        return self.imported_upvotes + self.local_upvotes

    @property
    def downvotes(self):
        return self.imported_downvotes + self.local_downvotes

    @property
    def score(self):
        return self.upvotes - self.downvotes

    @property
    def votes_split_known(self):
        return self.votes_shown == UP_AND_DOWN

    @property
    def score_known(self):
        return self.votes_shown != NO_SCORE


class VoteCounts(ShownVotes, models.Model):
    """Vote counters kept in two halves: what the dumps showed (``imported_*``,
    written only by imports) and what members here did (``local_*``, kept
    equal to the vote rows by database triggers, migration 0005). Pages show
    the sum."""

    class VotesShown(models.TextChoices):
        UP_AND_DOWN = UP_AND_DOWN, "up and down votes"
        SCORE_ONLY = SCORE_ONLY, "the score only"
        NO_SCORE = NO_SCORE, "no score"

    imported_upvotes = models.PositiveIntegerField(default=0)
    imported_downvotes = models.PositiveIntegerField(default=0)
    local_upvotes = models.PositiveIntegerField(default=0)
    local_downvotes = models.PositiveIntegerField(default=0)
    votes_shown = models.CharField(
        max_length=8,
        choices=VotesShown.choices,
        default=UP_AND_DOWN,
        help_text="What the imported counts hold: a score only leaves up and down unknown.",
    )

    class Meta:
        abstract = True


# A thread's shown score in SQL: what "top" sorts by, and the expression its index holds.
THREAD_SCORE = F("imported_upvotes") + F("local_upvotes") - F("imported_downvotes") - F("local_downvotes")
# The front page's orders, each served by an index of Thread.Meta.
RANKINGS = {HOT: ("-hot_rank", "-pk"), NEW: ("-created_at", "-pk"), TOP: (THREAD_SCORE.desc(), "-pk")}
# Past this age a hot rank is 0 and stays 0, so refreshes skip such threads.
HOT_RANK_WINDOW = timedelta(hours=HOT_RANK_MAX_HOURS)


class HotRank(models.Func):
    """``threads.ranking.hot_rank(score, created_at, epoch)`` in SQL: a
    PL/pgSQL function on PostgreSQL (migration 0009) and, on SQLite, the
    Python function itself, registered on every connection
    (``threads.db.register_sqlite_functions``)."""

    function = "threads_hot_rank"
    output_field = models.FloatField()


class HotRankEpoch(models.Model):
    """The one moment every stored hot rank is computed as of.

    Lemmy's hot rank decays with time, so an order computed at different
    moments for different threads is no formula's order. Writers (the
    triggers of migration 0009) rank new counts as of this epoch, and
    ``refresh_hot_ranks`` moves it and re-ranks the last week's threads:
    the front page is always exactly ``threads.ranking`` as of the epoch,
    which is at most one refresh interval old. With no row, triggers rank
    as of the moment they run.
    """

    ONLY = 1
    ranked_at = models.DateTimeField()

    def __str__(self):
        return f"hot ranks as of {self.ranked_at:%Y-%m-%d %H:%M:%S}"


class ThreadQuerySet(models.QuerySet):
    # What the home page and /api/threads/ show of a thread.
    LISTING_FIELDS = (
        "title",
        "slug",
        "source_instance",
        "created_at",
        "comment_count",
        "is_locked",
        "imported_upvotes",
        "imported_downvotes",
        "local_upvotes",
        "local_downvotes",
        "votes_shown",
        "title_source",
        "community",
        "author_badges",
        "link_domain",
    )

    def for_listing(self):
        """Threads with their author and only the columns a listing shows:
        an article (``body``, ``body_html``) can run to megabytes, and two
        30 MB ones made the home page take seconds and workers grow past a GB."""
        return self.select_related("author").only(*self.LISTING_FIELDS, "author")

    def ranked(self, sort):
        """Threads in ``sort`` order (hot, new or top), newest first on ties.

        Each order is an index (``Thread.Meta``), so a page of it is one
        indexed read however many threads there are. It is the order of
        ``threads.ranking.sort_key`` with ``-pk`` as the position; hot is
        as of ``HotRankEpoch`` (``refresh_hot_ranks``).
        """
        return self.order_by(*RANKINGS[sort])

    def refresh_hot_ranks(self, now):
        """Recompute every stored hot rank as of ``now`` and make ``now`` the
        epoch that writers rank new counts against, in one transaction.

        Only threads with a rank above 0 are read: a thread older than a
        week ranks 0 from then on (``threads.ranking.hot_rank``), so the work
        is bounded by the last week's threads, as in Lemmy's scheduled job.
        Returns the number of threads re-ranked.
        """
        with transaction.atomic():
            HotRankEpoch.objects.update_or_create(pk=HotRankEpoch.ONLY, defaults={"ranked_at": now})
            recent = self.filter(Q(hot_rank__gt=0) | Q(created_at__gt=now - HOT_RANK_WINDOW))
            return recent.update(hot_rank=HotRank(THREAD_SCORE, F("created_at"), Value(now)))


class Thread(VoteCounts):
    """The article of a Lemmy post page, and the home of its comment tree.

    A thread is identified by ``fingerprint``, a hash of its normalised
    article text, so every capture of the same post merges into it; a link
    post without an article is named by its community, author and title
    when a full page showed them, and otherwise by its comments
    (``threads.importer.capture.find_thread``). ``comment_count`` counts
    real (non-placeholder) comments and is kept by the writers that add
    them; ``shown_comment_count`` is what a full page said, which may count
    comments never captured.
    """

    class TitleSource(models.TextChoices):
        DUMP = "dump", "found in a dump"
        DERIVED = "derived", "derived from the text"
        GIVEN = "given", "given on import"

    title = models.CharField(max_length=200)
    title_source = models.CharField(
        max_length=8,
        choices=TitleSource.choices,
        default=TitleSource.DERIVED,
        help_text="A found title replaces a derived one; a given one is never replaced by an import.",
    )
    slug = models.SlugField(max_length=80, allow_unicode=False)
    body = models.TextField(blank=True, help_text="The article as captured, one blank line between paragraphs.")
    body_html = models.TextField(blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    author = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads")
    author_badges = models.CharField(max_length=32, blank=True, help_text="The post author's badges: mod, admin, bot.")
    source_instance = models.CharField(
        max_length=253, blank=True, default="", help_text="The instance whose page the dumps show."
    )
    community = models.CharField(max_length=255, blank=True, help_text="The community a full page named.")
    link_domain = models.CharField(max_length=253, blank=True, help_text="The domain a link post points at.")
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the post was made, if a full page said; else its first capture."
    )
    captured_at = models.DateTimeField(null=True, blank=True, help_text="Latest capture imported.")
    comment_count = models.PositiveIntegerField(default=0)
    shown_comment_count = models.PositiveIntegerField(null=True, blank=True)
    is_locked = models.BooleanField(default=False, help_text="Locked threads take no new replies.")
    tree_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Bumped by every tree write; caches of the tree's shape and of its page key on it.",
    )
    hot_rank = models.FloatField(
        default=0,
        editable=False,
        help_text="Lemmy's hot rank as of HotRankEpoch; kept by database triggers (migration 0009).",
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # One per front-page sort (ThreadQuerySet.ranked); "new" also serves /api/threads/.
        indexes = [
            models.Index(fields=["-hot_rank", "-id"], name="thread_hot"),
            models.Index(fields=["-created_at", "-id"], name="thread_new"),
            models.Index(THREAD_SCORE.desc(), F("id").desc(), name="thread_top"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title)[:80].strip("-") or "thread"
            if self.slug in RESERVED_SLUGS:
                self.slug += "-thread"
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("threads:thread", args=[self.pk, self.slug])

    def can_reply(self, user):
        return user.is_authenticated and not self.is_locked

    def can_vote(self, user):
        return user.is_authenticated

    def can_lock(self, user):
        return user.is_authenticated and user.is_staff


class CommentQuerySet(TreeQuerySet):
    def real(self):
        return self.filter(is_placeholder=False)

    def visible_on_profile(self):
        """What a profile lists and counts in its karma (the triggers of
        migration 0009 count the same comments)."""
        return self.real().filter(status=Comment.Status.NORMAL)

    def top_level(self, thread):
        """A thread's top-level comments in sibling order, read through the
        (thread, parent, position) index."""
        return self.filter(thread=thread, parent=None).order_by("position")

    def in_trees(self, thread, tree_ids):
        """A page's top-level subtrees: one tree per top-level comment, so one query."""
        return self.filter(thread=thread, tree_id__in=tree_ids)

    def subtree_of(self, comment):
        return self.filter(tree_id=comment.tree_id, lft__gte=comment.lft, rght__lte=comment.rght)

    def above_level(self, level):
        """Cut a page's trees at a depth; ``None`` keeps them whole."""
        return self if level is None else self.filter(level__lt=level)


CommentManager = TreeManager.from_queryset(CommentQuerySet)

# What pages show for a comment a dump left out (a placeholder).
PLACEHOLDER_TEXT = "comment not available"


class CommentRules:
    """What a comment shows and who may act on it: the one definition for
    ``Comment`` rows and for the renderer's ``threads.comment_tree.Node``.

    Pages read comments with ``values_list`` (a fifth of the cost of model
    instances), so the rules use only plain attributes both have:
    ``is_placeholder``, ``status``, ``origin``, ``level``, ``lft``, ``rght``
    and ``author_user_id``. Replying also needs the thread's consent
    (``Thread.can_reply``), which ``Comment.can_reply`` asks for and a page
    works out once (``threads.rendering.Viewer``).
    """

    __slots__ = ()

    # Replies stop at Lemmy's server limit (MAX_COMMENT_DEPTH_LIMIT): deeper
    # chains only make pages heavier and are off-topic in practice.
    MAX_DEPTH = 50

    @property
    def is_gone(self):
        return self.status != Comment.Status.NORMAL

    @property
    def gone_text(self):
        """The text shown instead of a deleted or removed comment's; None otherwise."""
        return GONE_TEXTS.get(self.status)

    @property
    def descendant_count(self):
        return (self.rght - self.lft - 1) // 2

    # A deleted or removed comment takes no replies or votes: what they would
    # answer is no longer shown. The comment's own facts come first in each
    # rule: the renderer asks for every comment of a page, and most fail on them.

    @property
    def takes_replies(self):
        """The comment's own half of ``can_reply``: a shown comment above the depth limit."""
        return not self.is_placeholder and not self.is_gone and self.level < self.MAX_DEPTH

    @property
    def takes_votes(self):
        """The comment's own half of ``can_vote``."""
        return not self.is_placeholder and not self.is_gone

    def can_vote(self, user):
        return self.takes_votes and user.is_authenticated

    def can_edit(self, user):
        return (
            self.origin == Comment.Origin.LOCAL
            and not self.is_gone
            and user.is_authenticated
            and self.author_user_id == user.pk
        )

    def can_delete(self, user):
        return self.can_edit(user)

    def can_remove(self, user):
        return not self.is_placeholder and not self.is_gone and user.is_authenticated and user.is_staff


class Comment(MPTTModel, VoteCounts, CommentRules):
    """A comment, a placeholder for a missing parent, or a member's reply.

    Imported comments keep the dump's text in ``body``; members' replies keep
    their Markdown there. ``body_html`` is rendered once, when the body is
    written, never on a page view. ``body_key`` hashes the normalised body
    and, with the author and the parent, identifies a comment across dumps.
    """

    class Status(models.TextChoices):
        NORMAL = "normal"
        DELETED = "deleted"
        REMOVED = "removed"

    class Origin(models.TextChoices):
        IMPORTED = "imported"
        LOCAL = "local"

    MAX_BODY_LENGTH = 10_000

    # No index of its own: the composite indexes below all start with thread.
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments", db_index=False)
    parent = TreeForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    position = models.PositiveIntegerField(default=0, help_text="Order among siblings.")
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.LOCAL)
    is_placeholder = models.BooleanField(default=False)
    ancestry_unknown = models.BooleanField(
        default=False, help_text="A context view's root whose real parent is not captured yet."
    )
    # Indexed by (author, -created_at) below, which profiles read.
    author = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="comments", db_index=False
    )
    author_shown = models.CharField(
        max_length=MAX_NAME_LENGTH,
        blank=True,
        help_text="The author as the page showed it when no person could be told from it.",
    )
    badges = models.CharField(max_length=32, blank=True, help_text="Comma-separated: op, mod, admin, bot.")
    is_distinguished = models.BooleanField(default=False)
    is_cake_day = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NORMAL)
    language = models.CharField(max_length=MAX_LANGUAGE_LENGTH, blank=True)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True, editable=False)
    body_key = models.CharField(max_length=40, blank=True, editable=False)
    counts_approximate = models.BooleanField(default=False, help_text="Imported counts such as 1.2K.")
    created_at = models.DateTimeField(null=True, blank=True, help_text="Estimated from the age for imports.")
    edited_at = models.DateTimeField(null=True, blank=True)
    age_text = models.CharField(max_length=40, blank=True, help_text="The age as the latest capture showed it.")
    captured_at = models.DateTimeField(null=True, blank=True, help_text="Capture that last updated it.")
    # django-mptt's tree fields, declared here so that indexes can name them;
    # tree_id needs no index of its own beside mptt's (tree_id, lft).
    lft = models.PositiveIntegerField(editable=False)
    rght = models.PositiveIntegerField(editable=False)
    tree_id = models.PositiveIntegerField(editable=False)
    level = models.PositiveIntegerField(editable=False)

    objects = CommentManager()

    class Meta:
        indexes = [
            models.Index(fields=["thread", "parent", "position"]),
            # A page's subtrees in tree order: thread = ? AND tree_id IN (...) ORDER BY tree_id, lft.
            models.Index(fields=["thread", "tree_id", "lft"]),
            # Profiles page newest first by (created_at, id), ties included.
            models.Index(fields=["author", "-created_at", "-id"]),
            # A link post's captures are tied together by their comments.
            models.Index(fields=["body_key"]),
        ]

    def __str__(self):
        if self.is_placeholder:
            return f"placeholder #{self.pk}"
        return f"{self.author} #{self.pk}"

    def save(self, *args, **kwargs):
        """A new top-level comment starts a tree of its own, numbered from the
        allocator every writer shares: django-mptt's ``MAX(tree_id) + 1`` can
        be read by two writers at once on PostgreSQL, and mptt leaves tree
        fields that are already set alone."""
        if self._state.adding and self.parent_id is None and not self.lft:
            self.tree_id, self.lft, self.rght, self.level = allocate_tree_ids(Comment, 1)[0], 1, 2, 0
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("threads:comment", args=[self.pk])

    @property
    def is_edited(self):
        return self.edited_at is not None

    @property
    def badge_list(self):
        return [badge for badge in self.badges.split(",") if badge]

    @property
    def author_user_id(self):
        """The member who wrote it; None for imported authors and placeholders."""
        return self.author.user_id if self.author_id else None

    def can_reply(self, user):
        return self.takes_replies and self.thread.can_reply(user)


# What pages and the API show instead of a gone comment's text: Lemmy's own
# wording, which the API promises to keep. A removed comment's text stays in
# the database for moderators but is never published.
GONE_TEXTS = {Comment.Status.DELETED: "deleted by creator", Comment.Status.REMOVED: "Removed by mod"}


class Vote(models.Model):
    """One member's vote on a thread (``comment`` empty) or on one comment.

    ``thread`` is set for comment votes too, so a page fetches the viewer's
    votes for a whole thread in one query.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="votes")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(choices=[(1, "up"), (-1, "down")])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "comment"], condition=Q(comment__isnull=False), name="one_vote_per_comment"
            ),
            models.UniqueConstraint(
                fields=["user", "thread"], condition=Q(comment__isnull=True), name="one_vote_per_thread"
            ),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="vote_is_up_or_down"),
        ]

    def __str__(self):
        target = f"comment {self.comment_id}" if self.comment_id else f"thread {self.thread_id}"
        return f"{self.user} {'+' if self.value > 0 else '-'}1 on {target}"


class KarmaChange(models.Model):
    """A change to a person's comment karma not yet folded into ``Person.comment_karma``.

    Triggers on comments (migration 0009) append one row whenever a comment
    that a profile lists gains or loses score, appears or goes: votes,
    imports, edits of counts, deletions and removals alike. Appending keeps
    bulk writers fast: an import adding thousands of comments by one author
    in one transaction would otherwise update that person's row thousands of
    times, and PostgreSQL walks every earlier version of a row it updated in
    the same transaction (40,000 such updates took 25 s). ``fold`` moves the
    rows into the totals; ``refresh_ranks`` runs it.
    """

    # No constraint: a person deleted with changes pending leaves rows that the next fold drops.
    person = models.ForeignKey(Person, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    delta = models.IntegerField()

    objects = KarmaChangeManager()

    def __str__(self):
        return f"{self.delta:+} for person {self.person_id}"


class Capture(models.Model):
    """One imported dump file: when it was captured and what it changed."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="captures")
    source_name = models.CharField(max_length=255)
    captured_at = models.DateTimeField()
    imported_at = models.DateTimeField(default=timezone.now)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    placeholders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-captured_at"]

    def __str__(self):
        return f"{self.source_name} ({self.captured_at:%Y-%m-%d %H:%M})"


def bump_counter(model, pk, **deltas):
    """Add to integer counters in SQL, so concurrent writers never lose an update."""
    changes = {name: F(name) + delta for name, delta in deltas.items() if delta}
    if changes:
        model.objects.filter(pk=pk).update(**changes)
