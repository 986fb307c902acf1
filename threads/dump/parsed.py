"""What the parser makes of a dump: the article and the comment tree."""

from dataclasses import dataclass, field
from functools import cached_property

from threads.dump.formats import INDETERMINATE, STATUS_OF_TEXT, UP_AND_DOWN

# The two layouts of comment metadata: lemmy-ui 0.19.4 and later, and older.
CURRENT = "current"
LEGACY = "legacy"


@dataclass(slots=True)
class DumpComment:
    """One comment of a dump, or a placeholder for a parent the dump skipped.

    ``votes_shown`` says which counts the page showed: up and down (0.19.4
    and later), a score only (older pages: then ``upvotes`` and ``downvotes``
    hold its positive or negative part), or nothing (a legacy line whose
    score could not be told from its age). An author the page hid
    (Cloudflare) has no name; ``author_shown`` keeps what the page showed.
    ``instance_known`` is false for an older page's display name of another
    instance, whose host the page did not show.

    Slotted: a large dump holds a hundred thousand of them, and slots make
    each smaller, quicker to read and quicker to free."""

    depth: int
    line: int = 0
    is_placeholder: bool = False
    author_name: str = ""
    author_instance: str = ""
    instance_known: bool = True
    author_shown: str = ""
    badges: tuple = ()
    is_cake_day: bool = False
    is_distinguished: bool = False
    language: str = ""
    upvotes: int = 0
    downvotes: int = 0
    counts_approximate: bool = False
    votes_shown: str = UP_AND_DOWN
    edited: bool = False
    age: str = INDETERMINATE
    age_span: tuple = None  # (low, high) seconds, for an age that stays ambiguous
    body: str = ""
    children: list = field(default_factory=list)

    @property
    def status(self):
        return STATUS_OF_TEXT.get(self.body.strip(), "normal") if not self.is_placeholder else "normal"

    @property
    def is_bot(self):
        return "bot" in self.badges

    @property
    def author_known(self):
        return bool(self.author_name)

    def walk(self):
        """Yield this comment and its descendants in dump (pre-)order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


@dataclass
class ParsedDump:
    source: str
    article: str
    comments: list
    warnings: list = field(default_factory=list)
    post: object = None  # threads.dump.page.PostInfo, when the page said something about the post
    layout: str = CURRENT

    def walk(self):
        for root in self.comments:
            yield from root.walk()

    def roots(self):
        return iter(self.comments)

    def materialize(self):
        return self

    def expected_comments(self, done):
        return max(done, self.comment_total)

    @cached_property
    def comment_total(self):
        return sum(1 for _ in self.walk())

    def real_comments(self):
        return [node for node in self.walk() if not node.is_placeholder]
