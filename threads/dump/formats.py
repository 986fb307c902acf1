"""The words, counts and ages of a dump exactly as lemmy-ui prints them, both ways.

This is the one home of Lemmy's own strings (bullets, badge letters, the
text shown for deleted and removed comments): the parser reads them and the
writer prints them. What this forum's pages say is in ``threads.models``.

lemmy-ui prints counts with ``Intl.NumberFormat`` compact notation (three
significant digits) and ages with date-fns ``formatDistanceStrict``; the
exporter must print them the same way for a dump to survive a round trip,
and the importer must turn them back into numbers and times.
"""

import functools
import math
import re
from datetime import timedelta
from decimal import Decimal

BULLET = "•"
SEPARATOR = "·"
# Badge names in the order lemmy-ui glues their letters to a name (docs/dump-format.md).
BADGE_LETTERS = {"op": "OP", "mod": "M", "admin": "A", "bot": "B"}
BADGE_ORDER = tuple(BADGE_LETTERS)
BADGE_NAMES = {letters: name for name, letters in BADGE_LETTERS.items()}
# What lemmy-ui shows instead of a gone comment's body, and the status each means.
DELETED_TEXT = "deleted by creator"
REMOVED_TEXT = "Removed by mod"
STATUS_TEXTS = {"deleted": DELETED_TEXT, "removed": REMOVED_TEXT}
STATUS_OF_TEXT = {
    DELETED_TEXT: "deleted",
    REMOVED_TEXT: "removed",
    # Lemmy's replacement for the comments of a deleted account, shown bare
    # when a copy got the new text without the deleted flag.
    "Permanently Deleted": "deleted",
    "*Permanently Deleted*": "deleted",
}

# Which vote counts a page showed: both (lemmy-ui 0.19.4 and later), the
# score alone (older pages, or a logged-in reader's display settings), or no
# score that could be told apart from the age.
UP_AND_DOWN = "up_down"
SCORE_ONLY = "score"
NO_SCORE = "none"

COUNT_RE = re.compile(r"^(\d+)(?:\.(\d+))?([KMBT])?$")
AGE_RE = re.compile(r"^(?:(?P<past>\d+) (?P<past_unit>[a-z]+) ago|in (?P<future>\d+) (?P<future_unit>[a-z]+))$")
INDETERMINATE = "indeterminate"

SI_SUFFIXES = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))
SUFFIX_VALUES = dict(SI_SUFFIXES)

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONTH = 30 * DAY
YEAR = 365 * DAY
UNIT_SECONDS = {"second": 1, "minute": MINUTE, "hour": HOUR, "day": DAY, "month": MONTH, "year": YEAR}
# The ages each unit covers in date-fns ``formatDistanceStrict``: a unit is
# used from its lower bound up to the next unit's; a rounded "12 months" is
# printed as "1 year", so months stop at 11 and "1 year" starts at 345 days.
UNIT_BANDS = {
    "second": (0, MINUTE),
    "minute": (MINUTE, HOUR),
    "hour": (HOUR, DAY),
    "day": (DAY, MONTH),
    "month": (MONTH, 11.5 * MONTH),
    "year": (11.5 * MONTH, float("inf")),
}
# The importer subtracts an age from the capture time; a larger one would
# leave the years a datetime can hold.
MAX_AGE_YEARS = 1000
# The longest names a dump may hold; far beyond any lemmy-ui shows (Lemmy caps
# display names at a few dozen characters), and the columns they are stored in.
MAX_NAME_LENGTH = 255
MAX_LANGUAGE_LENGTH = 64
# Vote counts are stored in integer columns (PostgreSQL's hold 2**31 - 1);
# no Lemmy post has come near it.
MAX_COUNT = 2**31 - 1


# A host as lemmy-ui prints one (from a parsed URL: lower case, IDNs as xn--).
HOST_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


class FormatError(ValueError):
    """A count, an age or a host that lemmy-ui could not have printed."""


def parse_host(text):
    """Return ``text`` as a host name (lower case, a Unicode name in its
    ``xn--`` form), or raise ``FormatError``."""
    host = text.strip().lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FormatError(f"{text!r} is not a host name such as lemmy.world") from None
    if not HOST_RE.match(host):
        raise FormatError(f"{text!r} is not a host name such as lemmy.world")
    return host


def parse_count(text):
    """Return ``(value, approximate)`` for a count such as ``43`` or ``1.2K``.

    A suffixed count stands for a range (``1.2K`` is 1195 to 1204), so it is
    stored at its printed value and flagged approximate.
    """
    match = COUNT_RE.match(text)
    if not match:
        raise FormatError(f"unparseable count {text!r}")
    whole, fraction, suffix = match.groups()
    if not suffix:
        if fraction:
            raise FormatError(f"unparseable count {text!r} (a fraction without K, M or B)")
        value, approximate = int(whole), False
    else:
        value, approximate = int(Decimal(f"{whole}.{fraction or 0}") * SUFFIX_VALUES[suffix]), True
    if value > MAX_COUNT:
        raise FormatError(f"count {text!r} is more than {MAX_COUNT:,}")
    return value, approximate


def format_count(value):
    """Print a count like lemmy-ui's ``numToSI``: ``999``, ``1K``, ``1.21K``, ``1M``."""
    if value < 0:
        return "-" + format_count(-value)
    if value < 1000:
        return str(value)
    digits = len(str(value))
    step = 10 ** (digits - 3)
    rounded = (value + step // 2) // step * step
    for suffix, unit in SI_SUFFIXES:
        if rounded >= unit:
            shown = Decimal(rounded) / unit
            text = f"{shown:.2f}".rstrip("0").rstrip(".")
            return text + suffix
    return str(rounded)


def _js_round(value):
    """``Math.round`` for non-negative values: halves go up, unlike ``round``."""
    return math.floor(value + 0.5)


def format_age(seconds):
    """Print ``seconds`` (positive: in the past) as date-fns ``formatDistanceStrict``
    with ``addSuffix`` does, months being 30 days and years 365."""
    future = seconds < 0
    seconds = abs(seconds)
    minutes = seconds / MINUTE
    if minutes < 1:
        number, unit = _js_round(seconds), "second"
    elif minutes < 60:
        number, unit = _js_round(minutes), "minute"
    elif minutes < 24 * 60:
        number, unit = _js_round(minutes / 60), "hour"
    elif minutes < 30 * 24 * 60:
        number, unit = _js_round(minutes / (24 * 60)), "day"
    elif minutes < 365 * 24 * 60:
        number, unit = _js_round(minutes / (30 * 24 * 60)), "month"
        if number == 12:
            number, unit = 1, "year"
    else:
        number, unit = _js_round(minutes / (365 * 24 * 60)), "year"
    words = f"{number} {unit}{'' if number == 1 else 's'}"
    return f"in {words}" if future else f"{words} ago"


def age_window(text):
    """Return ``(low, high)``, the seconds before capture for which lemmy-ui
    prints ``text`` (negative for a time ahead of the capture), or ``None``
    for ``indeterminate``.

    Raises ``FormatError`` for text lemmy-ui cannot print: an unknown unit,
    a leading zero, a singular that is not 1 (``221 day ago``) or a plural
    that is (``1 days ago``), or a number outside its unit's band
    (``45 days ago``, ``13 months ago``, ``0 minutes ago``). Such ages would
    store times that never existed, and in practice they mean a page read
    with the wrong grammar.
    """
    age = _read_age(text)
    if age is None:
        return None
    future, low, high, _ = age
    return (-high, -low) if future else (low, high)


@functools.lru_cache(maxsize=4096)
def parse_age(text):
    """Return the timedelta before capture that ``text`` stands for, or ``None``
    for ``indeterminate``; raise ``FormatError`` as ``age_window`` does.

    The result is the age's nominal value ("5 months" is 150 days) where
    lemmy-ui would print that value as ``text``, else the low end of its
    window ("60 minutes" is 59.5 minutes, since 60 whole minutes print as
    "1 hour"), which keeps export round trips exact.
    """
    age = _read_age(text)
    if age is None:
        return None
    future, low, high, nominal = age
    seconds = nominal if low <= nominal < high else low
    return timedelta(seconds=-seconds if future else seconds)


def _read_age(text):
    """``(future, low, high, nominal)`` in seconds, ``low`` included, all of
    them magnitudes; ``None`` for ``indeterminate``."""
    if text == INDETERMINATE:
        return None
    match = AGE_RE.match(text)
    if not match:
        raise FormatError(f"unparseable age {text!r}")
    future = match["future"] is not None
    digits, word = (match["future"], match["future_unit"]) if future else (match["past"], match["past_unit"])
    number, plural = int(digits), word.endswith("s")
    unit = word.removesuffix("s")
    if unit not in UNIT_SECONDS:
        raise FormatError(f"unparseable age {text!r}: unknown unit {unit!r}")
    nominal = number * UNIT_SECONDS[unit]
    if nominal > MAX_AGE_YEARS * YEAR:
        raise FormatError(f"age {text!r} is more than {MAX_AGE_YEARS} years")
    band_low, band_high = UNIT_BANDS[unit]
    low = max((number - 0.5) * UNIT_SECONDS[unit], band_low)
    high = min((number + 0.5) * UNIT_SECONDS[unit], band_high)
    if (len(digits) > 1 and digits[0] == "0") or plural == (number == 1) or low >= high:
        raise FormatError(f"age {text!r} is not one lemmy-ui prints")
    return future, low, high, nominal
