"""Keyset pagination, newest first: each page starts where the last one ended.

``OFFSET`` makes page N read and skip every row before it, so deep pages of
a long list cost more and more; a keyset page is one range read of an
index that ends in the ordering columns, whatever its depth. The list is
ordered by a time field, newest first, then by id; a cursor names the
last row a page showed (opaque to clients: base64 of that row's time and
id). A time field that may be empty lists its undated rows last, as
``NULLS LAST`` does: they are read as a second range when the dated ones
run out, so either range uses the index.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q


class BadCursor(ValueError):
    """A cursor this module did not write."""


@dataclass
class KeysetPage:
    items: list
    next_cursor: str = None
    previous_cursor: str = None


def encode_cursor(moment, pk):
    raw = json.dumps([moment.isoformat() if moment else None, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text):
    """``(moment or None, pk)``; raises ``BadCursor`` for anything else."""
    try:
        moment, pk = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if moment is not None:
            moment = datetime.fromisoformat(moment)
        if type(pk) is not int or (moment is not None and moment.tzinfo is None):
            raise BadCursor(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as error:
        raise BadCursor(text) from error
    return moment, pk


def newest_first_page(queryset, field, size, *, after=None, before=None):
    """The ``size`` rows of ``queryset`` after the cursor ``after`` (or
    before ``before``; the first page without either), newest ``field``
    first, then highest id, undated rows last if ``field`` may be empty.

    Raises ``BadCursor`` for a cursor this module did not write.
    """
    nullable = queryset.model._meta.get_field(field).null
    dated = queryset.filter(**{f"{field}__isnull": False}) if nullable else queryset
    undated = queryset.filter(**{f"{field}__isnull": True}) if nullable else queryset.none()
    newest, oldest = (f"-{field}", "-pk"), (field, "pk")
    if before is None:
        moment, pk = decode_cursor(after) if after else (None, None)
        if after is None:
            rows = _read(size + 1, (dated, newest), (undated, ("-pk",)))
        elif moment is None:
            rows = _read(size + 1, (undated.filter(pk__lt=pk), ("-pk",)))
        else:
            older = dated.filter(**{f"{field}__lte": moment}).exclude(Q(**{field: moment}) & Q(pk__gte=pk))
            rows = _read(size + 1, (older, newest), (undated, ("-pk",)))
        items = rows[:size]
        return KeysetPage(
            items,
            next_cursor=_cursor(items[-1], field) if len(rows) > size else None,
            previous_cursor=_cursor(items[0], field) if after is not None and items else None,
        )
    moment, pk = decode_cursor(before)
    if moment is None:
        rows = _read(size + 1, (undated.filter(pk__gt=pk), ("pk",)), (dated, oldest))
    else:
        newer = dated.filter(**{f"{field}__gte": moment}).exclude(Q(**{field: moment}) & Q(pk__lte=pk))
        rows = _read(size + 1, (newer, oldest))
    items = rows[:size][::-1]
    return KeysetPage(
        items,
        next_cursor=_cursor(items[-1], field) if items else None,
        previous_cursor=_cursor(items[0], field) if len(rows) > size else None,
    )


def _read(limit, *ranges):
    """Up to ``limit`` rows from each ``(queryset, ordering)`` in turn, a
    query per range that is reached."""
    rows = []
    for queryset, ordering in ranges:
        if len(rows) >= limit:
            break
        rows += queryset.order_by(*ordering)[: limit - len(rows)]
    return rows


def _cursor(row, field):
    return encode_cursor(getattr(row, field), row.pk)
