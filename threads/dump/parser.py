"""Parse the text of a Lemmy post page into its article and comment tree.

A pure function of the text (no Django), following the grammar in
``notes/dump-format.md``. The hard part is that a comment body's list items
and a reply's header look the same (``• text`` at the same indentation):
only the metadata block after a real header (``link`` at the next indent,
ending in an age) tells them apart, so a bullet followed by ``link`` whose
metadata then fails is refused, never read as text.
"""

import re
from dataclasses import dataclass, field

from threads.dump.formats import (
    BADGE_NAMES,
    BADGE_ORDER,
    BULLET,
    INDETERMINATE,
    SEPARATOR,
    STATUS_OF_TEXT,
    FormatError,
    parse_age,
    parse_count,
)

BULLET_LINE_RE = re.compile(r"^( *)• (.*\S)$")
BADGE_LINE_RE = re.compile(r"^(?=.)(OP)?(M)?(A)?(B)?$")
HOST_AND_BADGES_RE = re.compile(r"^([a-z0-9-]+(?:\.[a-z0-9-]+)+)((?:OP)?M?A?B?)$")
LOCAL_BADGES_RE = re.compile(r"^(.*[^A-Z])((?:OP)?M?A?B?)$")
PERCENT_RE = re.compile(r"^\d{1,3}%$")
AGE_SHAPED_RE = re.compile(r"^(\d+ \S+ ago|in \d+ \S+)$")
FULL_PAGE_HEADER_RE = re.compile(r"^\S.* to \S+@\S+ · \d+ \w+ ago$")

PRE_TOKENS = {"cake", "shield"}
VOTE_TOKENS = {"heart", "smile", "arrow-up", "arrow-down", SEPARATOR, "edit-2"}
KNOWN_TOKENS = PRE_TOKENS | VOTE_TOKENS | {"link", "fedilink"}
FULL_PAGE_MARKERS = {"Create Post", "Support Lemmy", "message-square"}


class DumpError(ValueError):
    """A dump that does not follow the format, with the line that breaks it."""

    def __init__(self, line, message, source="<dump>"):
        super().__init__(message)
        self.line = line
        self.message = message
        self.source = source

    def __str__(self):
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(slots=True)
class DumpComment:
    """One comment of a dump, or a placeholder for a parent the dump skipped.

    Slotted: a large dump holds a hundred thousand of them, and slots make
    each smaller, quicker to read and quicker to free."""

    depth: int
    line: int = 0
    is_placeholder: bool = False
    author_name: str = ""
    author_instance: str = ""
    badges: tuple = ()
    is_cake_day: bool = False
    is_distinguished: bool = False
    language: str = ""
    upvotes: int = 0
    downvotes: int = 0
    counts_approximate: bool = False
    edited: bool = False
    age: str = INDETERMINATE
    body: str = ""
    children: list = field(default_factory=list)

    @property
    def status(self):
        return STATUS_OF_TEXT.get(self.body.strip(), "normal") if not self.is_placeholder else "normal"

    @property
    def is_bot(self):
        return "bot" in self.badges

    def walk(self):
        """Yield this comment and its descendants in dump (pre-)order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


@dataclass
class ParsedDump:
    source: str
    article: str
    comments: list
    warnings: list = field(default_factory=list)

    def walk(self):
        for root in self.comments:
            yield from root.walk()

    def real_comments(self):
        return [node for node in self.walk() if not node.is_placeholder]


def parse_dump(text, source="<dump>"):
    """Parse a dump's text; raise ``DumpError`` naming the first bad line."""
    return _Parser(text, source).parse()


def split_header_text(text):
    """Split ``name@hostBADGES`` into ``(name, host, badges)``.

    Split at the last ``@``: display names may contain ``@`` and spaces but a
    host is lowercase, so an upper-case tail after it can only be badges.
    Without a host the tail is stripped only after a non-capital, so a name
    such as ``TeamDE`` keeps its letters.
    """
    name, at, rest = text.rpartition("@")
    if at and name:
        match = HOST_AND_BADGES_RE.match(rest)
        if match:
            return name, match[1], _badges(match[2])
    match = LOCAL_BADGES_RE.match(text)
    if match and match[2]:
        return match[1], "", _badges(match[2])
    return text, "", ()


def _badges(letters):
    match = BADGE_LINE_RE.match(letters) if letters else None
    if not match:
        return ()
    return tuple(BADGE_NAMES[group] for group in match.groups() if group)


class _Parser:
    def __init__(self, text, source):
        self.source = source
        self.warnings = []
        self.warned = set()
        if "\t" in text:
            self.fail(text[: text.index("\t")].count("\n") + 1, "tab character; dumps are indented with spaces")
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            self.fail(text[: text.index("\r")].count("\n") + 1, "carriage return inside a line")
        self.lines = [line.rstrip(" ") for line in text.split("\n")]
        self.indents = [len(line) - len(line.lstrip(" ")) for line in self.lines]

    def fail(self, line, message):
        raise DumpError(line, message, self.source)

    def parse(self):
        if not any(line.strip() for line in self.lines):
            self.fail(1, "empty file")
        index, article_lines = 0, []
        while index < len(self.lines):
            header = self.header_at(index)
            if header:
                break
            article_lines.append(self.lines[index])
            index += 1
        self.refuse_full_page(article_lines)
        roots, chain = [], []
        while header:
            comment, index, header = self.comment_at(index, header)
            self.attach(comment, roots, chain)
        return ParsedDump(self.source, _trim_blank_lines(article_lines), roots, self.warnings)

    def refuse_full_page(self, article_lines):
        for number, line in enumerate(article_lines, start=1):
            if line in FULL_PAGE_MARKERS or FULL_PAGE_HEADER_RE.match(line):
                self.fail(
                    number,
                    f"{line!r} looks like a full Lemmy page (navigation or post header); "
                    "a dump holds only the post body and the comments",
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

    def indent_of(self, index):
        return self.indents[index]

    def token_at(self, index, indent):
        """The metadata token on line ``index`` if it sits at ``indent``, else None."""
        if index >= len(self.lines):
            return None
        line = self.lines[index]
        if not line or self.indents[index] != indent:
            return None
        return line[indent:]

    def header_at(self, index):
        """Return ``(indent, header text)`` when line ``index`` starts a comment.

        A bullet line is a header only when the metadata's ``link`` follows
        (after optional cake, shield and badge lines); otherwise it is text.
        """
        match = BULLET_LINE_RE.match(self.lines[index])
        if not match:
            return None
        indent = len(match[1])
        probe = index + 1
        while probe < len(self.lines) and probe - index <= len(PRE_TOKENS) + 2:
            line = self.lines[probe]
            token = line.strip()
            if token == "link" and self.indent_of(probe) != indent + 2:
                if self.indent_of(probe) in (indent + 1, indent + 3):
                    self.fail(
                        probe + 1,
                        f"metadata line 'link' at indent {self.indent_of(probe)}, expected {indent + 2} "
                        f"under the header on line {index + 1}",
                    )
                return None
            if token == "link":
                if indent % 2 or indent < 2:
                    self.fail(
                        index + 1, f"comment header at indent {indent}; headers sit at an even indent of 2 or more"
                    )
                return indent, match[2]
            if self.indent_of(probe) != indent + 2 or not (token in PRE_TOKENS or BADGE_LINE_RE.match(token)):
                return None
            probe += 1
        return None

    def comment_at(self, index, header):
        indent, header_text = header
        name, instance, badges = split_header_text(header_text)
        if not instance and badges and header_text not in self.warned:
            self.warned.add(header_text)
            self.warnings.append(
                f"{self.source}:{index + 1}: read {header_text!r} as {name!r} with badges {', '.join(badges)}"
            )
        comment = DumpComment(
            depth=(indent - 2) // 2, line=index + 1, author_name=name, author_instance=instance, badges=badges
        )
        index = self.read_metadata(index + 1, indent + 2, comment)
        return self.read_body(index, indent + 2, comment)

    def read_metadata(self, index, indent, comment):
        """Read the metadata block of a header; return the index after the age."""
        expect = _MetadataReader(self, index, indent)
        token = expect.next_token("link")
        while token in PRE_TOKENS:
            comment.is_cake_day |= token == "cake"
            comment.is_distinguished |= token == "shield"
            token = expect.next_token("link")
        if token != "link" and BADGE_LINE_RE.match(token):
            comment.badges = tuple(sorted(set(comment.badges) | set(_badges(token)), key=BADGE_ORDER.index))
            token = expect.next_token("link")
        if token != "link":
            expect.unexpected(token, "'link'")
        token = expect.next_token("an age")
        if token == "fedilink":
            token = expect.next_token("an age")
        if token not in KNOWN_TOKENS and not _looks_like_age(token):
            if COUNT_LIKE_RE.match(token):
                expect.unexpected(token, "a language or 'arrow-up' (a bare score is lemmy-ui 0.19.3 or older)")
            comment.language = token
            token = expect.next_token("an age")
        if token == "heart":
            score = expect.count(comment, signed=True)
            comment.upvotes, comment.downvotes = max(score, 0), max(-score, 0)
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
        try:
            parse_age(token)
        except FormatError as error:
            if token in KNOWN_TOKENS:
                expect.unexpected(token, "an age")
            if _looks_like_age(token):
                self.fail(expect.index, str(error))
            self.fail(expect.index, f"unknown metadata token {token!r}")
        comment.age = token
        return expect.index

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


COUNT_LIKE_RE = re.compile(r"^-?\d+(?:\.\d+)?[KMBT]?$")


def _looks_like_age(token):
    return token == INDETERMINATE or bool(AGE_SHAPED_RE.match(token))


class _MetadataReader:
    """Reads one metadata token per line at a fixed indent, with errors that
    say what was expected where."""

    def __init__(self, parser, index, indent):
        self.parser = parser
        self.index = index
        self.indent = indent

    def next_token(self, expected):
        index, lines = self.index, self.parser.lines
        if index < len(lines) and self.parser.indents[index] == self.indent and lines[index]:
            self.index = index + 1
            return lines[index][self.indent :]
        token = self.parser.token_at(self.index, self.indent)
        if token is None:
            if self.index >= len(self.parser.lines):
                self.parser.fail(self.index, f"metadata ends early: the file stops where {expected} was expected")
            line = self.parser.lines[self.index]
            if not line.strip():
                self.parser.fail(self.index + 1, f"metadata ends early: blank line where {expected} was expected")
            self.parser.fail(
                self.index + 1,
                f"metadata line at indent {self.parser.indent_of(self.index)}, expected {self.indent}",
            )
        self.index += 1
        return token

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
