"""Comment text becomes safe HTML, and our replies go back to dump text.

Imported dump text and members' Markdown are both hostile input: every
dangerous string must come out as visible, escaped text, never as markup.
"""

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import SEED_FULL
from tests.html import parse_html
from threads.markup import LINK_REL, MAX_URL_LENGTH, html_to_dump_text, render_dump_text, render_markdown

MARKDOWN_TAGS = {"p", "br", "em", "strong", "del", "a", "blockquote", "code", "pre", "ul", "ol", "li", "hr"}
DUMP_TAGS = {"p", "br", "a", "pre", "ul", "li", "hr"}

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "<<script>script>alert(1)<</script>/script>",
    "<b><i>unclosed <a href='",
    "<!--",
    "-->",
    "<![CDATA[",
    "&amp;",
    "&lt;b&gt;",
    "&#60;script&#62;",
    "javascript:",
    "data:text/html,",
    "http://",
    "https://example.org/",
    " onclick=",
    "•",
    "• ",
    "\n",
    "\n\n",
    "\n\n\n",
    "  ",
    "\t",
    "\r",
    "\xa0",
    "“",
    "”",
    ")",
    ".",
    "'",
    '"',
]


def links(doc):
    return [element.attrs for element in doc.find_all("a")]


def assert_safe(html, allowed_tags, link_schemes=("http://", "https://")):
    """Only allowlisted, balanced tags; links carry our rel and a safe href.

    nh3 drops an href it cannot parse as a URL ("HTTP://\xad"), which leaves
    an inert <a> without one.
    """
    doc = parse_html(html)
    assert not doc.unbalanced, html
    for element in doc.iter():
        tag, attrs = element.tag, element.attrs
        assert tag in allowed_tags, html
        if tag == "a":
            assert set(attrs) <= {"href", "rel"}, html
            assert attrs["rel"] == LINK_REL
            assert attrs.get("href", "http://").lower().startswith(link_schemes), html
        elif tag == "ol":
            assert set(attrs) <= {"start"}, html
        else:
            assert not attrs, html
    assert "<script" not in html.lower()
    return doc


def visible_text(html):
    return parse_html(html).text


def bombomom_reply_body():
    """The body of BombOmOm's second comment in seed 000, de-indented."""
    lines = SEED_FULL.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if "Ah, crap, that I do." in line)
    indent = len(lines[start]) - len(lines[start].lstrip(" "))
    return "\n".join(line[indent:] for line in lines[start : start + 4])


# render_markdown: members' replies


def test_script_tag_in_reply_is_shown_as_text():
    html = render_markdown("Hi <script>alert(1)</script>")
    assert_safe(html, MARKDOWN_TAGS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert visible_text(html) == "Hi <script>alert(1)</script>\n"


def test_img_onerror_in_reply_is_shown_as_text():
    html = render_markdown("<img src=x onerror=alert(1)>")
    assert_safe(html, MARKDOWN_TAGS)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_attribute_breakout_in_reply_is_shown_as_text():
    html = render_markdown('x"><svg onload=alert(1)>')
    assert_safe(html, MARKDOWN_TAGS)
    assert "<svg" not in html
    assert '"&gt;&lt;svg onload=alert(1)&gt;' in html


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "/relative/path",
        "//evil.example/",
    ],
)
def test_markdown_link_with_unsafe_target_is_not_a_link(target):
    html = render_markdown(f"[click me]({target})")
    doc = assert_safe(html, MARKDOWN_TAGS)
    assert links(doc) == []
    assert "click me" in visible_text(html)


@pytest.mark.parametrize("source", ["![pic](javascript:alert(1))", "<javascript:alert(1)>"])
def test_image_and_autolink_with_javascript_target_are_not_links(source):
    html = render_markdown(source)
    assert links(parse_html(html)) == []
    assert "javascript:alert(1)" in visible_text(html)


def test_raw_html_link_with_javascript_href_in_reply_is_shown_as_text():
    html = render_markdown('<a href="javascript:alert(1)">win</a>')
    doc = assert_safe(html, MARKDOWN_TAGS)
    assert links(doc) == []
    assert '&lt;a href="javascript:alert(1)"&gt;win&lt;/a&gt;' in html


def test_html_entities_in_reply_never_become_tags():
    html = render_markdown("&lt;script&gt;alert(1)&lt;/script&gt; &#60;b&#62;bold&#60;/b&#62; &amp;amp;")
    assert_safe(html, MARKDOWN_TAGS)
    assert "<b>" not in html
    assert visible_text(html) == "<script>alert(1)</script> <b>bold</b> &amp;\n"


def test_nested_incomplete_tags_in_reply_are_shown_as_text():
    source = "<<script>script>alert(1)<</script>/script> <b><i>unclosed <a href='"
    html = render_markdown(source)
    assert_safe(html, MARKDOWN_TAGS)
    assert visible_text(html) == source + "\n"


def test_links_in_reply_get_nofollow_ugc_noopener_and_nothing_else():
    html = render_markdown('[site](https://example.org "a title") and http://example.com/x and <mailto:a@example.org>')
    doc = assert_safe(html, MARKDOWN_TAGS, link_schemes=("http://", "https://", "mailto:"))
    assert [link["href"] for link in links(doc)] == [
        "https://example.org",
        "http://example.com/x",
        "mailto:a@example.org",
    ]
    assert all(link["rel"] == "nofollow ugc noopener" for link in links(doc))


def test_bare_domain_in_reply_is_not_linked():
    assert render_markdown("see example.org or www.example.org") == "<p>see example.org or www.example.org</p>\n"


def test_closing_quote_after_url_in_reply_stays_outside_link():
    html = render_markdown("He said “https://example.org/page”.")
    assert links(parse_html(html))[0]["href"] == "https://example.org/page"
    assert "</a>”." in html


def test_emphasis_strikethrough_and_code_render_in_reply():
    html = render_markdown("*em* **strong** ~~gone~~ `a < b`")
    assert html == "<p><em>em</em> <strong>strong</strong> <del>gone</del> <code>a &lt; b</code></p>\n"


def test_quote_renders_as_blockquote():
    assert render_markdown("> quoted *text*") == "<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>\n"


def test_lists_render_nested_and_numbered():
    html = render_markdown("- one\n  - nested\n- two\n\n3. three\n4. four")
    assert_safe(html, MARKDOWN_TAGS)
    assert "<ul>\n<li>one\n<ul>\n<li>nested</li>\n</ul>\n</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>' in html


def test_fenced_code_keeps_its_text_and_loses_its_class():
    html = render_markdown("```html\n<script>x</script>\n  indented\n```")
    assert html == "<pre><code>&lt;script&gt;x&lt;/script&gt;\n  indented\n</code></pre>\n"


def test_headings_in_reply_become_bold_paragraphs():
    assert render_markdown("# Big news") == "<p><strong>Big news</strong></p>\n"


def test_image_in_reply_becomes_a_link_to_the_picture():
    html = render_markdown("![a cat](https://example.org/cat.png) ![](https://example.org/dog.png)")
    assert "<img" not in html
    assert html == (
        '<p><a href="https://example.org/cat.png" rel="nofollow ugc noopener">a cat</a> '
        '<a href="https://example.org/dog.png" rel="nofollow ugc noopener">https://example.org/dog.png</a></p>\n'
    )


def test_image_inside_a_link_keeps_the_outer_link():
    html = render_markdown("[![badge](https://example.org/b.png)](https://example.org/)")
    assert [link["href"] for link in links(parse_html(html))] == ["https://example.org/"]
    assert visible_text(html) == "badge\n"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=30).map("".join)))
def test_render_markdown_never_emits_markup_outside_the_allowlist(text):
    assert_safe(render_markdown(text), MARKDOWN_TAGS, link_schemes=("http://", "https://", "mailto:"))


# render_dump_text: imported comments and articles


def test_script_tag_in_dump_text_is_escaped():
    assert render_dump_text("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_img_onerror_in_dump_text_is_escaped():
    assert render_dump_text("<img src=x onerror=alert(1)>") == "<p>&lt;img src=x onerror=alert(1)&gt;</p>"


def test_attribute_breakout_in_dump_text_is_escaped():
    assert render_dump_text('"><svg onload=alert(1)>') == "<p>&quot;&gt;&lt;svg onload=alert(1)&gt;</p>"


def test_markdown_and_html_links_in_dump_text_stay_text():
    html = render_dump_text('[x](javascript:alert(1)) [y](data:text/html,hi) <a href="javascript:alert(1)">z</a>')
    doc = assert_safe(html, DUMP_TAGS)
    assert links(doc) == []
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;z&lt;/a&gt;" in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript://example.org/%0Aalert(1)",
        "data://example.org/x",
        "ftp://example.org/f",
        "//example.org/x",
        "www.example.org",
    ],
)
def test_only_http_and_https_urls_in_dump_text_become_links(url):
    assert render_dump_text(f"see {url} now") == f"<p>see {url} now</p>"


def test_entities_in_dump_text_display_literally():
    html = render_dump_text("AT&amp;T &lt;b&gt; &#60;")
    assert html == "<p>AT&amp;amp;T &amp;lt;b&amp;gt; &amp;#60;</p>"
    assert visible_text(html) == "AT&amp;T &lt;b&gt; &#60;"


def test_nested_incomplete_tags_in_dump_text_are_escaped():
    source = "<<script>script>alert(1)<</script>/script> <b><i>unclosed <a href='"
    html = render_dump_text(source)
    assert_safe(html, DUMP_TAGS)
    assert visible_text(html) == source


def test_bare_urls_in_dump_text_become_links_with_rel():
    html = render_dump_text("Read https://en.wikipedia.org/wiki/Korean_War please")
    assert html == (
        '<p>Read <a href="https://en.wikipedia.org/wiki/Korean_War" rel="nofollow ugc noopener">'
        "https://en.wikipedia.org/wiki/Korean_War</a> please</p>"
    )


def test_url_with_quote_and_ampersand_is_escaped_in_href():
    html = render_dump_text('http://example.org/?a=1&b="2"')
    assert html == (
        '<p><a href="http://example.org/?a=1&amp;b=&quot;2&quot;" rel="nofollow ugc noopener">'
        "http://example.org/?a=1&amp;b=&quot;2&quot;</a></p>"
    )


@pytest.mark.parametrize("after", [".", ",", ")", "”", "’", "…", ").", "”,"])
def test_trailing_punctuation_stays_outside_the_link(after):
    html = render_dump_text(f"(see “https://example.org/page{after}")
    assert links(parse_html(html)) == [{"href": "https://example.org/page", "rel": LINK_REL}]
    assert html.endswith(f"https://example.org/page</a>{after}</p>")


def test_balanced_parentheses_stay_inside_the_link():
    html = render_dump_text("(https://en.wikipedia.org/wiki/Mercury_(planet))")
    assert links(parse_html(html))[0]["href"] == "https://en.wikipedia.org/wiki/Mercury_(planet)"


def test_seed_000_reply_list_becomes_a_list_of_two_items():
    body = bombomom_reply_body()
    assert body.split("\n")[1:] == [
        "",
        "• Russia’s buddy is in the west and gets disputed land taken by guy in the east.",
        "• Both countries start with ‘A’ and are near Turkey.",
    ]
    html = render_dump_text(body)
    assert html == (
        "<p>Ah, crap, that I do. I should look at a map whenever I talk about them. "
        "It’s stored in my head in this fashion:</p>\n"
        "<ul><li>Russia’s buddy is in the west and gets disputed land taken by guy in the east.</li>"
        "<li>Both countries start with ‘A’ and are near Turkey.</li></ul>"
    )


def test_blank_line_separates_paragraphs_and_lines_become_breaks():
    assert render_dump_text("one\ntwo\n\nthree") == "<p>one<br>two</p>\n<p>three</p>"


def test_double_blank_line_becomes_horizontal_rule():
    assert render_dump_text("summary\n\n\nfooter") == "<p>summary</p>\n<hr>\n<p>footer</p>"


def test_blank_lines_at_the_edges_add_nothing():
    assert render_dump_text("\n\n\nonly\n\n\n") == "<p>only</p>"


def test_nested_bullets_become_nested_lists():
    html = render_dump_text("• a\n  • a1\n    • a1x\n  • a2\n• b")
    assert html == "<ul><li>a<ul><li>a1<ul><li>a1x</li></ul></li><li>a2</li></ul></li><li>b</li></ul>"


def test_continuation_lines_stay_in_their_item():
    html = render_dump_text("• first\n  more of first\n  • nested\n  after nested\n\n  new paragraph\n• second")
    assert html == (
        "<ul><li>first<br>more of first<ul><li>nested</li></ul>after nested"
        "<p>new paragraph</p></li><li>second</li></ul>"
    )


def test_list_ends_at_an_unindented_line_without_a_blank_line():
    assert render_dump_text("• item\nnot an item") == "<ul><li>item</li></ul>\n<p>not an item</p>"


def test_article_list_at_indent_two_is_a_list():
    html = render_dump_text("Intro\n\n  • one\n    • deeper\n  • two")
    assert html == "<p>Intro</p>\n<ul><li>one<ul><li>deeper</li></ul></li><li>two</li></ul>"


def test_bullet_right_under_a_paragraph_line_stays_in_the_paragraph():
    assert render_dump_text("a line\n• not a list") == "<p>a line<br>• not a list</p>"


def test_spacing_html_would_collapse_is_kept_in_pre():
    assert render_dump_text("x = 1  # one\ty") == "<pre>x = 1  # one\ty</pre>"


def test_indented_line_after_a_list_and_a_rule_is_preformatted_text():
    assert render_dump_text("• a\n\n\n  code") == "<ul><li>a</li></ul>\n<hr>\n<pre>  code</pre>"


def test_url_longer_than_the_limit_stays_text():
    url = "https://example.org/" + "a" * MAX_URL_LENGTH
    assert render_dump_text(url) == f"<p>{url}</p>"
    assert links(parse_html(render_markdown(url))) == []


def test_no_break_spaces_and_typography_are_kept():
    text = "Thousands of\xa0North Koreans chanting “welcome Putin”\xa0– it’s… ·"
    assert render_dump_text(text) == f"<p>{text}</p>"


def test_indented_code_keeps_its_spaces_in_pre():
    assert render_dump_text("def f():\n    return 1") == "<pre>def f():\n    return 1</pre>"


def test_deeply_nested_bullets_do_not_exhaust_the_stack():
    text = "\n".join("  " * depth + "• x" for depth in range(1500))
    html = render_dump_text(text)
    assert html.count("<ul>") == 1500
    assert html_to_dump_text(html) == text


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.lists(st.sampled_from(HOSTILE) | st.text(max_size=3), max_size=40).map("".join)))
def test_render_dump_text_is_safe_and_keeps_every_character(text):
    html = render_dump_text(text)
    assert_safe(html, DUMP_TAGS)
    structure = re.compile(r"[\s•]")
    assert structure.sub("", visible_text(html)) == structure.sub("", text)


# html_to_dump_text: our replies written back as dump text


def test_paragraphs_are_separated_by_one_blank_line():
    assert html_to_dump_text("<p>one</p>\n<p>two</p>\n") == "one\n\ntwo"


def test_line_break_becomes_newline_without_trailing_spaces():
    assert html_to_dump_text("<p>one <br />\ntwo</p>") == "one\ntwo"


def test_horizontal_rule_becomes_two_blank_lines():
    assert html_to_dump_text("<p>one</p>\n<hr>\n<p>two</p>") == "one\n\n\ntwo"


def test_list_items_become_bullet_lines_nested_by_two_spaces():
    html = render_markdown("Intro\n\n- one\n  - nested *em*\n- two\n\n  more two\n- three")
    assert html_to_dump_text(html) == "Intro\n\n• one\n  • nested em\n• two\n\n  more two\n• three"


def test_list_is_followed_by_a_blank_line_only_when_text_follows():
    assert html_to_dump_text(render_markdown("- a\n- b\n\nafter")) == "• a\n• b\n\nafter"
    assert html_to_dump_text(render_markdown("before\n\n- a\n- b\n")) == "before\n\n• a\n• b"


def test_quote_link_code_and_emphasis_become_plain_text():
    html = render_markdown("> quoted [link text](https://example.org) and `code` **bold** ~~gone~~")
    assert html_to_dump_text(html) == "quoted link text and code bold gone"


def test_preformatted_lines_keep_their_indentation():
    html = render_markdown("Code:\n\n```\nif x:\n    y()   \n```")
    assert html_to_dump_text(html) == "Code:\n\nif x:\n    y()"


def test_whitespace_only_code_lines_add_no_blank_lines():
    assert html_to_dump_text("<p>0</p>\n<pre><code> \n</code></pre>\n<p>x</p>") == "0\n\nx"


def test_code_indentation_before_a_link_is_kept():
    html = '<pre><code>\t<a href="http://x.org/">http://x.org/</a>\n  y\n</code></pre>'
    assert html_to_dump_text(html) == "\thttp://x.org/\n  y"


def test_entities_are_decoded_in_dump_text():
    assert html_to_dump_text(render_markdown("a &amp; b <c> \xa0d")) == "a & b <c> \xa0d"


def test_seed_000_reply_round_trips():
    body = bombomom_reply_body()
    assert html_to_dump_text(render_dump_text(body)) == body


# Round trips

WORD = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "’“”…", min_size=1, max_size=8),
    st.sampled_from(
        [
            "https://en.wikipedia.org/wiki/Korean_War",
            "(https://example.org/a_(b)).",
            "http://example.com/?q=1&r=2,",
            "a\xa0b",
            "&amp;",
            "<script>alert(1)</script>",
            '"><svg',
            "onload=alert(1)>",
            "javascript:alert(1)",
            "•x",
            "·",
        ]
    ),
)
LINE = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)


@st.composite
def dump_lists(draw, depth=0):
    indent = "  " * depth
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        lines.append(f"{indent}• {draw(LINE)}")
        lines.extend(f"{indent}  {line}" for line in draw(st.lists(LINE, max_size=2)))
        if depth < 3 and draw(st.booleans()):
            lines.append(draw(dump_lists(depth + 1)))
    return "\n".join(lines)


@st.composite
def dump_texts(draw):
    blocks = draw(st.lists(PARAGRAPH | dump_lists(), min_size=1, max_size=5))
    text = blocks[0]
    for block in blocks[1:]:
        text += draw(st.sampled_from(["\n\n", "\n\n\n"])) + block
    return text


@settings(max_examples=200, deadline=None)
@given(dump_texts())
def test_dump_text_survives_render_and_write_back(text):
    html = render_dump_text(text)
    assert_safe(html, DUMP_TAGS)
    assert html_to_dump_text(html) == text


MARKDOWN_WORD = WORD | st.sampled_from(
    ["[site](https://example.net/)", "[bad](javascript:alert(1))", "<b><i>", "a@example.com"]
)
MARKDOWN_INLINE = st.one_of(
    MARKDOWN_WORD,
    MARKDOWN_WORD.map("*{}*".format),
    MARKDOWN_WORD.map("**{}**".format),
    MARKDOWN_WORD.map("`{}`".format),
    MARKDOWN_WORD.map("~~{}~~".format),
)
MARKDOWN_LINE = st.lists(MARKDOWN_INLINE, min_size=1, max_size=6).map(" ".join)
MARKDOWN_PARAGRAPH = st.lists(MARKDOWN_LINE, min_size=1, max_size=3).flatmap(
    lambda lines: st.sampled_from(["\n", "  \n"]).map(lambda newline: newline.join(lines))
)
# Code blocks start with an unindented line and hold no "•": indented text
# right after a list reads as the item's own paragraph, and a bullet reads as
# a list. The dump format itself cannot tell these apart.
CODE = "abc<>&()="
CODE_LINE = st.text(alphabet=CODE + " \t", max_size=8)
CODE_BLOCK = st.builds(
    lambda first, rest: "```\n" + "\n".join([first, *rest]) + "\n```",
    st.builds(str.__add__, st.sampled_from(CODE), CODE_LINE),
    st.lists(st.builds(str.__add__, st.sampled_from(["", "  ", "    "]), CODE_LINE), max_size=3),
)


@st.composite
def markdown_lists(draw, depth=0):
    marker = draw(st.sampled_from(["- ", "* ", "1. "]))
    pad = " " * len(marker)
    separator = draw(st.sampled_from(["\n", "\n\n"]))
    items = []
    for _ in range(draw(st.integers(1, 3))):
        item = marker + draw(MARKDOWN_LINE)
        if depth < 2 and draw(st.booleans()):
            child = draw(markdown_lists(depth + 1))
            item += "\n" + "\n".join(pad + line if line else "" for line in child.split("\n"))
        items.append(item)
    return separator.join(items)


MARKDOWN_BLOCK = st.one_of(
    MARKDOWN_PARAGRAPH,
    markdown_lists(),
    MARKDOWN_PARAGRAPH.map(lambda paragraph: "\n".join("> " + line for line in paragraph.split("\n"))),
    MARKDOWN_LINE.map("# {}".format),
    st.just("---"),
    CODE_BLOCK,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(MARKDOWN_BLOCK, min_size=1, max_size=6).map("\n\n".join))
def test_dump_text_of_a_reply_renders_safely_and_is_a_fixed_point(markdown):
    reply_html = render_markdown(markdown)
    assert_safe(reply_html, MARKDOWN_TAGS, link_schemes=("http://", "https://", "mailto:"))
    text = html_to_dump_text(reply_html)
    assert not re.search(r"[ \t]$", text, re.MULTILINE)
    assert "\n\n\n\n" not in text and text == text.strip("\n")
    html = render_dump_text(text)
    assert_safe(html, DUMP_TAGS)
    assert html_to_dump_text(html) == text


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab <>&\"'\n\u00a0\t•:/h.")), max_size=80))
def test_plain_paragraph_shortcut_renders_exactly_like_the_full_reader(text):
    # A trailing space sends any text through the full reader, which drops
    # every line's trailing blanks: the two calls differ only in the path taken.
    assert render_dump_text(text) == render_dump_text(text + " ")
