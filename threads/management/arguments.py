"""Argument types the management commands share."""

from datetime import UTC, datetime


def aware_datetime(text):
    """Parse ISO-8601; a time without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
