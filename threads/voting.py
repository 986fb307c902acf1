"""Members' votes: one row per member and item, counters kept equal to the rows.

A vote changes two things, the ``Vote`` row and the target's ``local_*``
counters, so both happen in one transaction that first locks the target's
row: two votes on one comment then take turns instead of each adjusting the
counters from a stale read (the race Lobsters documents in its recount).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from threads.models import Comment, Vote, bump_counter

VOTE_VALUES = (1, -1, 0)


@dataclass(frozen=True)
class VoteResult:
    upvotes: int
    downvotes: int
    vote: int

    @property
    def score(self):
        return self.upvotes - self.downvotes

    def as_json(self):
        return {"upvotes": self.upvotes, "downvotes": self.downvotes, "score": self.score, "vote": self.vote}


def cast_vote(user, target, value):
    """Set ``user``'s vote on a thread or comment to 1, -1 or 0 (no vote).

    Voting the same way twice changes nothing; switching moves the vote.
    Returns the target's new shown counts.
    """
    if value not in VOTE_VALUES:
        raise ValueError(f"a vote is 1, -1 or 0, not {value!r}")
    model = type(target)
    with transaction.atomic():
        target = model._default_manager.select_for_update().get(pk=target.pk)
        if not target.can_vote(user):
            raise PermissionDenied
        if isinstance(target, Comment):
            lookup = {"user": user, "comment": target}
            thread_id = target.thread_id
        else:
            lookup = {"user": user, "thread": target, "comment": None}
            thread_id = target.pk
        existing = Vote.objects.filter(**lookup).first()
        old = existing.value if existing else 0
        if value != old:
            if value == 0:
                existing.delete()
            elif existing:
                existing.value = value
                existing.save(update_fields=["value"])
            else:
                Vote.objects.create(user=user, thread_id=thread_id, comment=lookup.get("comment"), value=value)
            bump_counter(
                model,
                target.pk,
                local_upvotes=(value == 1) - (old == 1),
                local_downvotes=(value == -1) - (old == -1),
            )
        counts = model._default_manager.filter(pk=target.pk).values_list(
            "imported_upvotes", "local_upvotes", "imported_downvotes", "local_downvotes"
        )[0]
    return VoteResult(counts[0] + counts[1], counts[2] + counts[3], value)

