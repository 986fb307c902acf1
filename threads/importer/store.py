"""The rows an import writes: one definition of their columns, and the writes.

``Content`` names every column a capture decides for a comment, once; the
insert of new comments and the update of stored ones both take their values
from ``content_of``, and what is loaded and compared to tell whether a
capture changed a comment is derived from the same fields. New comments are
inserted with ``executemany``, each row a tuple built straight from its
parsed comment: Django's ``bulk_create`` spent most of a large import
preparing model instances.
"""

import functools
from datetime import timedelta
from typing import NamedTuple

from django.db import connections

from threads.dump.formats import BADGE_ORDER, parse_age
from threads.markup import render_dump_text
from threads.models import Comment, Person

INSERT_BATCH = 5000
# The tree place of a comment, as the merge lays it out.
STRUCTURE = ("id", "parent_id", "position", "ancestry_unknown", "tree_id", "lft", "rght", "level")
TREE_FIELDS = STRUCTURE[4:]


class Content(NamedTuple):
    """What one capture says about a comment: a value for each column it writes."""

    is_placeholder: bool
    origin: str
    author_id: int
    author_shown: str
    badges: str
    is_distinguished: bool
    is_cake_day: bool
    status: str
    language: str
    body: str
    body_html: str
    body_key: str
    imported_upvotes: int
    imported_downvotes: int
    counts_approximate: bool
    votes_shown: str
    created_at: object
    edited_at: object
    age_text: str
    captured_at: object


# Columns a stored comment is not compared on: the author and the body are
# compared through the comment's key (author, host, body_key), the HTML
# follows the body, the creation time is an estimate that a later capture
# does not improve, and the capture time records the comparison itself.
NOT_COMPARED = {"author_id", "body", "body_html", "created_at", "captured_at"}
COMPARED = tuple(name for name in Content._fields if name not in NOT_COMPARED)
# What the merge loads of each stored comment.
LOADED = (
    "pk",
    *STRUCTURE[1:],
    "is_placeholder",
    "origin",
    "author__name",
    "author__instance",
    "author__instance_known",
    *(name for name in COMPARED if name not in {"is_placeholder", "origin"}),
)


@functools.lru_cache(maxsize=64)
def badge_text(badges):
    return ",".join(badge for badge in BADGE_ORDER if badge in badges)


class Rows:
    """Turns parsed comments into column values for one capture."""

    def __init__(self, captured_at, people=None):
        self.captured_at = captured_at
        self.people = people
        self.connection = connections[Comment.objects.db]
        # Imported times repeat (every "5 months ago" is the same instant), so
        # each distinct one is worked out once.
        self.time_of_age = functools.lru_cache(maxsize=4096)(self._time_of_age)

    def _time_of_age(self, age):
        delta = parse_age(age)
        return None if delta is None else self.captured_at - delta

    def estimated_time(self, parsed):
        """When ``parsed`` was written (or last edited), counted back from the capture."""
        if parsed.age_span is not None:
            low, high = parsed.age_span
            if low == float("-inf") or high == float("inf"):
                return None
            return self.captured_at - timedelta(seconds=(low + high) / 2)
        return self.time_of_age(parsed.age)

    def content_of(self, parsed, key, *, to_compare=False):
        """The ``Content`` of a real parsed comment; ``key`` is its identity
        (``threads.importer.identity.comment_key``). ``to_compare`` leaves
        out what comparing does not need and costs the most: the HTML and
        the author's id (people are resolved only for what is written)."""
        time = self.estimated_time(parsed)
        person = key[:2] if parsed.author_known and not to_compare else None
        return Content(
            is_placeholder=False,
            origin=Comment.Origin.IMPORTED,
            author_id=self.people[person] if person else None,
            author_shown="" if parsed.author_known else parsed.author_shown,
            badges=badge_text(parsed.badges),
            is_distinguished=parsed.is_distinguished,
            is_cake_day=parsed.is_cake_day,
            status=parsed.status,
            language=parsed.language,
            body=parsed.body,
            body_html="" if to_compare else render_dump_text(parsed.body),
            body_key=key[2],
            imported_upvotes=parsed.upvotes,
            imported_downvotes=parsed.downvotes,
            counts_approximate=parsed.counts_approximate,
            votes_shown=parsed.votes_shown,
            created_at=time,
            edited_at=time if parsed.edited else None,
            age_text=parsed.age,
            captured_at=self.captured_at,
        )


class Inserter:
    """Inserts new comments of one thread with ``executemany``."""

    def __init__(self, thread_id, rows):
        self.rows = rows
        self.connection = connection = rows.connection
        self.thread_id = thread_id
        fields = {field.attname: field for field in Comment._meta.concrete_fields}
        filled = ("thread_id", *STRUCTURE, *Content._fields)
        defaulted = [field for name, field in fields.items() if name not in filled]
        self.defaults = tuple(field.get_default() for field in defaulted)
        self.placeholder = tuple(
            Content(
                is_placeholder=True,
                origin=Comment.Origin.IMPORTED,
                **{name: fields[name].get_default() for name in Content._fields[2:]},
            )
        )
        # Times go in as the ORM would store them (a text form on SQLite).
        self.adapt_time = functools.lru_cache(maxsize=4096)(connection.ops.adapt_datetimefield_value)
        self.time_positions = [filled.index(name) for name in ("created_at", "edited_at", "captured_at")]
        quote = connection.ops.quote_name
        names = ", ".join(quote(fields[name].column) for name in (*filled, *(field.attname for field in defaulted)))
        self.sql = f"INSERT INTO {quote(Comment._meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"

    def row(self, structure, parsed, key):
        """The row of a new comment: ``structure`` holds its ``STRUCTURE`` values."""
        if parsed.is_placeholder:
            return (self.thread_id, *structure, *self.placeholder, *self.defaults)
        row = [self.thread_id, *structure, *self.rows.content_of(parsed, key), *self.defaults]
        for position in self.time_positions:
            row[position] = self.adapt_time(row[position])
        return row

    def insert(self, rows):
        """Insert rows made by ``row``; return how many."""
        if rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, rows)
        return len(rows)


def resolve_people(authors):
    """Map ``(name, host)`` keys to person ids, creating imported authors as needed.

    ``authors`` yields ``((name, host), instance_known, is_bot)``; a host of
    ``None`` stands for "another instance, host not shown". New people are
    inserted in sorted order, so two imports adding the same authors wait
    for each other instead of deadlocking.
    """
    wanted = {}
    for key, is_bot in authors:
        wanted[key] = wanted.get(key, False) or is_bot
    people = {}

    def load(names):
        for chunk in chunks(sorted(names), 500):
            for person in Person.objects.imported().filter(name__in=chunk):
                people[person_key(person.name, person.instance, person.instance_known)] = person

    load({name for name, _ in wanted})
    missing = [
        Person(name=name, instance=host or "", instance_known=host is not None, is_bot=is_bot)
        for (name, host), is_bot in sorted(wanted.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        if (name, host) not in people
    ]
    Person.objects.bulk_create(missing, batch_size=1000, ignore_conflicts=True)
    if missing:
        load({person.name for person in missing})
    new_bots = [people[key].pk for key, is_bot in wanted.items() if is_bot and not people[key].is_bot]
    Person.objects.filter(pk__in=new_bots).update(is_bot=True)
    return {key: person.pk for key, person in people.items()}


def person_key(name, instance, instance_known=True):
    """The key of an imported author: its name and host, the host ``None``
    for an author of another instance whose host the page did not show."""
    return name, instance if instance_known else None


def chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]
