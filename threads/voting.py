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


COUNTERS = ("imported_upvotes", "local_upvotes", "imported_downvotes", "local_downvotes")


def cast_vote(user, model, pk, value):
    """Set ``user``'s vote on the thread or comment ``pk`` to 1, -1 or 0 (no vote).

    Voting the same way twice changes nothing; switching moves the vote.
    Returns the target's new shown counts, computed from the counters read
    under the row lock, so no other vote can have moved them meanwhile.
    Raises ``model.DoesNotExist`` for a missing target and ``PermissionDenied``
    for a placeholder.
    """
    if value not in VOTE_VALUES:
        raise ValueError(f"a vote is 1, -1 or 0, not {value!r}")
    is_comment = model is Comment
    columns = (*COUNTERS, "thread_id", "is_placeholder") if is_comment else COUNTERS
    with transaction.atomic():
        row = model._default_manager.select_for_update(no_key=True).filter(pk=pk).values_list(*columns).get()
        imported_up, local_up, imported_down, local_down = row[:4]
        if is_comment and row[5]:
            raise PermissionDenied
        lookup = {"user": user, "comment_id": pk} if is_comment else {"user": user, "thread_id": pk, "comment": None}
        existing = Vote.objects.filter(**lookup).values_list("pk", "value").first()
        old = existing[1] if existing else 0
        up_change, down_change = (value == 1) - (old == 1), (value == -1) - (old == -1)
        if value != old:
            if value == 0:
                Vote.objects.filter(pk=existing[0]).delete()
            elif existing:
                Vote.objects.filter(pk=existing[0]).update(value=value)
            else:
                thread_id = row[4] if is_comment else pk
                Vote.objects.create(user=user, thread_id=thread_id, comment_id=pk if is_comment else None, value=value)
            bump_counter(model, pk, local_upvotes=up_change, local_downvotes=down_change)
    return VoteResult(imported_up + local_up + up_change, imported_down + local_down + down_change, value)
