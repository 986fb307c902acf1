"""Who a comment header names: a name, a host and the badges glued to them.

lemmy-ui prints ``name@host`` (the host only for another instance's
author) and glues the badge letters on with nothing between (docs/dump-format.md);
older pages print ``@name`` and ``@name@host`` for usernames and a display
name with no host at all; Cloudflare's email obfuscation can hide the whole
author behind ``[email protected]``.
"""

import re

from threads.dump.formats import BADGE_NAMES

BADGE_LINE_RE = re.compile(r"^(?=.)(OP)?(M)?(A)?(B)?$")
# What may stand between a header and its ``link``: a cake, a shield, or a
# badge line that one of those icons broke off the header.
PRE_TOKEN_RE = re.compile(r"^(?:cake|shield|(?=.)(?:OP)?M?A?B?)$")
HOST_AND_BADGES_RE = re.compile(r"^([a-z0-9-]+(?:\.[a-z0-9-]+)+)((?:OP)?M?A?B?)$")
LOCAL_BADGES_RE = re.compile(r"^(.*[^A-Z])((?:OP)?M?A?B?)$")
# Whole-word pills of newer lemmy-ui for a banned or deleted account, glued
# on like the badge letters.
STATUS_LABEL_RE = re.compile(r"Banned from community|Banned|deleted by creator")
# Cloudflare's "email address obfuscation" shows any name@host as this text.
OBFUSCATED_EMAIL = "[email protected]"
OBFUSCATED_AUTHOR_RE = re.compile(r"^(@?\[email protected\])((?:OP)?M?A?B?)$")


def split_header_text(text):
    """Split ``name@hostBADGES`` into ``(name, host, badges)``.

    Split at the last ``@``: display names may contain ``@`` and spaces but a
    host is lowercase, so an upper-case tail after it can only be badges.
    Without a host the tail is stripped only after a non-capital, so a name
    such as ``TeamDE`` keeps its letters. lemmy-ui 0.19.11 and later also
    glue whole words for a banned or deleted account (``Banned``, ``Banned
    from community``, ``deleted by creator``); after a host they are taken
    off, and not kept: they say nothing about who wrote the comment.
    """
    name, at, rest = text.rpartition("@")
    if at and name:
        for tail in (rest, STATUS_LABEL_RE.sub("", rest)):
            match = HOST_AND_BADGES_RE.match(tail)
            if match:
                return name, match[1], badges_of(match[2])
    return split_local_name(text)


def split_local_name(text):
    match = LOCAL_BADGES_RE.match(text)
    if match and match[2]:
        return match[1], "", badges_of(match[2])
    return text, "", ()


def badges_of(letters):
    match = BADGE_LINE_RE.match(letters) if letters else None
    if not match:
        return ()
    return tuple(BADGE_NAMES[group] for group in match.groups() if group)


def hidden_author(header_text):
    """``(text shown, badges)`` of an author hidden by Cloudflare, else ``None``."""
    match = OBFUSCATED_AUTHOR_RE.match(header_text)
    return (match[1], badges_of(match[2])) if match else None


def legacy_author(header_text, fedilinked):
    """``(name, host, badges, host known)`` as lemmy-ui up to 0.19.3 shows
    authors: ``@name`` (local), ``@name@host``, or a display name shown
    without its host, which a ``fedilink`` says is of another instance."""
    if header_text.startswith("@") and len(header_text) > 1:
        name, instance, badges = split_header_text(header_text[1:])
        return name, instance, badges, True
    name, _, badges = split_local_name(header_text)
    return name, "", badges, not fedilinked
