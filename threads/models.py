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
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from threads.db import allocate_tree_ids
from threads.ranking import sort_key

# Thread action URLs (threads/urls.py) that a slug must not shadow.
RESERVED_SLUGS = {"vote", "reply", "lock"}


class PersonQuerySet(models.QuerySet):
    def imported(self):
        return self.filter(user__isnull=True)

    def get_by_handle(self, handle):
        """Find a person by ``name`` (a member first) or ``name@instance``."""
        name, _, instance = handle.rpartition("@") if "@" in handle else (handle, "", "")
        if instance:
            return self.imported().get(name=name, instance=instance)
        member = self.filter(user__username=name).first()
        return member or self.imported().get(name=name, instance="")


class Person(models.Model):
    """Someone who wrote in a thread: an imported author or one of our members.

    Imported authors are keyed by (shown name, instance host); a dump shows no
    username, so an account that renamed itself appears as two people.
    """

    name = models.CharField(max_length=255)
    instance = models.CharField(
        max_length=253, blank=True, default="", help_text="Host of an imported author; empty for none."
    )
    is_bot = models.BooleanField(default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="person"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["name", "instance"], condition=Q(user__isnull=True), name="unique_imported_person"
            ),
        ]

    def __str__(self):
        return self.handle

    def get_absolute_url(self):
        return reverse("threads:profile", args=[self.handle])

    @property
    def handle(self):
        return f"{self.name}@{self.instance}" if self.instance else self.name

    @property
    def is_member(self):
        return self.user_id is not None

    def comment_karma(self):
        """Score summed over the comments a profile lists, in one query."""
        totals = self.comments.visible_on_profile().aggregate(
            up=Sum(F("imported_upvotes") + F("local_upvotes")),
            down=Sum(F("imported_downvotes") + F("local_downvotes")),
        )
        return (totals["up"] or 0) - (totals["down"] or 0)

    @classmethod
    def for_user(cls, user):
        person, _ = cls.objects.get_or_create(user=user, defaults={"name": user.username})
        return person


class VoteCounts(models.Model):
    """Vote counters kept in two halves: what the dumps showed (``imported_*``,
    written only by imports) and what members here did (``local_*``, kept
    equal to the vote rows by database triggers, migration 0005). Pages show
    the sum."""

    imported_upvotes = models.PositiveIntegerField(default=0)
    imported_downvotes = models.PositiveIntegerField(default=0)
    local_upvotes = models.PositiveIntegerField(default=0)
    local_downvotes = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def upvotes(self):
        return self.imported_upvotes + self.local_upvotes

    @property
    def downvotes(self):
        return self.imported_downvotes + self.local_downvotes

    @property
    def score(self):
        return self.upvotes - self.downvotes


class ThreadQuerySet(models.QuerySet):
    def for_listing(self):
        return self.select_related("author")

    def ranked_ids(self, sort, now):
        """Thread ids in ``sort`` order, newest first on ties, in one query.

        Ranked in Python with Lemmy's formulas (``threads.ranking``) over a
        few columns per thread: cheap for the thousands of threads a
        dump-seeded forum holds; a stored rank column is the step beyond.
        """
        key = sort_key(sort, now)
        rows = self.values_list(
            "pk", "imported_upvotes", "local_upvotes", "imported_downvotes", "local_downvotes", "created_at"
        )
        return [row[0] for row in sorted(rows, key=lambda r: key(r[1] + r[2], r[3] + r[4], r[5], -r[0]))]


class Thread(VoteCounts):
    """The article of a Lemmy post page, and the home of its comment tree.

    A thread is identified by ``fingerprint``, a hash of its normalised
    article text, so every capture of the same post merges into it.
    ``comment_count`` counts real (non-placeholder) comments and is kept by
    the writers that add them.
    """

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, allow_unicode=False)
    body = models.TextField(blank=True, help_text="The article as captured, one blank line between paragraphs.")
    body_html = models.TextField(blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    author = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="threads")
    source_instance = models.CharField(
        max_length=253, blank=True, default="", help_text="The instance whose page the dumps show."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="First capture, or creation here.")
    captured_at = models.DateTimeField(null=True, blank=True, help_text="Latest capture imported.")
    comment_count = models.PositiveIntegerField(default=0)
    is_locked = models.BooleanField(default=False, help_text="Locked threads take no new replies.")
    tree_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Bumped by every tree write; caches of the tree's shape key on it."
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

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
        return self.real().filter(status=Comment.Status.NORMAL)

    def newest_first(self):
        return self.order_by(F("created_at").desc(nulls_last=True), "-pk")

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

    @property
    def takes_replies(self):
        """The comment's own half of ``can_reply``: a real comment above the depth limit."""
        return not self.is_placeholder and self.level < self.MAX_DEPTH

    # The comment's own facts come first in each rule: the renderer asks
    # for every comment of a page, and most fail on them.

    def can_vote(self, user):
        return not self.is_placeholder and user.is_authenticated

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
    badges = models.CharField(max_length=32, blank=True, help_text="Comma-separated: op, mod, admin, bot.")
    is_distinguished = models.BooleanField(default=False)
    is_cake_day = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NORMAL)
    language = models.CharField(max_length=64, blank=True)
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
            models.Index(fields=["author", "-created_at"]),
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
