"""Parse the lines of a Lemmy post page into its article and comment tree.

A pure function of the text (no Django), following the grammar in
docs/dump-format.md. The hard part is that a comment body's list items and
a reply's header look the same (``• text`` at the same indentation): only
the metadata block after a real header (``link`` at the next indent, ending
in an age) tells them apart, so a bullet followed by ``link`` whose metadata
then fails is refused, never read as text.

Two layouts of that metadata exist: lemmy-ui 0.19.4 and later (``arrow-up N
… · AGE``) and older pages (a score glued to the age, ``threads.dump.legacy``).
A file is read in one of them, told by its first vote group; a file mixing
the two is refused. Chrome around the page (a full page's navbar and
sidebar, a mirror's title line) is taken off before this, in
``threads.dump.page``.
"""

import re

from threads.dump import legacy
from threads.dump.authors import (
    BADGE_LINE_RE,
    OBFUSCATED_EMAIL,
    PRE_TOKEN_RE,
    badges_of,
    hidden_author,
    legacy_author,
    split_header_text,
)
from threads.dump.errors import DumpError
from threads.dump.formats import (
    BADGE_ORDER,
    BULLET,
    INDETERMINATE,
    MAX_LANGUAGE_LENGTH,
    MAX_NAME_LENGTH,
    NO_SCORE,
    SCORE_ONLY,
    SEPARATOR,
    UP_AND_DOWN,
    FormatError,
    age_window,
    parse_age,
    parse_count,
)
from threads.dump.parsed import CURRENT, LEGACY, DumpComment, ParsedDump

# A bullet and anything after it (a display name may end in a NO-BREAK SPACE).
BULLET_LINE_RE = re.compile(r"^( *)• (.+)$")
PERCENT_RE = re.compile(r"^\d{1,3}%$")
AGE_SHAPED_RE = re.compile(r"^(\d+ \S+ ago|in \d+ \S+)$")
COUNT_LIKE_RE = re.compile(r"^-?\d+(?:\.\d+)?[KMBT]?$")

PRE_TOKENS = {"cake", "shield"}
VOTE_TOKENS = {"heart", "smile", "arrow-up", "arrow-down", SEPARATOR, "edit-2"}
KNOWN_TOKENS = PRE_TOKENS | VOTE_TOKENS | {"link", "fedilink"}
CURRENT_VOTE_TOKENS = {"heart", "smile", "arrow-up"}
# What only the current layout's blocks hold, looked for below each ``link``.
CURRENT_LAYOUT_TOKENS = CURRENT_VOTE_TOKENS | {"arrow-down", SEPARATOR}
# How far below a misplaced ``link`` a metadata block must reach its age to
# be one (the longest block has a dozen lines).
METADATA_REACH = 14
BAD_CHARACTERS = (
    ("\t", "tab character; dumps are indented with spaces"),
    ("\r", "carriage return inside a line"),
)


def check_characters(text, source="<dump>"):
    """Refuse tabs and lone carriage returns, naming the line of the first;
    return the text with CRLF line ends made LF."""
    text = text.replace("\r\n", "\n")
    refuse_characters(text, source)
    return text


def refuse_characters(text, source, lines_before=0):
    """Raise ``DumpError`` at the first tab or carriage return in ``text``
    (whose CRLFs are already LF), the first by position, so that a file
    checked a block at a time is refused where it is refused whole."""
    found = [(text.find(character), message) for character, message in BAD_CHARACTERS if character in text]
    if found:
        index, message = min(found)
        raise DumpError(lines_before + text.count("\n", 0, index) + 1, message, source)


def parse_dump(text, source="<dump>", **options):
    """Parse a dump's text; raise ``DumpError`` naming the first bad line.

    ``options`` are those of ``parse_lines``."""
    return parse_lines(check_characters(text, source).split("\n"), source, **options)


def parse_lines(lines, source="<dump>", *, article_only=False, max_article_bytes=None, post_bound=None):
    """Parse a dump given as its lines (chrome already blanked).

    ``article_only`` accepts a file without comment headers even when lines
    in it look like comments; ``max_article_bytes`` caps the article;
    ``post_bound`` is the age range of an unedited post, which no comment of
    an older page can be older than.
    """
    if not any(line.strip() for line in lines):
        raise DumpError(1, "empty file", source)
    parser = PieceParser(source, detect_layout(lines), article_only, max_article_bytes, post_bound)
    article, roots = parser.head(lines)
    warnings = parser.finish(bool(roots))
    return ParsedDump(source, article, roots, warnings, layout=parser.layout)


def _looks_like_age(token):
    return token == INDETERMINATE or bool(AGE_SHAPED_RE.match(token))


def detect_layout(lines):
    """``CURRENT`` when some metadata block has a vote group or its ``·`` (a
    few lines below a ``link``, at its indent), else ``LEGACY``. A current
    page is told at its first comment."""
    for index, line in enumerate(lines):
        if line.endswith("link") and line.strip() == "link":
            indent = len(line) - 4
            for below in lines[index + 1 : index + 10]:
                token = below[indent:]
                if not token or token[0] == " " or below[:indent].strip():
                    break
                if token in CURRENT_LAYOUT_TOKENS:
                    return CURRENT
    return LEGACY


class PieceParser:
    """Parses one dump a piece at a time: its head (the article, and any
    comments in it), then pieces that each start at a top-level comment,
    as ``threads.dump.reader`` streams a large file. Parsing the whole file
    as its head gives the same dump as parsing it piece by piece.

    Lines are numbered in the file: a piece's first line is ``offset + 1``.
    """

    def __init__(self, source, layout, article_only=False, max_article_bytes=None, post_bound=None):
        self.source = source
        self.layout = layout
        self.article_only = article_only
        self.max_article_bytes = max_article_bytes
        self.post_bound = post_bound
        self.warnings = []
        self.warned = set()
        self.hidden_authors = []
        self.ambiguous = []  # legacy: (comment, readings) still ambiguous after settling
        self.head_lines = None
        self.offset = 0

    def load(self, lines, offset, after=None):
        """Take the next piece; ``after`` is the file's line that follows it
        (``None`` at the end), which errors name as a whole read would."""
        self.lines = [line.rstrip(" ") for line in lines]
        self.indents = [len(line) - len(line.lstrip(" ")) for line in self.lines]
        self.offset = offset
        self.after = None if after is None else after.rstrip(" ")
        self.readings = {}  # legacy: id(comment) -> the readings of its glued line

    def fail(self, line, message):
        """Refuse the file at ``line``, counted from the piece's first line (1)."""
        raise DumpError(self.offset + line, message, self.source)

    def number(self, index):
        """The file's line number of the piece's line ``index``."""
        return self.offset + index + 1

    def warn_once(self, key, message):
        if key not in self.warned:
            self.warned.add(key)
            self.warnings.append(f"{self.source}:{message}")

    def head(self, lines, offset=0, after=None):
        """Parse the head of a dump: the article, then any comments before
        the first piece; return ``(article, roots)``."""
        self.load(lines, offset, after)
        self.head_lines = self.lines
        index, article_lines, size = 0, [], 0
        header = None
        while index < len(self.lines):
            header = self.header_at(index)
            if header:
                break
            line = self.lines[index]
            article_lines.append(line)
            if self.max_article_bytes is not None:
                size += len(line) + 1 if line.isascii() else len(line.encode()) + 1
                if size > self.max_article_bytes:
                    self.fail(
                        index + 1, f"the article passes {self.max_article_bytes:,} bytes, the most an import takes"
                    )
            index += 1
        return _trim_blank_lines(article_lines), self.comments_from(index, header)

    def piece(self, lines, offset, after=None):
        """Parse a piece that starts at a top-level comment; return its roots."""
        self.load(lines, offset, after)
        header = self.header_at(0)
        if header is None:  # the reader split where no header starts: its fault, still the file's line
            self.fail(1, "a comment header was expected here")
        return self.comments_from(0, header)

    def comments_from(self, index, header):
        roots, chain = [], []
        while header:
            comment, index, header = self.comment_at(index, header)
            self.attach(comment, roots, chain)
        if self.readings:
            self.settle_legacy_readings(roots)
        return roots

    def finish(self, had_comments):
        """Check the file as a whole once every piece is read; return the warnings."""
        if not had_comments and not self.article_only:
            self.load(self.head_lines, 0)
            self.refuse_comment_shaped_lines()
        if self.ambiguous:
            comment, readings = self.ambiguous[0]
            more = f" (and {len(self.ambiguous) - 1} more such lines)" if len(self.ambiguous) > 1 else ""
            self.warnings.append(
                f"{self.source}:{comment.line}: ambiguous score and age {comment.age!r}: "
                f"{legacy.describe(readings)}; stored with the score unknown{more}"
            )
        if self.hidden_authors:
            first, count = self.hidden_authors[0], len(self.hidden_authors)
            self.warnings.append(
                f"{self.source}:{first}: author shown as {OBFUSCATED_EMAIL!r} (Cloudflare's email obfuscation) on "
                f"{count} comment{'s' if count != 1 else ''}: stored as unknown"
            )
        return self.warnings

    def refuse_comment_shaped_lines(self):
        """A file with no comment header but with lines that look like
        comments is a rendering without comment metadata (another front end,
        flattened text): read as a dump it would silently lose every comment."""
        bullet = age = None
        lines, indents = self.lines, self.indents
        for index, line in enumerate(lines):
            if not line:
                continue
            token = line[indents[index] :]
            if age is None and (_looks_like_age(token) or legacy.looks_glued(token)):
                age = index + 1
            if bullet is None and BULLET_LINE_RE.match(line):
                below = next((i for i in range(index + 1, len(lines)) if lines[i]), None)
                if below is not None and indents[below] > indents[index] and lines[below][indents[below]] != BULLET:
                    bullet = index + 1
            if bullet and age:
                break
        if bullet is None and age is None:
            return
        signs = [f"line {bullet} is a bullet with indented text under it"] if bullet else []
        signs += [f"line {age} an age" if bullet else f"line {age} is an age"] if age else []
        self.fail(
            min(filter(None, (bullet, age))),
            f"no comment header (a bullet followed by link) in the file, yet {' and '.join(signs)}: this looks "
            "like a rendering without comment metadata (import it as article-only if it has no comments)",
        )

    def attach(self, comment, roots, chain):
        """Hang ``comment`` under the nearest shallower header, inserting one
        placeholder per skipped level; placeholders stay in the chain, so
        later orphans at the same depth share them."""
        del chain[comment.depth :]
        while len(chain) < comment.depth:
            placeholder = DumpComment(depth=len(chain), is_placeholder=True)
            (chain[-1].children if chain else roots).append(placeholder)
            chain.append(placeholder)
        (chain[-1].children if chain else roots).append(comment)
        chain.append(comment)

    def header_at(self, index):
        """Return ``(indent, header text)`` when line ``index`` starts a comment.

        A bullet line is a header only when the metadata's ``link`` follows
        (after optional cake, shield and badge lines); otherwise it is text.
        A ``link`` at another indent that goes on into a metadata block is a
        malformed dump, however far off it is.
        """
        match = BULLET_LINE_RE.match(self.lines[index])
        if not match:
            return None
        indent = len(match[1])
        probe = index + 1
        while probe < len(self.lines) and probe - index <= len(PRE_TOKENS) + 2:
            token = self.lines[probe].strip()
            if token == "link" and self.indents[probe] != indent + 2:
                if self.indents[probe] in (indent + 1, indent + 3) or self.metadata_follows(probe):
                    self.fail(
                        probe + 1,
                        f"metadata line 'link' at indent {self.indents[probe]}, expected {indent + 2} "
                        f"under the header on line {self.number(index)}",
                    )
                return None
            if token == "link":
                if indent % 2 or indent < 2:
                    self.fail(
                        index + 1, f"comment header at indent {indent}; headers sit at an even indent of 2 or more"
                    )
                return indent, match[2]
            if not PRE_TOKEN_RE.match(token):
                return None
            probe += 1
        return None

    def metadata_follows(self, link_index):
        """Whether the lines after a ``link`` stay at its indent down to an age."""
        indent = self.indents[link_index]
        for index in range(link_index + 1, min(link_index + METADATA_REACH, len(self.lines))):
            line = self.lines[index]
            if not line or self.indents[index] != indent:
                return False
            token = line[indent:]
            if _looks_like_age(token) or legacy.looks_glued(token):
                return True
        return False

    def comment_at(self, index, header):
        indent, header_text = header
        comment = DumpComment(depth=(indent - 2) // 2, line=self.number(index))
        index, fedilinked = self.read_metadata(index + 1, indent + 2, comment)
        self.read_author(comment, header_text, fedilinked)
        return self.read_body(index, indent + 2, comment)

    def read_author(self, comment, header_text, fedilinked):
        hidden = hidden_author(header_text) if OBFUSCATED_EMAIL in header_text else None
        if hidden:
            comment.author_shown, comment.badges = hidden
            self.hidden_authors.append(comment.line)
            return
        if self.layout == LEGACY:
            name, instance, badges, known = legacy_author(header_text, fedilinked)
        else:
            (name, instance, badges), known = split_header_text(header_text), True
        if not instance and badges:
            self.warn_once(
                header_text, f"{comment.line}: read {header_text!r} as {name!r} with badges {', '.join(badges)}"
            )
        if len(header_text) > MAX_NAME_LENGTH:
            self.fail(comment.line - self.offset, f"an author's name of {len(header_text):,} characters")
        comment.author_name, comment.author_instance, comment.instance_known = name, instance, known
        if comment.badges:  # a badge line below the header adds to the glued ones
            badges = tuple(sorted(set(comment.badges) | set(badges), key=BADGE_ORDER.index))
        comment.badges = badges

    def read_metadata(self, index, indent, comment):
        """Read the metadata block of a header; return the index after the
        age and whether the block had ``fedilink``."""
        expect = _MetadataReader(self, index, indent)
        token = expect.next_token("link")
        while token in PRE_TOKENS:
            comment.is_cake_day |= token == "cake"
            comment.is_distinguished |= token == "shield"
            token = expect.next_token("link")
        if token != "link" and BADGE_LINE_RE.match(token):
            comment.badges = tuple(sorted(set(comment.badges) | set(badges_of(token)), key=BADGE_ORDER.index))
            token = expect.next_token("link")
        if token != "link":
            expect.unexpected(token, "'link'")
        token = expect.next_token("an age")
        fedilinked = token == "fedilink"
        if fedilinked:
            token = expect.next_token("an age")
        if self.layout == LEGACY:
            return self.read_legacy_votes(expect, token, comment), fedilinked
        if token not in KNOWN_TOKENS and not _looks_like_age(token):
            if COUNT_LIKE_RE.match(token):
                expect.unexpected(token, "a language or 'arrow-up' (a bare score is lemmy-ui 0.19.3 or older)")
            self.read_language(expect, token, comment)
            token = expect.next_token("an age")
        voted = token in CURRENT_VOTE_TOKENS
        if token == "heart":
            score = expect.count(comment, signed=True)
            comment.upvotes, comment.downvotes = max(score, 0), max(-score, 0)
            comment.votes_shown = SCORE_ONLY
            expect.separator()
            token = expect.next_token("an age")
        if token == "smile":
            percent = expect.next_token("a percentage")
            if not PERCENT_RE.match(percent):
                expect.unexpected(percent, "a percentage such as 85%")
            expect.separator()
            token = expect.next_token("an age")
        if token == "arrow-up":
            comment.upvotes = expect.count(comment)
            comment.downvotes = 0
            comment.votes_shown = UP_AND_DOWN
            token = expect.next_token("'·'")
            if token == "arrow-down":
                comment.downvotes = expect.count(comment)
                token = expect.next_token("'·'")
            if token != SEPARATOR:
                expect.unexpected(token, "'·' after the vote counts")
            token = expect.next_token("an age")
        elif token == "arrow-down":
            expect.unexpected(token, "'arrow-up' before 'arrow-down'")
        if token == "edit-2":
            comment.edited = True
            token = expect.next_token("an age")
        self.read_age(expect, token)
        if not voted:
            self.fail(
                expect.index,
                "no vote counts in this comment's metadata, though other comments in the file have them: "
                "the file mixes lemmy-ui layouts",
            )
        comment.age = token
        return expect.index, fedilinked

    def read_language(self, expect, token, comment):
        """The line before the votes is the comment's language, whatever its
        name (lemmy-ui shows each in its own language); a longer line than
        any language name is something else out of place."""
        if len(token) > MAX_LANGUAGE_LENGTH:
            self.fail(expect.index, f"a language name of {len(token):,} characters where the language goes")
        comment.language = token

    def read_age(self, expect, token):
        try:
            parse_age(token)
        except FormatError as error:
            if token in KNOWN_TOKENS:
                expect.unexpected(token, "an age")
            if _looks_like_age(token):
                self.fail(expect.index, str(error))
            self.fail(expect.index, f"unknown metadata token {token!r}")

    def read_legacy_votes(self, expect, token, comment):
        """The end of an older page's block: a score glued to the age, or
        ``SCORE / edit-2 / AGE`` for an edited comment."""
        if not (COUNT_LIKE_RE.match(token) or legacy.looks_glued(token) or _looks_like_age(token)):
            if token in CURRENT_LAYOUT_TOKENS:
                self.fail(
                    expect.index,
                    f"unexpected metadata token {token!r}: vote counts of lemmy-ui 0.19.4 and later, though the file's "
                    "first comments have none: the file mixes lemmy-ui layouts",
                )
            if token in KNOWN_TOKENS:
                expect.unexpected(token, "a score glued to an age (lemmy-ui 0.19.3 and older)")
            self.read_language(expect, token, comment)
            token = expect.next_token("a score glued to an age")
        if COUNT_LIKE_RE.match(token):
            try:
                score, approximate = legacy.parse_score(token)
            except FormatError as error:
                self.fail(expect.index, str(error))
            edit = expect.next_token("'edit-2'")
            if edit != "edit-2":
                expect.unexpected(
                    edit, f"'edit-2' after the bare score {token!r} (an unedited comment's score is glued to its age)"
                )
            age = expect.next_token("an age")
            self.read_age(expect, age)
            low, high = age_window(age) or (float("-inf"), float("inf"))
            comment.edited = True
            self.readings[id(comment)] = [legacy.Reading(score, approximate, age, low, high)]
            comment.age = age
            return expect.index
        readings = legacy.glued_readings(token)
        if not readings:
            if _looks_like_age(token):
                self.fail(
                    expect.index,
                    f"age {token!r} without a score: lemmy-ui 0.19.3 and older print the score glued to the age, "
                    "and no score and age that it prints make this line",
                )
            self.fail(expect.index, f"{token!r} is not a score glued to an age that lemmy-ui prints")
        self.readings[id(comment)] = readings
        comment.age = token
        return expect.index

    def settle_legacy_readings(self, roots):
        """Give every older page's comment its score and age, settling the
        lines that cut more than one way by the ages around them."""
        edited = {id(node) for root in roots for node in root.walk() if node.edited}
        legacy.resolve_readings(roots, self.readings, edited, self.post_bound)
        for root in roots:
            for comment in root.walk():
                readings = self.readings.get(id(comment))
                if not readings:
                    continue
                if len(readings) == 1:
                    (reading,) = readings
                    comment.age = reading.age
                    comment.upvotes, comment.downvotes = max(reading.score, 0), max(-reading.score, 0)
                    comment.counts_approximate = reading.approximate
                    comment.votes_shown = SCORE_ONLY
                    continue
                self.ambiguous.append((comment, readings))
                comment.votes_shown = NO_SCORE
                comment.age_span = (min(r.low for r in readings), max(r.high for r in readings))

    def read_body(self, index, indent, comment):
        """Collect body lines until the next header; return the comment, the
        next header's index and that header (None at the end)."""
        body, header = [], None
        lines, indents = self.lines, self.indents
        while index < len(lines):
            line = lines[index]
            if line:
                if line[indents[index]] == BULLET:
                    header = self.header_at(index)
                    if header:
                        break
                if indents[index] < indent:
                    self.fail(
                        index + 1,
                        f"text at indent {indents[index]} inside the comment of line {comment.line}, "
                        f"whose body is at indent {indent}",
                    )
                body.append(line[indent:])
            else:
                body.append("")
            index += 1
        comment.body = _trim_blank_lines(body)
        return comment, index, header


class _MetadataReader:
    """Reads one metadata token per line at a fixed indent, with errors that
    say what was expected where."""

    def __init__(self, parser, index, indent):
        self.parser = parser
        self.index = index
        self.indent = indent

    def next_token(self, expected):
        index, parser = self.index, self.parser
        if index < len(parser.lines) and parser.indents[index] == self.indent and parser.lines[index]:
            self.index = index + 1
            return parser.lines[index][self.indent :]
        line = parser.lines[index] if index < len(parser.lines) else parser.after
        if line is None:
            parser.fail(index, f"metadata ends early: the file stops where {expected} was expected")
        if not line.strip():
            parser.fail(index + 1, f"metadata ends early: blank line where {expected} was expected")
        parser.fail(index + 1, f"metadata line at indent {len(line) - len(line.lstrip(' '))}, expected {self.indent}")

    def count(self, comment, signed=False):
        token = self.next_token("a count")
        negative = signed and token.startswith("-")
        try:
            value, approximate = parse_count(token[1:] if negative else token)
        except FormatError as error:
            self.parser.fail(self.index, str(error))
        comment.counts_approximate |= approximate
        return -value if negative else value

    def separator(self):
        token = self.next_token("'·'")
        if token != SEPARATOR:
            self.unexpected(token, "'·'")

    def unexpected(self, token, expected):
        self.parser.fail(self.index, f"unexpected metadata token {token!r}, expected {expected}")


def _trim_blank_lines(lines):
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])
