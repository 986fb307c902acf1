"""Browser tests: the thread pages in Debian's Chromium, driven by Playwright.

Launch recipe. Playwright's own browser builds cannot be downloaded here, so
the tests never ask Playwright to download a browser: they launch the system one,
``/usr/bin/chromium`` (Debian's ``chromium`` package), headless:

    p.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox",                    # we run as root in a container
        "--disable-gpu",                   # no GPU, no GPU process noise
        "--disable-background-networking", # no calls home, no updates,
        "--disable-component-update",      # no component downloads,
        "--disable-sync",                  # no sync,
        "--no-first-run",                  # no first-run tabs
    ])

The site runs on pytest-django's ``live_server`` (a threaded server on
127.0.0.1 against the test database), so each test uses ``transactional_db``.
Playwright's sync API keeps an asyncio loop running in the test's thread,
which makes Django refuse ORM calls there unless DJANGO_ALLOW_ASYNC_UNSAFE
is set; the test code and the server never share a connection concurrently.

When /usr/bin/chromium is missing the tests fail and say so: they are never
skipped. Run them alone with

    DJANGO_DEBUG=1 .venv/bin/pytest tests/test_browser.py -q -p no:cacheprovider
"""

import os
import re
from pathlib import Path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect, sync_playwright

from tests.conftest import CAPTURED_AT, SEED_FULL
from threads.importer import import_dump, import_dump_file
from threads.models import Comment, Person, Thread, Vote
from threads.replies import create_reply

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
USERNAME = "alice"
PASSWORD = "a-long-browser-test-password-7"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# ---- Fixtures ------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium). "
            "The browser tests need it and are never skipped.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def thread(transactional_db):
    """The seed thread, imported as `make run` imports it, and a member."""
    User.objects.create_user(USERNAME, password=PASSWORD)
    report = import_dump_file(SEED_FULL, captured_at=CAPTURED_AT)
    return Thread.objects.get(pk=report.thread_id)


class Problems:
    """What a page reported that a user would never see: console errors and
    uncaught exceptions, plus our static files failing to load."""

    def __init__(self, page):
        self.console, self.exceptions, self.static = [], [], {}
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.exceptions.append(str(error)))
        page.on("response", self._on_response)

    def _on_console(self, message):
        if message.type != "error":
            return
        self.console.append(f"{message.text} ({message.location.get('url')})")

    def _on_response(self, response):
        if "/static/threads/" in response.url:
            self.static[response.url.rsplit("/", 1)[-1]] = response.status

    def assert_none(self):
        assert self.exceptions == [], "uncaught JavaScript exceptions"
        assert self.console == [], "errors in the browser console"


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = Problems(page)
    yield page
    context.close()


def log_in(page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("form.logout-form")).to_be_visible()


def comment(page, pk):
    return page.locator(f"#comment-{pk}")


def own(page, pk, selector):
    """A part of comment ``pk`` itself, not of its replies."""
    return page.locator(f"#comment-{pk} > details > {selector}")


def shown_score(page, pk):
    return int(own(page, pk, "summary [data-score]").inner_text().replace("\u2212", "-"))


def mark_page(page):
    """Leave a marker on window that only survives if the page never reloads."""
    page.evaluate("window.__sameDocument = 'yes'")


def assert_same_document(page, url):
    assert page.evaluate("window.__sameDocument") == "yes", "the page reloaded"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.url == url


def first_comment_with_replies(thread):
    return (
        Comment.objects.filter(thread=thread, is_placeholder=False, status="normal", parent=None)
        .filter(children__isnull=False)
        .order_by("tree_id", "lft")
        .first()
    )


def a_leaf(thread):
    return (
        Comment.objects.filter(thread=thread, is_placeholder=False, status="normal", children__isnull=True)
        .order_by("tree_id", "lft")
        .first()
    )


# ---- Tests ---------------------------------------------------------------


def test_vote_updates_score_in_place(page, thread):
    """Upvote, clear and downvote a comment: the score and aria-pressed
    follow each click, and the page never reloads."""
    target = first_comment_with_replies(thread)
    log_in(page)
    page.goto(thread.get_absolute_url())
    url = page.url
    mark_page(page)
    before = shown_score(page, target.pk)
    up = comment(page, target.pk).get_by_role("button", name="Upvote").first
    down = comment(page, target.pk).get_by_role("button", name="Downvote").first
    expect(up).to_have_attribute("aria-pressed", "false")

    up.click()
    expect(own(page, target.pk, "summary [data-score]")).to_have_text(str(before + 1))
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    assert Vote.objects.get(comment=target).value == 1

    up.click()  # pressing the pressed button clears the vote
    expect(own(page, target.pk, "summary [data-score]")).to_have_text(str(before))
    expect(up).to_have_attribute("aria-pressed", "false")

    down.click()
    expect(own(page, target.pk, "summary [data-score]")).to_have_text(str(before - 1))
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    assert Vote.objects.get(comment=target).value == -1

    # The thread's own vote buttons update the thread's score.
    thread_score = page.locator("article.thread [data-score]").first
    thread_before = int(thread_score.inner_text())
    page.locator("article.thread").get_by_role("button", name="Upvote").click()
    expect(thread_score).to_have_text(str(thread_before + 1))
    thread_up = page.locator("article.thread").get_by_role("button", name="Upvote")
    expect(thread_up).to_have_attribute("aria-pressed", "true")

    assert_same_document(page, url)
    page.problems.assert_none()


def test_vote_sends_visitors_to_log_in(page, thread):
    """A visitor's vote gets 401 from the server and goes to the login page."""
    target = first_comment_with_replies(thread)
    page.goto(thread.get_absolute_url())
    comment(page, target.pk).get_by_role("button", name="Upvote").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    assert not Vote.objects.exists()


def test_inline_reply_appears_nested_under_its_parent(page, thread):
    """Reply opens an inline form; a blank reply shows the server's error and
    keeps the form; a real one appears under its parent, marked new and
    focused, with no reload."""
    parent = a_leaf(thread)
    log_in(page)
    page.goto(thread.get_absolute_url())
    url = page.url
    mark_page(page)
    assert own(page, parent.pk, "ol.comment-list").count() == 0

    own(page, parent.pk, ".comment-actions").get_by_role("link", name="Reply").click()
    form = own(page, parent.pk, "form.reply-form")
    textarea = form.locator("textarea")
    expect(textarea).to_be_focused()

    textarea.fill("   ")  # passes the browser's `required`, fails the server's
    form.get_by_role("button", name="Reply").click()
    expect(form.locator(".errorlist")).to_contain_text("required")
    expect(textarea).to_have_attribute("aria-invalid", "true")

    textarea.fill("A reply from the **browser** test.")
    form.get_by_role("button", name="Reply").click()
    new = own(page, parent.pk, "ol.comment-list > li.comment.is-new")
    expect(new).to_have_count(1)
    expect(new.locator(".comment-body")).to_contain_text("A reply from the browser test.")
    expect(new.locator("strong")).to_have_text("browser")
    expect(form).to_have_count(0)
    expect(new.locator("summary")).to_be_focused()
    expect(new).to_be_in_viewport()

    reply = Comment.objects.get(body="A reply from the **browser** test.")
    assert reply.parent_id == parent.pk
    assert new.get_attribute("id") == f"comment-{reply.pk}"
    assert new.get_attribute("data-parent") == str(parent.pk)

    # The thread-level form adds a top-level comment the same way.
    page.locator("article.thread textarea[name=body]").fill("A top-level reply from the browser test.")
    page.locator("article.thread form.reply-form button").click()
    top = page.locator("section.comments > ol.comment-list > li.comment.is-new")
    expect(top).to_have_count(1)
    expect(top).to_contain_text("A top-level reply from the browser test.")
    expect(page.locator("article.thread textarea[name=body]")).to_have_value("")
    assert_same_document(page, url)
    assert page.problems.exceptions == []


def test_a_reply_whose_answer_was_lost_is_retried_and_shown_once(page, thread):
    """The reply is stored but its answer lost (the database connection died
    first, so the server answered 503): the script waits the Retry-After,
    posts again, and the server's duplicate answer shows the reply once."""
    parent = a_leaf(thread)
    posts = []

    def lose_the_first_answer(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.post_data)
        if len(posts) > 1:
            return route.continue_()
        route.fetch()  # the server stores the reply...
        route.fulfill(  # ...and the member gets what a lost connection answers
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/json"},
            body='{"error": "The forum lost its connection to its database.", "retry_after": 1}',
        )

    log_in(page)
    page.goto(thread.get_absolute_url())
    url = page.url
    mark_page(page)
    page.route("**/reply/", lose_the_first_answer)
    own(page, parent.pk, ".comment-actions").get_by_role("link", name="Reply").click()
    form = own(page, parent.pk, "form.reply-form")
    form.locator("textarea").fill("Posted while the database restarted.")
    form.get_by_role("button", name="Reply").click()
    new = own(page, parent.pk, "ol.comment-list > li.comment.is-new")
    expect(new).to_have_count(1)
    expect(new.locator(".comment-body")).to_contain_text("Posted while the database restarted.")
    expect(form).to_have_count(0)
    assert len(posts) == 2 and all("Posted while the database restarted." in post for post in posts)
    assert Comment.objects.filter(body="Posted while the database restarted.").count() == 1
    assert_same_document(page, url)
    assert page.problems.exceptions == []  # the console names the 503, as browsers do


def test_collapse_hides_a_subtree(page, thread):
    """Clicking a comment's header folds its body and replies away and shows
    how many replies are hidden; clicking again brings them back."""
    target = first_comment_with_replies(thread)
    hidden = target.get_descendant_count()
    page.goto(thread.get_absolute_url())
    head = own(page, target.pk, "summary")
    count = head.locator(".hidden-count")
    children = own(page, target.pk, "ol.comment-list > li.comment")
    expect(count).to_be_hidden()
    expect(children.first).to_be_visible()

    head.click(position={"x": 6, "y": 6})  # the [–] marker, not the author link
    expect(page.locator(f"#comment-{target.pk} > details")).not_to_have_attribute("open", "")
    expect(children.first).to_be_hidden()
    expect(own(page, target.pk, ".comment-body")).to_be_hidden()
    expect(count).to_be_visible()
    expect(count).to_contain_text(f"{hidden} repl")

    head.click(position={"x": 6, "y": 6})
    expect(children.first).to_be_visible()
    expect(count).to_be_hidden()
    page.problems.assert_none()


def test_keyboard_navigation(page, thread):
    """j/k move through visible comments, p goes to the parent, c folds, u
    votes, r opens a reply, ? shows the keys, and typing in a text box is
    left alone."""
    log_in(page)
    page.goto(thread.get_absolute_url())
    order = page.eval_on_selector_all("li.comment", "els => els.map(el => el.id)")
    first, second = order[0], order[1]
    assert page.locator(f"#{second}").get_attribute("data-parent") == first.removeprefix("comment-")
    selected = page.locator("li.comment.keyboard-focus")

    page.keyboard.press("j")
    expect(selected).to_have_attribute("id", first)
    expect(page.locator(f"#{first} > details > summary")).to_be_focused()
    page.keyboard.press("j")
    expect(selected).to_have_attribute("id", second)
    expect(page.locator(f"#{second} > details > summary")).to_be_focused()
    page.keyboard.press("k")
    expect(selected).to_have_attribute("id", first)
    page.keyboard.press("j")
    page.keyboard.press("p")
    expect(selected).to_have_attribute("id", first)
    expect(selected).to_have_count(1)

    page.keyboard.press("c")
    expect(page.locator(f"#{first} > details")).not_to_have_attribute("open", "")
    expect(page.locator(f"#{second}")).to_be_hidden()
    page.keyboard.press("j")  # skips the folded replies
    next_top = page.evaluate("[...document.querySelectorAll('section.comments > ol > li.comment')].map(el => el.id)[1]")
    expect(selected).to_have_attribute("id", next_top)

    pk = int(next_top.removeprefix("comment-"))
    before = shown_score(page, pk)
    page.keyboard.press("u")
    expect(own(page, pk, "summary [data-score]")).to_have_text(str(before + 1))
    expect(comment(page, pk).get_by_role("button", name="Upvote").first).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("d")
    expect(own(page, pk, "summary [data-score]")).to_have_text(str(before - 1))

    page.keyboard.press("r")
    textarea = own(page, pk, "form.reply-form textarea")
    expect(textarea).to_be_focused()
    expect(textarea).to_have_value("")  # the "r" itself is not typed
    page.keyboard.type("jkpc")  # keys in a text box are text, not commands
    expect(textarea).to_have_value("jkpc")
    expect(selected).to_have_attribute("id", next_top)
    expect(page.locator(f"#{first} > details")).not_to_have_attribute("open", "")

    textarea.blur()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next comment")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    page.keyboard.press("?")
    expect(help_dialog).to_be_hidden()
    page.problems.assert_none()


def enforce_strict_csp(page):
    """Serve every page with a Content Security Policy that forbids inline
    scripts and styles, as production will; the browser logs each violation
    as a console error."""

    def add_policy(route):
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/*", add_policy)


@pytest.mark.parametrize("member", [False, True], ids=["visitor", "member"])
def test_pages_log_no_errors(page, thread, member):
    """Home, thread and comment pages load our CSS and JS and log no error,
    not even under a strict Content Security Policy."""
    if member:
        log_in(page)
    enforce_strict_csp(page)
    target = first_comment_with_replies(thread)
    for path in ("/", thread.get_absolute_url(), f"{target.get_absolute_url()}#comment-{target.pk}"):
        page.problems.static.clear()
        response = page.goto(path)
        page.wait_for_load_state("load")
        assert response.headers.get("content-security-policy") == STRICT_CSP, f"{path}: policy not applied"
        loaded = page.problems.static
        assert loaded.get("forum.css") == 200 and loaded.get("forum.js") == 200, path
        assert all(status == 200 for status in loaded.values()), (path, loaded)
    page.keyboard.press("j")  # the script ran and acts
    expect(page.locator("li.comment.keyboard-focus")).to_have_count(1)
    page.problems.assert_none()


def test_deep_thread_fits_a_narrow_screen(browser, live_server, thread):
    """At 360px wide no page scrolls sideways, and the deepest comment's text
    keeps a readable column, on the thread page and on a comment page that
    shows every level."""
    chain_top = parent = first_comment_with_replies(thread)
    member = User.objects.get(username=USERNAME)
    for n in range(16):
        parent, _ = create_reply(
            member,
            thread,
            parent.pk,
            f"Level {n}: a sentence long enough to wrap, and a link "
            "https://example.com/a/very/long/path/without/spaces/that/must/wrap/somewhere/" + "x" * 40,
        )
    context = browser.new_context(viewport={"width": 360, "height": 800}, base_url=live_server.url)
    page = context.new_page()
    problems = Problems(page)
    for path in (thread.get_absolute_url(), f"{chain_top.get_absolute_url()}?all=1"):
        page.goto(path)
        depth, width = page.evaluate(
            """() => {
                const deepest = [...document.querySelectorAll('li.comment')]
                    .reduce((a, b) => (+b.dataset.depth > +a.dataset.depth ? b : a));
                return [+deepest.dataset.depth, deepest.querySelector('.comment-body').getBoundingClientRect().width];
            }"""
        )
        assert depth >= 7, path
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert width >= 200, f"{path}: the text at depth {depth} is {width}px wide"
    problems.assert_none()
    context.close()


def test_without_javascript_forms_still_work(browser, live_server, thread):
    """With JavaScript off, a vote posts and comes back to the comment, a
    reply goes through the reply page, and collapsing still works."""
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    target = first_comment_with_replies(thread)
    log_in(page)
    page.goto(thread.get_absolute_url())
    before = shown_score(page, target.pk)

    comment(page, target.pk).get_by_role("button", name="Upvote").first.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(thread.get_absolute_url())}#comment-{target.pk}$"))
    assert shown_score(page, target.pk) == before + 1
    up = comment(page, target.pk).get_by_role("button", name="Upvote").first
    expect(up).to_have_attribute("aria-pressed", "true")
    assert Vote.objects.get(comment=target).value == 1

    own(page, target.pk, ".comment-actions").get_by_role("link", name="Reply").click()
    expect(page).to_have_url(re.compile(rf"/comments/{target.pk}/reply/$"))
    page.get_by_label("Your reply").fill("Posted without JavaScript.")
    page.get_by_role("button", name="Post reply").click()
    reply = Comment.objects.get(body="Posted without JavaScript.")
    expect(page).to_have_url(re.compile(rf"\?new={reply.pk}#comment-{reply.pk}$"))
    expect(own(page, target.pk, f"ol.comment-list > li#comment-{reply.pk}.is-new")).to_have_count(1)

    head = own(page, target.pk, "summary")
    head.click(position={"x": 6, "y": 6})
    expect(own(page, target.pk, "ol.comment-list > li.comment").first).to_be_hidden()
    expect(head.locator(".hidden-count")).to_be_visible()
    context.close()


HOSTILE_DUMP = """Breaking <script>window.__xss = 1</script> news.

<img src=x onerror="window.__xss = 1"> in the article.

  • "><img src=x onerror=window.__xss=1>@evil.example
    link
    fedilink
    English
    arrow-up
    3
    ·
    2 days ago

    <script>window.__xss = 1</script> and <svg onload="window.__xss = 1"></svg>"""


def test_hostile_text_never_runs_a_script(page, thread):
    """Script tags, event handlers and javascript: links in dump text, author
    names and a member's Markdown reply stay text: no script runs and no
    dialog opens on any page that shows them."""
    report = import_dump(HOSTILE_DUMP, source="hostile.txt", captured_at=CAPTURED_AT)
    hostile = Thread.objects.get(pk=report.thread_id)
    create_reply(
        User.objects.get(username=USERNAME),
        hostile,
        None,
        '<script>window.__xss = 1</script> [click me](javascript:window.__xss=1) <img src=x onerror="window.__xss=1">',
    )
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    author = Person.objects.get(instance="evil.example")
    for path in ("/", hostile.get_absolute_url(), author.get_absolute_url(), f"/api/threads/{hostile.pk}/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, path
    page.goto(hostile.get_absolute_url())
    expect(page.locator("a[href^='javascript:']")).to_have_count(0)
    assert page.evaluate("window.__xss") is None and dialogs == []
    page.problems.assert_none()
