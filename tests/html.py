"""Read HTML in tests the way a browser would, instead of matching it with regular expressions.

``parse_html`` builds a small element tree with the standard library's
parser (tags, attributes, text), so a test can ask for "the ``li.comment``
elements" or "every attribute on the page" without depending on attribute
order or spacing.
"""

from html.parser import HTMLParser

# Elements that never have content or an end tag.
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children = []
        self.texts = []  # text and child elements, in order

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"

    @property
    def classes(self):
        return set(self.attrs.get("class", "").split())

    @property
    def text(self):
        """All text inside the element, as a browser's ``textContent``."""
        return "".join(piece if isinstance(piece, str) else piece.text for piece in self.texts)

    def iter(self):
        """Every element inside this one, in document order."""
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        """Elements inside this one with ``tag``, class ``cls`` and these attribute values."""
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag)
            and (cls is None or cls in element.classes)
            and all(element.attrs.get(name) == value for name, value in attrs.items())
        ]

    def find(self, tag=None, cls=None, **attrs):
        """The first such element, or None."""
        return next(iter(self.find_all(tag, cls, **attrs)), None)


class _TreeBuilder(HTMLParser):
    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", {})
        self.root.unbalanced = []
        self.feed(html)
        self.close()
        while self.current is not self.root:
            self.root.unbalanced.append(f"<{self.current.tag}> never closed")
            self.current = self.current.parent

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        self.current.texts.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.current = self.current.parent

    def handle_endtag(self, tag):
        # An end tag closes the nearest open element of its kind and any left
        # open inside it; a stray one is ignored, as browsers do.
        if self.current.tag != tag:
            self.root.unbalanced.append(f"</{tag}> closes <{self.current.tag}>")
        element = self.current
        while element is not self.root and element.tag != tag:
            element = element.parent
        if element is not self.root:
            self.current = element.parent

    def handle_data(self, data):
        self.current.texts.append(data)


def parse_html(html):
    """The document element of ``html`` (a page, a fragment or a response);
    its ``unbalanced`` lists end tags that close another element and elements
    never closed."""
    if hasattr(html, "content"):
        html = html.content.decode()
    return _TreeBuilder(html).root
