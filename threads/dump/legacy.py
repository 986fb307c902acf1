"""Pages of lemmy-ui 0.18.1 to 0.19.3, before the vote display of 0.19.4.

Their comment metadata has no ``arrow-up`` or ``·``: the score is printed
right before the age, and the text converter glues the two (``265 days
ago`` is a score of 26 and "5 days ago"); an edited comment shows the score,
``edit-2`` and the age on three lines. Authors are shown as ``@name`` (local),
``@name@host`` or a display name without any host.

A glued line can often be cut in two ways (``112 hours ago``: 1 and "12
hours", or 11 and "2 hours"). The page guarantees one thing that settles
most of them: a reply is never older than its parent. What that leaves
ambiguous is stored with its score unknown, never guessed.
"""

import re
from dataclasses import dataclass

from threads.dump.formats import INDETERMINATE, FormatError, age_window, format_count, parse_count

SCORE_RE = re.compile(r"^-?\d+(?:\.\d+)?[KMB]?")


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read a glued line: a score and an age, with the seconds
    before capture the age can stand for (``low`` included)."""

    score: int
    approximate: bool
    age: str
    low: float
    high: float


def parse_score(text):
    """``(score, approximate)`` for a score exactly as lemmy-ui prints it
    (``numToSI`` of a signed number: ``0``, ``-29``, ``138``, ``1.2K``); raise
    ``FormatError`` for anything else, such as ``08`` or ``1384``."""
    negative = text.startswith("-")
    value, approximate = parse_count(text[1:] if negative else text)
    if format_count(value) != (text[1:] if negative else text) or (negative and value == 0):
        raise FormatError(f"{text!r} is not a score lemmy-ui prints")
    return (-value if negative else value), approximate


def glued_readings(line):
    """Every way to cut ``line`` into a printed score and a printed age."""
    readings = []
    for cut in range(1, len(line)):
        score_text, age = line[:cut], line[cut:]
        if not (age[0].isdigit() or age == INDETERMINATE) or not SCORE_RE.fullmatch(score_text):
            continue
        try:
            score, approximate = parse_score(score_text)
            window = age_window(age)
        except FormatError:
            continue
        low, high = window if window else (float("-inf"), float("inf"))
        readings.append(Reading(score, approximate, age, low, high))
    return readings


def looks_glued(token):
    """Whether a metadata line can only be a score glued to an age."""
    return bool(SCORE_RE.match(token)) and token.endswith((" ago", INDETERMINATE))


def describe(readings):
    return " or ".join(f"{reading.score} + {reading.age.removesuffix(' ago')}" for reading in readings)


def resolve_readings(roots, readings, edited, bound=None):
    """Narrow each comment's readings with "a reply is never older than its
    parent", applied between every comment and each of its unedited
    ancestors, both ways, until nothing changes.

    ``readings`` maps ``id(comment)`` to its list of readings and is narrowed
    in place; ``edited`` holds the ids of edited comments (their age dates
    the edit, so it bounds nothing above them); ``bound`` is the seconds
    range of an unedited post's own age, which bounds every comment.
    """
    changed = True
    while changed:
        changed = False
        # Top down: a comment is no older than the youngest its unedited
        # ancestors can be at most (the smallest of their largest ages).
        stack = [(root, bound[1] if bound else float("inf")) for root in roots]
        while stack:
            node, oldest = stack.pop()
            options = readings.get(id(node))
            if options:
                kept = [reading for reading in options if reading.low < oldest]
                if kept and len(kept) < len(options):
                    readings[id(node)] = options = kept
                    changed = True
                if id(node) not in edited:
                    oldest = min(oldest, max(reading.high for reading in options))
            stack.extend((child, oldest) for child in node.children)
        # Bottom up: an unedited comment is older than every descendant can
        # be at least (the largest of their smallest ages).
        order, stack = [], list(roots)
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(node.children)
        youngest = {}
        for node in reversed(order):
            below = max((youngest[id(child)] for child in node.children), default=float("-inf"))
            options = readings.get(id(node))
            if options and id(node) not in edited:
                kept = [reading for reading in options if reading.high > below]
                if kept and len(kept) < len(options):
                    readings[id(node)] = options = kept
                    changed = True
            own = min(reading.low for reading in options) if options else float("-inf")
            youngest[id(node)] = max(below, own)
    return readings
