"""Take a captured page apart before parsing: what is chrome, what is the post.

Dumps come in more shapes than the converter's own (docs/dump-format.md,
"Renderings met in the wild"):
- a mirror site's ``<title>`` as a first line (``"" TITLE - WORD``);
- a full page: the navbar, the post shown twice (mobile and desktop) and the
  community sidebar around the article and the comments;
- a search excerpt whose first line lost its indent.

Each function takes the file's lines and returns new lines of the same
count, the chrome blanked rather than removed, so that every later error
still names a line of the file as given; and what the chrome said about the
post. None of this is comment grammar: that is the parser's.
"""

import re
from dataclasses import dataclass

from threads.dump.authors import PRE_TOKEN_RE
from threads.dump.errors import DumpError
from threads.dump.formats import BULLET, HOST_RE, FormatError, age_window, parse_count
from threads.dump.languages import LANGUAGE_NAMES

WRAPPER_LINE_RE = re.compile(r'^"" (?P<title>.+) - \S+$')
# The anonymous navbar of lemmy-ui 0.19 (app/navbar.tsx), in order; each
# item may carry a label line below it.
NAVBAR = (
    ("Communities", None, True),
    ("Create Post", None, True),
    ("Create Community", None, False),
    ("heart", "Support Lemmy", True),
    ("search", "Search", True),
    ("Login", None, True),
    ("Sign Up", None, True),
)
NAVBAR_MARKERS = {
    f"  {BULLET} Communities",
    f"  {BULLET} Create Post",
    "Create Post",
    "Support Lemmy",
    "message-square",
}
POST_HEADER_RE = re.compile(r"^(?P<left>\S.* to \S.*?) ·(?: (?P<age>\S.*))?$")
POST_ICONS = {"trash", "lock", "pin"}
THUMBNAILS = {"external-link"}
CROSS_POSTS = "cross-posted to:"
SUBSCRIBE = "Subscribe from Remote Instance"
HEADER_START_RE = re.compile(rf"^( +){BULLET} \S")
FIRST_LINE_HEADER_RE = re.compile(rf"^{BULLET} \S")


@dataclass
class PostInfo:
    """What the page says about the post itself. ``title`` is a title found
    in the dump; the rest is known only from a full page."""

    title: str
    author: str = ""  # the post author as shown: name@hostBADGES
    community: str = ""
    language: str = ""
    age: str = ""
    edited: bool = False
    comment_count: int = None
    score: int = None
    domain: str = ""
    line: int = 1  # where the post header is, for messages about it


def strip_wrapper_line(lines):
    """Return ``(lines, post)``: a mirror site's page-title line and the blank
    after it blanked, and the title it gives; ``post`` is ``None`` when line 1
    is not exactly that shape (any other first line is article text)."""
    if len(lines) < 2 or lines[1] != "":
        return lines, None
    match = WRAPPER_LINE_RE.match(lines[0])
    if not match:
        return lines, None
    return ["", *lines[1:]], PostInfo(title=match["title"].strip())


def restore_first_indent(lines):
    """Return ``(lines, warning)``: a first comment header that lost its
    indent (search excerpts do this to line 1 only) put back at its
    metadata's indent less two; ``warning`` is ``None`` when nothing changed.

    If the metadata sits at indent 2, the whole excerpt lost two columns and
    every line gets them back.
    """
    if not lines or not FIRST_LINE_HEADER_RE.match(lines[0]):
        return lines, None
    for line in lines[1:4]:
        token = line.strip()
        if token == "link":
            indent = len(line) - len(token)
            break
        if not PRE_TOKEN_RE.match(token):
            return lines, None
    else:
        return lines, None
    if indent >= 4:
        restored = [" " * (indent - 2) + lines[0], *lines[1:]]
        return restored, f"restored the first comment header's lost indent ({indent - 2} spaces)"
    if indent == 2:
        restored = ["  " + line if line else line for line in lines]
        return restored, "the excerpt lost two columns of indent on every line; restored them"
    return lines, None


def looks_like_full_page(lines):
    """Whether the lines before the first comment show a page's navbar or
    post header: then the chrome must fit a full page exactly."""
    for index, line in enumerate(lines):
        if line in NAVBAR_MARKERS or line.strip() in NAVBAR_MARKERS or POST_HEADER_RE.match(line):
            return True
        if HEADER_START_RE.match(line) and _link_follows(lines, index):
            return False
    return False


def strip_full_page(lines, source):
    """Return ``(lines, post)`` for a full page: everything before the article
    and from the community sidebar to the end blanked, and what the two post
    blocks and the sidebar say about the post.

    Raises ``DumpError`` at the first line where the chrome stops fitting an
    anonymous, English lemmy-ui 0.19 page (a logged-in or localised render).
    """
    kept, post, end = strip_page_top(lines, source)
    sidebar = sidebar_start(lines, end, source)
    if sidebar is not None:
        kept[sidebar:] = [""] * (len(lines) - sidebar)
    name_community(post, lines[sidebar] if sidebar is not None else None, source)
    return kept, post


def strip_page_top(lines, source):
    """Return ``(lines, post, end)``: the navbar and both post blocks blanked,
    what they say (the post header not yet split: see ``name_community``),
    and the index where the article or the first comment starts."""
    end, post = _Chrome(lines, source).read_top()
    return [""] * end + lines[end:], post, end


def name_community(post, community, source):
    """Split the post header into author, community and language, given the
    sidebar's first line (``None`` without a sidebar)."""
    post.author, post.community, post.language = _split_post_header(post.author, community, post.line, source)


class _Chrome:
    """Reads the chrome above the article one expected line at a time."""

    def __init__(self, lines, source):
        self.lines = lines
        self.source = source
        self.index = 0

    def fail(self, expected):
        if self.index >= len(self.lines):
            found, line = "the end of the file", len(self.lines)
        else:
            found, line = repr(self.lines[self.index]), self.index + 1
        raise DumpError(
            line,
            f"{found} does not fit a full Lemmy page here: expected {expected} "
            "(only anonymous, English lemmy-ui pages are read)",
            self.source,
        )

    def peek(self):
        """The next non-blank line, skipping blank ones; ``None`` at the end."""
        while self.index < len(self.lines) and not self.lines[self.index]:
            self.index += 1
        return self.lines[self.index] if self.index < len(self.lines) else None

    def take(self):
        line = self.peek()
        self.index += 1
        return line

    def expect(self, text):
        if self.peek() != text:
            self.fail(repr(text))
        self.index += 1

    def optional(self, *texts):
        if self.peek() in texts:
            self.index += 1
            return True
        return False

    def read_top(self):
        """Read the site name, the navbar and both post blocks; return the
        index where the article (or the first comment) starts and the post."""
        if not self.take():
            self.fail("the site's name on line 1")
        for label, below, required in NAVBAR:
            item = f"  {BULLET} {label}"
            if required:
                self.expect(item)
            elif not self.optional(item):
                continue
            if below:
                self.expect(f"    {below}")
        post = self.read_created_line()
        post.title = self.read_title()
        post.domain = self.read_domain()
        post.comment_count = self.read_comment_count()
        self.expect("fedilink")
        post.score = self.read_count("the post's score", signed=True)
        self.optional(*THUMBNAILS)
        self.peek()
        title_at = self.index
        if self.read_title() != post.title:
            self.index = title_at
            self.fail(f"the post title again, {post.title!r}")
        if self.read_domain() != post.domain:
            self.fail(f"the post's domain again, {post.domain!r}")
        again = self.read_created_line()
        if (again.author, again.age, again.edited) != (post.author, post.age, post.edited):
            self.index = again.line - 1
            self.fail("the post header again, as in the first block")
        if self.read_comment_count() != post.comment_count:
            self.fail("the same comment count as the first block")
        self.expect("fedilink")
        if self.index < len(self.lines) and self.lines[self.index] == "":
            self.index += 1
        return self.index, post

    def read_created_line(self):
        """``AUTHOR to COMMUNITY[LANGUAGE] · AGE``; an edited post breaks the
        line after ``·`` (``edit-2`` and the age follow on lines of their own)."""
        line = self.peek()
        match = POST_HEADER_RE.match(line or "")
        if not match:
            self.fail("the post header, 'AUTHOR to COMMUNITY · AGE'")
        post = PostInfo(title="", author=match["left"], line=self.index + 1)
        self.index += 1
        age = match["age"]
        if age is None:
            self.expect("edit-2")
            post.edited, age = True, self.take()
        try:
            age_window(age or "")
        except FormatError as error:
            self.index -= 1
            self.fail(f"the post's age ({error})")
        post.age = age
        return post

    def read_title(self):
        title = self.take()
        if not title or title[0] == " ":
            self.index -= 1
            self.fail("the post title")
        while self.optional(*POST_ICONS):
            pass
        return title

    def read_domain(self):
        line = self.peek()
        if line and HOST_RE.match(line):  # a domain: lemmy-ui prints the link's host
            self.index += 1
            return line
        return ""

    def read_comment_count(self):
        self.optional(*THUMBNAILS)
        # A text post's thumbnail is a bare message-square icon before the count's own.
        if self.peek() == "message-square" and self._next_non_blank(self.index + 1) == "message-square":
            self.index += 1
        self.expect("message-square")
        count = self.read_count("the comment count")
        if self.optional(CROSS_POSTS):
            while (self.peek() or "").startswith(f"  {BULLET} "):
                self.index += 1
        self.optional("link")
        return count

    def read_count(self, what, signed=False):
        token = self.peek() or ""
        negative = signed and token.startswith("-")
        try:
            value, _ = parse_count(token[1:] if negative else token)
        except FormatError:
            self.fail(what)
        self.index += 1
        return -value if negative else value

    def _next_non_blank(self, index):
        while index < len(self.lines) and not self.lines[index]:
            index += 1
        return self.lines[index] if index < len(self.lines) else None


def _link_follows(lines, index):
    """Whether the bullet on line ``index`` is followed by a ``link`` line
    (after optional cake, shield and badge lines): a comment header."""
    for line in lines[index + 1 : index + 5]:
        token = line.strip()
        if token == "link":
            return True
        if not PRE_TOKEN_RE.match(token):
            return False
    return False


def sidebar_start(lines, start, source):
    """The index of the sidebar's first line (the community), or ``None``.

    After the comments, nothing but the sidebar sits at indent 0 (bodies are
    at indent 4 or deeper). Without comments the article ends at the
    community line, two lines above ``Subscribe from Remote Instance``.
    """
    first_comment = next(
        (
            index
            for index in range(start, len(lines))
            if HEADER_START_RE.match(lines[index]) and _link_follows(lines, index)
        ),
        None,
    )
    if first_comment is not None:
        return sidebar_after_comments(lines, first_comment, source)
    for index in range(start, len(lines)):
        if lines[index] == SUBSCRIBE:
            above = [i for i in range(index - 1, start - 1, -1) if lines[i]][:2]
            if len(above) == 2 and _subscribe_below(lines, above[1]):
                return above[1]
    return None


def sidebar_after_comments(lines, start, source, first_line=1):
    """The index of the first line at indent 0 from ``start`` (inside the
    comments), which must start the sidebar, or ``None`` if none does.
    ``first_line`` is the file's line number of ``lines[0]``."""
    candidate = next((index for index in range(start, len(lines)) if lines[index] and lines[index][0] != " "), None)
    if candidate is None:
        return None
    if _subscribe_below(lines, candidate):
        return candidate
    raise DumpError(
        first_line + candidate,
        f"text at indent 0 after the comments ({lines[candidate]!r}) where a full page's community sidebar "
        f"starts, but {SUBSCRIBE!r} does not follow it",
        source,
    )


def _subscribe_below(lines, index):
    """Whether ``COMMUNITY``, ``name@host`` and the subscribe line start at ``index``."""
    following = [line for line in lines[index : index + 8] if line][:3]
    return len(following) == 3 and "@" in following[1] and following[2] == SUBSCRIBE


def _split_post_header(left, community, line, source):
    """Split ``AUTHOR to COMMUNITY[LANGUAGE]`` into its three parts.

    With the sidebar's community known, the header must end with it and an
    optional language name. Without one, a native language name is split off
    the end, and the author ends at the first `` to `` after which a
    community follows.
    """
    if community is not None:
        for language in ("", *sorted(LANGUAGE_NAMES, key=len, reverse=True)):
            tail = f" to {community}{language}"
            if left.endswith(tail) and len(left) > len(tail):
                return left[: -len(tail)], community, language
        raise DumpError(line, f"the post header {left!r} does not name the sidebar's community {community!r}", source)
    language = next(
        (
            name
            for name in sorted(LANGUAGE_NAMES, key=len, reverse=True)
            if left.endswith(name) and len(left) > len(name)
        ),
        "",
    )
    rest = left[: len(left) - len(language)]
    author, _, named = rest.partition(" to ")
    if not named:
        author, _, named = left.partition(" to ")
        language = ""
    return author, named, language
