"""Write a parsed dump back as text, in the layout lemmy-ui's page produces.

The inverse of ``threads.dump.parser`` for pages of lemmy-ui 0.19.4 and
later: ``write_dump(parse_dump(text))`` gives ``text`` back line for line,
which is what lets the exporter reproduce an imported dump. Older layouts
are written in this one, with a score-only comment's score as its upvotes
or downvotes.
"""

from threads.dump.formats import BADGE_LETTERS, BADGE_ORDER, BULLET, SEPARATOR, format_count


def write_dump(dump):
    """Return the dump's text, ending with a newline."""
    return "\n".join(dump_lines(dump.article, (comment for root in dump.comments for comment in root.walk()))) + "\n"


def dump_lines(article, comments):
    """Yield a dump's lines: the article, then ``comments`` in dump order,
    each written at its own ``depth`` (placeholders are not written: a
    depth gap stands for them). One comment at a time, so a generator of
    comments writes any size of dump in little memory."""
    last = None
    if article:
        for last in article.split("\n"):
            yield last
    for comment in comments:
        if comment.is_placeholder:
            continue
        if last is not None and not _ends_with_list_item(last):
            yield ""
        for last in comment_lines(comment):
            yield last


def comment_lines(comment):
    """The header, metadata and body lines of one comment, indented for its depth."""
    indent = " " * (2 * (comment.depth + 1))
    inner = indent + "  "
    badges = "".join(BADGE_LETTERS[badge] for badge in BADGE_ORDER if badge in comment.badges)
    on_own_line = comment.is_cake_day or comment.is_distinguished
    if comment.author_known:
        author = comment.author_name + (f"@{comment.author_instance}" if comment.author_instance else "")
    else:
        author = comment.author_shown
    lines = [f"{indent}{BULLET} {author}{'' if on_own_line else badges}"]
    meta = []
    if comment.is_cake_day:
        meta.append("cake")
    if comment.is_distinguished:
        meta.append("shield")
    if on_own_line and badges:
        meta.append(badges)
    meta += ["link", "fedilink"]
    if comment.language:
        meta.append(comment.language)
    meta += ["arrow-up", format_count(comment.upvotes)]
    if comment.downvotes > 0:
        meta += ["arrow-down", format_count(comment.downvotes)]
    meta.append(SEPARATOR)
    if comment.edited:
        meta.append("edit-2")
    meta.append(comment.age)
    lines += [inner + token for token in meta]
    lines.append("")
    lines += [inner + line if line else "" for line in comment.body.split("\n")]
    return lines


def _ends_with_list_item(line):
    """A list closes without a blank line in lemmy-ui's text, so the next
    header follows a list item directly."""
    return line.lstrip(" ").startswith(BULLET + " ")
