"""Read a dump file the way it was captured, in the order its damage came.

A page may have been decoded through the wrong code page, wrapped in a
mirror site's title line, captured with the site's navbar and sidebar, or
cut from a search excerpt; only then come its article and comments. Each of
those is undone by one function of ``threads.dump.mojibake`` or
``threads.dump.page`` before ``threads.dump.parser`` reads the grammar, and
every line number in an error is still a line of the file as given.

``read_dump`` reads a dump whole. ``read_dump_file`` streams a file one
top-level comment (with its replies) at a time, so that a dump of a million
comments is never in memory at once; files it cannot stream (older
lemmy-ui, mojibake, a page without comments) it reads whole instead. Both
give the same dump (``tests/test_dump_streaming.py``).
"""

import codecs
import itertools
from pathlib import Path

from threads.dump.authors import PRE_TOKEN_RE
from threads.dump.errors import DumpError
from threads.dump.formats import BULLET, SEPARATOR, age_window
from threads.dump.mojibake import repair_mojibake
from threads.dump.page import (
    looks_like_full_page,
    name_community,
    restore_first_indent,
    sidebar_after_comments,
    strip_full_page,
    strip_page_top,
    strip_wrapper_line,
)
from threads.dump.parsed import CURRENT, ParsedDump
from threads.dump.parser import (
    BULLET_LINE_RE,
    PieceParser,
    check_characters,
    detect_layout,
    parse_lines,
    refuse_characters,
)

TOP_LEVEL_LINK = "    link"
INTACT_SEPARATOR = f"    {SEPARATOR}"
BLOCK_BYTES = 1 << 20


def decode_dump(data, source="<dump>"):
    """Decode a dump's bytes as UTF-8, naming the line of the first bad byte
    or of a tab or carriage return before it: the first fault by position
    is the one a streamed read, a block at a time, meets first."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8").replace("\r\n", "\n")
        refuse_characters(before.removesuffix("\r"), source)
        raise not_utf8(data, error.start, source) from None


def not_utf8(data, start, source, lines_before=0, bytes_before=0):
    """The ``DumpError`` for the bad byte at ``start`` of ``data``, which
    follows ``lines_before`` lines and ``bytes_before`` bytes of the file."""
    line = lines_before + data.count(b"\n", 0, start) + 1
    return DumpError(line, f"bytes that are not UTF-8 (byte {bytes_before + start}: {data[start]:#04x})", source)


def read_dump(data, source="<dump>", *, article_only=False, max_article_bytes=None):
    """Return the ``ParsedDump`` of a file's bytes or text.

    ``ParsedDump.post`` holds what a full page or a title line said about
    the post, and ``warnings`` what was repaired or guessed on the way.
    Raises ``DumpError`` for a file that cannot be read whole.
    """
    text = decode_dump(data, source) if isinstance(data, bytes) else data
    text, repaired = repair_mojibake(check_characters(text, source), source)
    lines = text.split("\n")
    lines, post = strip_wrapper_line(lines)
    if looks_like_full_page(lines):
        lines, post = strip_full_page(lines, source)
    lines, restored = restore_first_indent(lines)
    bound = None
    if post is not None and post.age and not post.edited:
        bound = age_window(post.age)
    dump = parse_lines(lines, source, article_only=article_only, max_article_bytes=max_article_bytes, post_bound=bound)
    dump.post = post
    notices = [f"{source}: {repaired}"] if repaired else []
    notices += [f"{source}:1: {restored}"] if restored else []
    dump.warnings[:0] = notices
    return dump


def read_dump_file(path, source=None, *, article_only=False, max_article_bytes=None):
    """Return a ``StreamedDump`` of the file at ``path``."""
    return StreamedDump(Path(path), source or str(path), article_only, max_article_bytes)


class StreamedDump:
    """A dump read from its file one top-level comment at a time.

    ``article`` and ``layout`` are known at once; ``roots()`` yields the
    top-level comments with their replies, and ``post`` and ``warnings``
    are complete once it has run out (a full page's community is in its
    sidebar, after the comments). ``materialize()`` reads what is left and
    returns the whole ``ParsedDump``, as a merge into a stored thread needs.
    """

    def __init__(self, path, source, article_only, max_article_bytes):
        self.path = path
        self.source = source
        self.size = path.stat().st_size
        # Bytes and characters read from the file, and characters parsed: how
        # far the import has come, for its progress display.
        self.read_bytes = self.read_chars = self.parsed_chars = 0
        self.article_only = article_only
        self.max_article_bytes = max_article_bytes
        self._file = path.open("rb")
        self._pieces = _pieces(self._line_blocks())
        _, head, head_after = next(self._pieces)
        self._first = next(self._pieces, None)
        probe = head + (self._first[1] if self._first else [])
        # A search excerpt whose first line lost its indent may have lost it
        # everywhere, which only a whole read can tell.
        excerpt = bool(head) and head[0].startswith(f"{BULLET} ")
        streamable = (
            self._first is not None and not excerpt and detect_layout(probe) == CURRENT and INTACT_SEPARATOR in probe
        )
        self._whole = None if streamable else self._read_whole()
        if self._whole is not None:
            self.article, self.post, self.layout = self._whole.article, self._whole.post, self._whole.layout
            self.warnings = self._whole.warnings
            return
        self.layout, self.warnings, self._community = CURRENT, [], None
        lines, self.post = strip_wrapper_line(head)
        self._full_page = looks_like_full_page(lines)
        if self._full_page:
            lines, self.post, _ = strip_page_top(lines, source)
        lines, restored = restore_first_indent(lines)
        if restored:
            self.warnings.append(f"{source}:1: {restored}")
        bound = age_window(self.post.age) if self.post is not None and self.post.age and not self.post.edited else None
        self._parser = PieceParser(source, CURRENT, article_only, max_article_bytes, bound)
        self.article, self._head_roots = self._parser.head(lines, after=head_after)

    def _read_whole(self):
        self._file.close()
        return read_dump(
            self.path.read_bytes(),
            self.source,
            article_only=self.article_only,
            max_article_bytes=self.max_article_bytes,
        )

    def _line_blocks(self):
        """The file's lines a block at a time, decoded and checked as
        ``read_dump`` checks its text: decoding and splitting a megabyte at a
        time costs a tenth of doing it line by line. The lists joined are
        the whole text split at its line ends."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        pending, lines_before = "", 0
        while True:
            block = self._file.read(BLOCK_BYTES)
            held, _ = decoder.getstate()  # the start of a character the last block cut
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as error:
                data = held + block
                before = (pending + data[: error.start].decode("utf-8")).replace("\r\n", "\n")
                refuse_characters(before.removesuffix("\r"), self.source, lines_before)
                raise not_utf8(data, error.start, self.source, lines_before, self.read_bytes - len(held)) from None
            if not self.read_bytes:
                text = text.removeprefix("\ufeff")
            self.read_bytes += len(block)
            self.read_chars += len(text)
            text = pending + text
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            # A carriage return ending a block may be the first half of a CRLF.
            refuse_characters(text[:-1] if block and text.endswith("\r") else text, self.source, lines_before)
            if not block:
                yield [text]
                return
            lines = text.split("\n")
            pending = lines.pop()
            lines_before += len(lines)
            yield lines

    def roots(self):
        """Yield the top-level comments, each with its replies, in dump order."""
        if self._whole is not None:
            yield from self._whole.comments
            return
        try:
            had_comments = bool(self._head_roots)
            yield from self._head_roots
            for offset, lines, after in itertools.chain([self._first], self._pieces):
                sidebar = sidebar_after_comments(lines, 0, self.source, offset + 1) if self._full_page else None
                if sidebar is not None:  # read whole, the sidebar is blanked
                    self._community, lines, after = lines[sidebar], lines[:sidebar], ""
                roots = self._parser.piece(lines, offset, after)
                self.parsed_chars += sum(map(len, lines)) + len(lines)
                had_comments = had_comments or bool(roots)
                yield from roots
                if sidebar is not None:
                    break
            self.warnings += self._parser.finish(had_comments)
            if self._full_page:
                name_community(self.post, self._community, self.source)
        finally:
            self._file.close()

    def materialize(self):
        comments = list(self.roots())
        return ParsedDump(self.source, self.article, comments, self.warnings, post=self.post, layout=self.layout)

    def expected_comments(self, done):
        """An estimate of the comments in the file, from how much of it is parsed."""
        if self._whole is not None:
            return self._whole.expected_comments(done)
        if not self.parsed_chars:
            return max(done, 1)
        parsed_bytes = self.parsed_chars * self.read_bytes / self.read_chars
        return max(done, round(done * self.size / parsed_bytes))


def _pieces(blocks):
    """Yield ``(offset, lines, after)``: the head (everything before the
    first top-level comment), then each top-level comment with its replies,
    split where the parser starts a top-level comment: a bullet at indent 2
    whose ``link`` follows two spaces in. ``after`` is the line after the
    piece, the next one's header (``None`` for the last). ``blocks`` yields
    the file's lines a list at a time; a piece's lines are copied out of
    them once."""
    current, begin, offset, searched = [], 0, 0, 0
    head_yielded = False  # the head comes first, even when empty
    for lines in blocks:
        if begin:
            current, searched = current[begin:], searched - begin
            begin = 0
        current.extend(lines)
        while True:
            try:
                link = current.index(TOP_LEVEL_LINK, searched)
            except ValueError:
                searched = len(current)  # the next link is in the next block
                break
            searched = link + 1
            start = _top_level_header_before(current, link)
            if start is not None and (start > begin or not head_yielded):
                yield offset, current[begin:start], current[start]
                offset += start - begin
                begin, head_yielded = start, True
    yield offset, current[begin:], None


def _top_level_header_before(lines, link):
    """The index of the top-level header the ``link`` line at ``link``
    closes (0 included), or ``None``."""
    for index in range(link - 1, max(link - 5, -1), -1):
        line = lines[index].rstrip(" ")
        bullet = BULLET_LINE_RE.match(line)
        if bullet:
            return index if len(bullet[1]) == 2 else None
        if not (line.startswith("    ") and PRE_TOKEN_RE.match(line[4:])):
            return None
    return None
