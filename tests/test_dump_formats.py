"""Counts and ages read and printed exactly as lemmy-ui prints them."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threads.dump.formats import FormatError, format_age, format_count, parse_age, parse_count


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (1004, "1K"),
        (1195, "1.2K"),
        (1204, "1.2K"),
        (1205, "1.21K"),
        (12_345, "12.3K"),
        (99_950, "100K"),
        (999_499, "999K"),
        (999_500, "1M"),
        (1_500_000, "1.5M"),
        (2_000_000_000, "2B"),
    ],
)
def test_counts_print_like_intl_compact_notation(value, printed):
    assert format_count(value) == printed


@pytest.mark.parametrize(
    ("text", "value", "approximate"),
    [("43", 43, False), ("1.2K", 1200, True), ("3M", 3_000_000, True), ("2147483647", 2**31 - 1, False)],
)
def test_counts_parse_to_numbers(text, value, approximate):
    assert parse_count(text) == (value, approximate)


@pytest.mark.parametrize("text", ["", "12a", "1.5", "K", "-3", "1,200", "2147483648", "2.2B", "1T"])
def test_malformed_counts_are_refused(text):
    with pytest.raises(FormatError):
        parse_count(text)


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [
        (0, "0 seconds ago"),
        (1, "1 second ago"),
        (59, "59 seconds ago"),
        (60, "1 minute ago"),
        (90, "2 minutes ago"),
        (3599, "60 minutes ago"),
        (3600, "1 hour ago"),
        (86_399, "24 hours ago"),
        (86_400, "1 day ago"),
        (30 * 86_400, "1 month ago"),
        (150 * 86_400, "5 months ago"),
        (359 * 86_400, "1 year ago"),
        (2 * 365 * 86_400, "2 years ago"),
        (-3 * 86_400, "in 3 days"),
    ],
)
def test_ages_print_like_date_fns_format_distance_strict(seconds, printed):
    assert format_age(seconds) == printed


@given(st.integers(min_value=-10 * 365 * 86_400, max_value=10 * 365 * 86_400))
def test_every_printed_age_parses_back_to_a_time_printing_the_same(seconds):
    printed = format_age(seconds)
    assert format_age(parse_age(printed).total_seconds()) == printed


@pytest.mark.parametrize("text", ["5 weeks ago", "five months ago", "5 months", "vor 5 Monaten", "ago"])
def test_unparseable_ages_are_refused(text):
    with pytest.raises(FormatError):
        parse_age(text)


@pytest.mark.parametrize("text", ["199999999999 hours ago", "1001 years ago", "in 5000 years"])
def test_ages_beyond_a_thousand_years_are_refused(text):
    with pytest.raises(FormatError, match="more than 1000 years"):
        parse_age(text)


def test_indeterminate_age_has_no_time():
    assert parse_age("indeterminate") is None
