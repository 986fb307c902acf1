"""Turn comment text into safe HTML, once, when a comment is written or imported.

Pages show the stored HTML as it is, so this module is the only place where
text becomes markup, and everything it does not deliberately build is escaped.
Imported text is as hostile as a reply typed into our form: Lemmy's worst
incident (July 2023) was a stored XSS carried by federated comments.

Two inputs reach it:
- members' replies are Markdown: markdown-it renders them with raw HTML off,
  and nh3 then keeps only an allowlist of tags, attributes and link schemes;
- imported comments and articles are the plain text of Lemmy's page-to-text
  converter (docs/dump-format.md): paragraphs, "• " lists, blank lines.

The exporter needs the reverse of the converter for our own members' replies,
so ``html_to_dump_text`` writes that plain text back from the stored HTML.
"""

import re
from html import escape
from html.parser import HTMLParser

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

LINK_REL = "nofollow ugc noopener"
MAX_URL_LENGTH = 2048

# linkify-it keeps closing typographic quotes and an ellipsis in a URL
# ("“https://example.org/”" would link to ".../%E2%80%9D"); they, and any
# ASCII punctuation they exposed, belong to the sentence instead.
_URL_TRAILERS = "”’»›….,:;!?"

_LINK_SCHEME = re.compile(r"(?:https?|mailto):", re.IGNORECASE)
# Where a bare URL may start in dump text: http(s) only, not inside a word.
_DUMP_URL_START = re.compile(r"(?<![a-z0-9.+-])https?://", re.IGNORECASE)


def _needs_reader(text):
    """Whether ``text`` has anything only the full reader handles: bullets,
    indentation, spacing to preserve, trailing blanks, tabs or other line
    ends. Substring tests, because a regex scan of every body cost an import
    of 100,000 comments 1.5 s."""
    return (
        "•" in text
        or "  " in text
        or "\n " in text
        or " \n" in text
        or "\t" in text
        or "\f" in text
        or "\r" in text
        or text[:1] == " "
        or text[-1:] == " "
    )


# Whitespace that HTML collapses outside <pre>.
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
# A line that collapsing would change must go in a <pre> to survive.
_PREFORMATTED = re.compile(r"^ |  |[\t\f]")


def _trim_url(found):
    cut = len(found.raw) - len(found.raw.rstrip(_URL_TRAILERS))
    if cut:
        found.last_index -= cut
        found.raw, found.text, found.url = (
            found.raw[:-cut],
            found.text[:-cut],
            found.url[:-cut],
        )
    return found


class _Linkify(LinkifyIt):
    """linkify-it with closing quotes left outside links, and a length limit.

    linkify-it checks every "scheme:" in a text against all the text after
    it: quadratic, 8.5 s on a hostile 70 KB line. Checking a window of
    MAX_URL_LENGTH keeps it linear; a longer URL stays plain text. Guessing
    bare domains ("example.org") is off because that scan is quadratic too
    (6 s on 35 KB), so only URLs with a scheme become links.
    """

    def __init__(self):
        super().__init__(options={"fuzzy_link": False, "fuzzy_email": False})

    def test_schema_at(self, text, name, position):
        start = max(position - 3, 0)  # validators look back at most 3 characters
        window = text[start : position + MAX_URL_LENGTH]
        length = super().test_schema_at(window, name, position - start)
        return length if length < MAX_URL_LENGTH else 0

    def match(self, text):
        matches = super().match(text)
        return matches and [_trim_url(found) for found in matches]

    def match_at_start(self, text):
        found = super().match_at_start(text)
        return found and _trim_url(found)


def _is_allowed_link(url):
    return _LINK_SCHEME.match(url) is not None


def _render_heading_open(renderer, tokens, idx, options, env):
    return "<p><strong>"


def _render_heading_close(renderer, tokens, idx, options, env):
    return "</strong></p>\n"


def _render_link(renderer, tokens, idx, options, env):
    env["link_depth"] = env.get("link_depth", 0) + tokens[idx].nesting
    return renderer.renderToken(tokens, idx, options, env)


def _render_image(renderer, tokens, idx, options, env):
    token = tokens[idx]
    alt = escape(renderer.renderInlineAsText(token.children, options, env))
    if env.get("link_depth"):
        # An anchor inside an anchor would be split apart by the sanitiser.
        return alt
    src = escape(token.attrGet("src"))
    return f'<a href="{src}">{alt or src}</a>'


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(["linkify", "strikethrough"])
_MARKDOWN.linkify = _LINKIFY = _Linkify()
# Refusing a destination makes markdown-it show the Markdown source as text.
_MARKDOWN.validateLink = _is_allowed_link
# A comment is not a document: headings become bold paragraphs.
_MARKDOWN.add_render_rule("heading_open", _render_heading_open)
_MARKDOWN.add_render_rule("heading_close", _render_heading_close)
_MARKDOWN.add_render_rule("s_open", lambda *args: "<del>")
_MARKDOWN.add_render_rule("s_close", lambda *args: "</del>")
_MARKDOWN.add_render_rule("link_open", _render_link)
_MARKDOWN.add_render_rule("link_close", _render_link)
_MARKDOWN.add_render_rule("image", _render_image)

_CLEANER = nh3.Cleaner(
    tags={"p", "br", "em", "strong", "del", "a", "blockquote", "code", "pre", "ul", "ol", "li", "hr"},
    # "*" must be given: left out, nh3 keeps its defaults, lang and title.
    attributes={"*": set(), "a": {"href"}, "ol": {"start"}},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel=LINK_REL,
)


def render_markdown(text: str) -> str:
    """Render a member's Markdown reply as sanitised HTML.

    Raw HTML in the text is shown as text. Links survive only with an http,
    https or mailto target and carry rel="nofollow ugc noopener"; other
    targets leave the Markdown source visible. Bare URLs with a scheme are
    linked, bare domains are not. Images are shown as a link to the picture
    (its alt text, or its address), headings as bold paragraphs.
    """
    return _CLEANER.clean(_MARKDOWN.render(text))


def _render_line(line):
    if "://" not in line:
        return escape(line)
    out, position = [], 0
    for candidate in _DUMP_URL_START.finditer(line):
        start = candidate.start()
        if start < position:
            continue
        # As markdown-it's inline linkify rule does: linkify-it validates from the scheme.
        found = _LINKIFY.match_at_start(line[start : candidate.end() + MAX_URL_LENGTH])
        if found:
            out.append(escape(line[position:start]))
            out.append(f'<a href="{escape(found.url)}" rel="{LINK_REL}">{escape(found.raw)}</a>')
            position = start + found.last_index
    out.append(escape(line[position:]))
    return "".join(out)


class _Run:
    """Consecutive non-blank lines: a paragraph, or the text of a list item.

    Item text stays bare unless a blank line set it apart from the item's
    earlier text (``block``); lines whose spacing HTML would collapse keep
    it in a <pre>.
    """

    def __init__(self, line, block):
        self.lines = [line]
        self.block = block

    def html(self):
        if any(_PREFORMATTED.search(line) for line in self.lines):
            return "<pre>" + "\n".join(map(_render_line, self.lines)) + "</pre>"
        inner = "<br>".join(map(_render_line, self.lines))
        return f"<p>{inner}</p>" if self.block else inner


class _DumpTextReader:
    """Read converter text line by line into HTML pieces, without recursion.

    A list starts at its first bullet's indent (0 in a comment body, 2 in an
    article); a deeper bullet opens a nested list, and a line indented two
    past a bullet continues that item, after a blank line as a new paragraph.
    A list ends at a less indented line, blank line or not. A bullet right
    under a paragraph line stays in the paragraph: the converter puts a blank
    line before every list, so only a line break can produce that shape.
    """

    def __init__(self):
        self.out = []  # HTML strings and _Runs still open to more lines
        self.lists = []  # bullet indents of the open lists, outermost first
        self.run = None  # the _Run the next line may continue
        self.blank_lines = 0

    def html(self):
        self.close_lists()
        return "".join(p if isinstance(p, str) else p.html() for p in self.out)

    def read(self, line):
        if not line:
            self.blank_lines += 1
            return
        indent = len(line) - len(line.lstrip(" "))
        rest = line[indent:]
        bullet = rest[2:] if rest.startswith("• ") else "" if rest == "•" else None
        blank_lines, self.blank_lines = self.blank_lines, 0
        if blank_lines == 1 and bullet is None and self.in_item(indent):
            self.continue_item(line, indent, block=True)
            return
        if blank_lines:
            self.close_lists()
            self.run = None
            if blank_lines > 1 and self.out:
                self.start_block("<hr>")
        if bullet is not None and (self.lists or self.run is None):
            self.add_item(bullet, indent)
        elif self.in_item(indent):
            self.continue_item(line, indent, block=False)
        elif self.run is not None and not self.lists:
            self.run.lines.append(line)
        else:
            self.close_lists()
            self.run = _Run(line, block=True)
            self.start_block(self.run)

    def in_item(self, indent):
        return bool(self.lists) and indent >= self.lists[0] + 2

    def start_block(self, piece):
        if self.out:
            self.out.append("\n")
        self.out.append(piece)

    def close_lists(self, indent=-1):
        """Close the lists whose bullets sit deeper than indent (all by default)."""
        while self.lists and self.lists[-1] > indent:
            self.lists.pop()
            self.out.append("</li></ul>")

    def add_item(self, text, indent):
        self.close_lists(indent)
        if self.lists and self.lists[-1] == indent:
            self.out.append("</li><li>")
        else:
            if self.lists:
                self.out.append("<ul><li>")
            else:
                self.start_block("<ul><li>")
            self.lists.append(indent)
        self.run = _Run(text, block=False)
        self.out.append(self.run)

    def continue_item(self, line, indent, block):
        depth = len(self.lists)
        self.close_lists(indent - 2)
        content = line[self.lists[-1] + 2 :]
        if block or len(self.lists) < depth:
            self.run = _Run(content, block)
            self.out.append(self.run)
        else:
            self.run.lines.append(content)


def render_dump_text(text: str) -> str:
    """Render text from Lemmy's page-to-text converter as safe HTML.

    Blank-line separated paragraphs become <p> (their lines joined by <br>),
    "• " lines become nested <ul> lists, two blank lines become <hr>, and
    bare http(s) URLs become links with rel="nofollow ugc noopener". A
    paragraph whose spacing HTML would collapse (indented code) becomes a
    <pre>. Everything else is escaped text, kept character for character
    (no-break spaces and typographic quotes included).
    """
    if _needs_reader(text):
        return _read_dump_text(text)
    return _plain_paragraphs_html(text)


def _read_dump_text(text):
    reader = _DumpTextReader()
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        reader.read(line.rstrip(" \t"))
    return reader.html()


def _plain_paragraphs_html(text):
    """Most imported bodies are plain paragraphs: no list, indentation or
    spacing to keep. For them, this writes what ``_DumpTextReader`` would,
    lines and links through the same ``_render_line``, at a fraction of the
    cost (imports render every body)."""
    blocks, lines, blank_lines = [], [], 0
    for line in text.split("\n"):
        if not line:
            blank_lines += 1
            continue
        if blank_lines and lines:
            blocks.append("<p>" + "<br>".join(lines) + "</p>")
            if blank_lines > 1:
                blocks.append("<hr>")
            lines = []
        blank_lines = 0
        lines.append(_render_line(line))
    if lines:
        blocks.append("<p>" + "<br>".join(lines) + "</p>")
    return "\n".join(blocks)


class _DumpTextWriter(HTMLParser):
    """Write HTML out as the converter would: one text line per visual line.

    Separation between blocks is owed rather than written (``pending``: 1 for
    a new line, 2 for a blank line, 3 for the two blank lines of an <hr>), so
    the strongest request wins and nothing trails the last line.
    """

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines = []  # finished lines
        self.line = None  # the line being written, None before any text
        self.line_has_text = False
        self.pending = 0  # separation owed before the next text
        self.space_due = False  # collapsed whitespace owed before the next word
        self.items = 0  # open <li> elements
        self.bullet_due = False  # the innermost <li> has not written its bullet
        self.pre = 0  # open <pre> elements
        self.pre_has_text = False  # blank lines at the top of a <pre> are dropped
        self.pre_space = ""  # spaces in a <pre> line, waiting for its text

    def text(self):
        self.close()
        if self.line is not None:
            self.lines.append(self.line.rstrip(" \t"))
        return "\n".join(self.lines)

    def separate(self, pending):
        # Blocks opening at the start of a list item share the bullet's line.
        if not self.bullet_due:
            self.pending = max(self.pending, pending)

    def write(self, text):
        if self.line is None or self.pending:
            if self.line is not None:
                self.lines.append(self.line.rstrip(" \t"))
                self.lines.extend([""] * (self.pending - 1))
            indent = "  " * self.items
            self.line = indent[2:] + "• " if self.bullet_due else indent
            self.bullet_due = False
            self.line_has_text = False
            self.pending = 0
        self.line += text
        self.line_has_text = self.line_has_text or bool(text)
        if self.pre:
            self.pre_has_text = True

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "blockquote"):
            self.separate(2)
        elif tag == "pre":
            self.separate(2)
            self.pre += 1
            self.pre_has_text = False
            self.pre_space = ""
        elif tag == "hr":
            self.separate(3)
        elif tag == "br":
            if self.bullet_due:
                self.write("")
            self.separate(1)
        elif tag in ("ul", "ol"):
            if not self.items:
                self.separate(2)
            elif not self.bullet_due:
                # A nested list follows its item's text on the next line.
                self.pending = 1
        elif tag == "li":
            if self.bullet_due:
                self.write("")
            self.separate(1)
            self.items += 1
            self.bullet_due = True

    def handle_endtag(self, tag):
        if tag in ("p", "blockquote"):
            self.separate(2)
        elif tag == "pre":
            self.pre -= 1
            self.separate(2)
        elif tag in ("ul", "ol"):
            self.separate(1 if self.items else 2)
        elif tag == "li":
            if self.bullet_due:
                self.write("")
            self.items -= 1
            # No blank line between items, however loose the list.
            self.pending = 1

    def handle_data(self, data):
        if self.pre:
            self.handle_preformatted(data)
            return
        text = _HTML_SPACE.sub(" ", data)
        words = text.strip(" ")
        if not words:
            self.space_due = self.space_due or bool(text)
            return
        if (text.startswith(" ") or self.space_due) and self.line_has_text and not self.pending:
            words = " " + words
        self.write(words)
        self.space_due = text.endswith(" ")

    def handle_preformatted(self, data):
        for number, line in enumerate(data.split("\n")):
            if number:
                self.pre_space = ""
                if self.line is not None and not self.pending:
                    self.pending = 1
                elif self.pre_has_text:
                    self.pending = min(self.pending + 1, 3)
            if line.strip(" \t"):
                self.write(self.pre_space + line)
                self.pre_space = ""
            else:
                # Spaces wait for text: a line of nothing else is a blank line.
                self.pre_space += line


def html_to_dump_text(html: str) -> str:
    """Write HTML from ``render_markdown`` as the Lemmy converter's text.

    Paragraphs and quotes are separated by one blank line, <br> ends a line
    and <hr> adds a second blank line. List items are "• " lines, two spaces
    deeper per nesting level, with no blank line between items or after a
    list that ends the text. Links, emphasis and code keep only their text;
    <pre> keeps its lines. Entities are decoded, lines carry no trailing
    spaces, and the text has no leading or trailing blank lines.
    """
    writer = _DumpTextWriter()
    writer.feed(html)
    return writer.text()
