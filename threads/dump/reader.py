"""Read a dump file the way it was captured, in the order its damage came.

A page may have been decoded through the wrong code page, wrapped in a
mirror site's title line, captured with the site's navbar and sidebar, or
cut from a search excerpt; only then come its article and comments. Each of
those is undone by one function of ``threads.dump.mojibake`` or
``threads.dump.page`` before ``threads.dump.parser`` reads the grammar, and
every line number in an error is still a line of the file as given.
"""

from threads.dump.errors import DumpError
from threads.dump.formats import age_window
from threads.dump.mojibake import repair_mojibake
from threads.dump.page import looks_like_full_page, restore_first_indent, strip_full_page, strip_wrapper_line
from threads.dump.parser import check_characters, parse_lines


def decode_dump(data, source="<dump>"):
    """Decode a dump's bytes as UTF-8, naming the line of the first bad byte."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        message = f"bytes that are not UTF-8 (byte {error.start}: {data[error.start]:#04x})"
        raise DumpError(line, message, source) from None


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
