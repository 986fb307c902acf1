"""What names a thread and a comment across captures, and a thread's title.

A dump has no ids (``link`` and ``fedilink`` are icon names), so identity
is content: a thread is the hash of its normalised article, a comment its
author, host and normalised body under its parent (docs/dump-format.md).
A link or image post has no article; a full page still names it by its
community, author and title, and otherwise only its comments can tie two
captures together (``threads.importer.capture.find_thread``).
"""

import hashlib
import re
import unicodedata
import uuid

TITLE_LENGTH = 100
# Bodies this short, and bots' bodies, recur under unrelated posts, so they
# never tie a link post's capture to a thread.
MIN_IDENTIFYING_BODY = 20
EMPTY_ARTICLE_PREFIX = "empty:"


def normalise_text(text):
    """The form of a text used for identity: NFC, and every run of white
    space (NO-BREAK SPACE included) as one plain space."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def text_key(text):
    return hashlib.sha1(normalise_text(text).encode()).hexdigest()


def comment_key(parsed, instance):
    """``(name, host, body key)`` of a parsed comment. The host is
    ``instance`` for a name shown without one, ``None`` for another
    instance's author whose host the page hid; an author the page hid
    altogether has neither name nor host, so only the body and the parent
    identify the comment."""
    if not parsed.author_known:
        return None, None, text_key(parsed.body)
    host = (parsed.author_instance or instance) if parsed.instance_known else None
    return parsed.author_name, host, text_key(parsed.body)


def stored_key(row):
    """The same key for a stored comment loaded with ``store.LOADED``."""
    host = row.author__instance if row.author__instance_known else None
    return row.author__name, host, row.body_key


def is_identifying(parsed):
    """Whether a comment says enough to tell it apart: a known author's, not
    a bot's, not a short "Thanks!"."""
    return parsed.author_known and not parsed.is_bot and len(normalise_text(parsed.body)) >= MIN_IDENTIFYING_BODY


def article_fingerprint(article):
    return hashlib.sha256(normalise_text(article).encode()).hexdigest()


def post_fingerprint(post):
    """A link post's name on a full page: its community, author and title
    (hashed apart from any article: the text hashed starts with a marker no
    normalised article has)."""
    named = "\n".join(["post", *(normalise_text(part) for part in (post.community, post.author, post.title))])
    return hashlib.sha256(named.encode()).hexdigest()


def new_empty_fingerprint():
    """A unique fingerprint for a link post known only by its comments."""
    return EMPTY_ARTICLE_PREFIX + uuid.uuid4().hex


def first_sentence(text):
    """The first sentence of a text's first paragraph, cut at a word near
    ``TITLE_LENGTH`` characters; empty for a text without words."""
    first_paragraph = next((p for p in text.split("\n\n") if p.strip()), "")
    sentence = re.split(r"(?<=[.!?])\s+", normalise_text(first_paragraph.lstrip(" •")), maxsplit=1)[0]
    if len(sentence) <= TITLE_LENGTH:
        return sentence
    return sentence[: TITLE_LENGTH + 1].rsplit(" ", 1)[0].rstrip(",;:–-") + "…"
