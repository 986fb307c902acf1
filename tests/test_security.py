"""Hostile input, headers, rate limits, size limits and production settings."""

import os
import subprocess
import sys
from datetime import timedelta
from html import escape
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.api import get_json
from tests.conftest import CAPTURED_AT
from tests.factories import PASSWORD, make_comment, make_reply, make_thread, make_user
from tests.html import parse_html
from threads.importer import import_dump
from threads.models import Comment, Person, Thread
from threads.replies import create_reply

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    '"><svg onload=window.__xss=1>',
    "&lt;b&gt;entity&amp;",
]
HOSTILE_DUMP = "\n".join(
    [
        "Breaking <script>window.__xss=1</script> news & more. Second sentence.",
        "",
        "<img src=x onerror=window.__xss=1> in the article.",
        "",
        '  • "><svg onload=window.__xss=1>@evil.example',
        "    link",
        "    fedilink",
        "    <i>English</i>",
        "    arrow-up",
        "    3",
        "    ·",
        "    2 days ago",
        "",
        "    <script>window.__xss=1</script> and <img src=x onerror=window.__xss=1>",
        "",
        "    javascript:window.__xss=1 and data:text/html;base64,PHNjcmlwdD4= and &lt;b&gt;entity&amp;",
    ]
)
# Tags the hostile texts carry; none may become an element.
HOSTILE_TAGS = {"img", "svg", "i"}
WEB_LINK_STARTS = ("http:", "https:", "/", "#", "mailto:", "?")


def assert_inert(html):
    """No hostile tag, script, event handler or non-web link made it in as markup."""
    document = parse_html(html)
    for element in document.iter():
        assert element.tag not in HOSTILE_TAGS, element
        assert element.tag != "script" or (element.attrs.get("src") and not element.text), element
        assert not [name for name in element.attrs if name.startswith("on")], element
        if element.tag == "a" and "href" in element.attrs:
            assert element.attrs["href"].startswith(WEB_LINK_STARTS), element


@pytest.fixture
def hostile_thread(db):
    report = import_dump(HOSTILE_DUMP, source="hostile.txt", captured_at=CAPTURED_AT)
    return Thread.objects.get(pk=report.thread_id)


def test_hostile_dump_text_and_author_names_are_shown_as_text(client, hostile_thread):
    author = Person.objects.get(instance="evil.example")
    pages = [
        "/",
        hostile_thread.get_absolute_url(),
        hostile_thread.get_absolute_url() + "?all=1",
        author.get_absolute_url(),
        f"/comments/{Comment.objects.get(author=author).pk}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_inert(html)
    thread_html = client.get(hostile_thread.get_absolute_url()).content.decode()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in thread_html
    assert "&quot;&gt;&lt;svg onload=window.__xss=1&gt;" in thread_html
    assert "&amp;lt;b&amp;gt;entity&amp;amp;" in thread_html
    assert "<title>Breaking &lt;script&gt;" in thread_html


def test_hostile_text_in_the_json_api_is_data_not_markup(client, hostile_thread):
    data = get_json(client, f"/api/threads/{hostile_thread.pk}/")
    assert data["comments"][0]["author"]["name"] == '"><svg onload=window.__xss=1>'
    assert data["comments"][0]["language"] == "<i>English</i>"
    assert client.get(f"/api/threads/{hostile_thread.pk}/")["Content-Type"] == "application/json"


def test_hostile_markdown_reply_renders_inert(client, db):
    thread = make_thread()
    member = make_user("mallory")
    body = (
        "<script>window.__xss=1</script> [click](javascript:window.__xss=1) [data](data:text/html,hi) "
        '![img](x onerror=alert(1)) <a href="javascript:alert(1)">raw</a> [fine](https://example.org)'
    )
    create_reply(member, thread, None, body)
    html = client.get(thread.get_absolute_url()).content.decode()
    assert_inert(html)
    assert '<a href="https://example.org" rel="nofollow ugc noopener">fine</a>' in html


def test_pages_send_a_strict_content_security_policy_and_security_headers(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_no_inline_scripts_or_handlers(client, db):
    thread = make_thread()
    make_comment(thread, body="Hello")
    html = client.get(thread.get_absolute_url()).content.decode()
    assert "<script>" not in html and " onclick=" not in html and " style=" not in html
    assert '<script src="/static/threads/forum.js" defer></script>' in html


def test_session_and_csrf_cookies_are_http_only(client, db):
    make_user("carol")
    response = client.post("/accounts/login/", {"username": "carol", "password": PASSWORD})
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["csrftoken"]["httponly"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_login_next_never_leaves_the_site(client, db, target):
    make_user("dave")
    response = client.post("/accounts/login/", {"username": "dave", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_vote_back_link_ignores_a_foreign_referer(client, db):
    thread = make_thread()
    comment = make_comment(thread)
    client.force_login(make_user("erin"))
    response = client.post(f"/comments/{comment.pk}/vote/", {"value": 1}, HTTP_REFERER="https://evil.example/x")
    assert response["Location"] == f"{thread.get_absolute_url()}#comment-{comment.pk}"


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/threads/{thread}/vote/", "get"),
        ("/comments/{comment}/vote/", "get"),
        ("/comments/{comment}/delete/", "get"),
        ("/comments/{comment}/remove/", "get"),
        ("/threads/{thread}/lock/", "get"),
        ("/accounts/logout/", "get"),
    ],
)
def test_state_changes_refuse_get(client, db, url, method):
    thread = make_thread()
    comment = make_comment(thread)
    client.force_login(make_user("frank", staff=True))
    response = getattr(client, method)(url.format(thread=thread.pk, comment=comment.pk))
    assert response.status_code == 405
    comment.refresh_from_db()
    thread.refresh_from_db()
    assert comment.status == Comment.Status.NORMAL and not thread.is_locked


@pytest.fixture
def tight_limits(settings):
    settings.RATELIMITS = {
        "reply": "3/m",
        "vote": "5/m",
        "signup": "2/h",
        "login": "3/h",
        "edit": "3/h",
        "delete": "3/h",
        "password": "3/h",
    }


@pytest.mark.usefixtures("tight_limits")
class TestRateLimits:
    def test_replies_past_the_limit_get_429_with_a_readable_message(self, client, db):
        thread = make_thread()
        client.force_login(make_user("gina"))
        statuses = [client.post(f"/threads/{thread.pk}/reply/", {"body": f"reply {n}"}).status_code for n in range(4)]
        assert statuses == [302, 302, 302, 429]
        response = client.post(f"/threads/{thread.pk}/reply/", {"body": "again"})
        assert "the limit is 3 per minute" in response.content.decode()
        assert response["Retry-After"] == "60"
        assert Comment.objects.filter(origin=Comment.Origin.LOCAL).count() == 3

    def test_limits_are_per_member(self, client, db):
        thread = make_thread()
        client.force_login(make_user("hank"))
        for n in range(3):
            client.post(f"/threads/{thread.pk}/reply/", {"body": f"reply {n}"})
        other = Client()
        other.force_login(make_user("iris"))
        assert other.post(f"/threads/{thread.pk}/reply/", {"body": "mine"}).status_code == 302

    def test_votes_past_the_limit_get_json_429(self, client, db):
        comment = make_comment(make_thread())
        client.force_login(make_user("jack"))
        statuses = [
            client.post(f"/comments/{comment.pk}/vote/", {"value": 1}, HTTP_ACCEPT="application/json").status_code
            for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        response = client.post(f"/comments/{comment.pk}/vote/", {"value": 1}, HTTP_ACCEPT="application/json")
        assert "limit is 5 per minute" in response.json()["error"]

    def test_edits_past_the_limit_get_429_and_change_nothing(self, client, db):
        member = make_user("mona")
        reply = make_reply(member, make_thread(), "first")
        client.force_login(member)
        statuses = [client.post(f"/comments/{reply.pk}/edit/", {"body": f"edit {n}"}).status_code for n in range(4)]
        assert statuses == [302, 302, 302, 429]
        reply.refresh_from_db()
        assert reply.body == "edit 2"

    def test_deletes_past_the_limit_get_429(self, client, db):
        member = make_user("nina")
        thread = make_thread()
        replies = [make_reply(member, thread, f"reply {n}") for n in range(4)]
        client.force_login(member)
        statuses = [client.post(f"/comments/{reply.pk}/delete/").status_code for reply in replies]
        assert statuses == [302, 302, 302, 429]
        assert Comment.objects.get(pk=replies[3].pk).status == Comment.Status.NORMAL

    def test_password_changes_past_the_limit_get_429(self, client, db):
        member = make_user("otto")
        client.force_login(member)
        new = "another-long-password-77"
        wrong = {"old_password": "not-it", "new_password1": new, "new_password2": new}
        statuses = [client.post("/accounts/password_change/", wrong).status_code for _ in range(3)]
        right = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        assert statuses == [200, 200, 200]
        assert client.post("/accounts/password_change/", right).status_code == 429
        member.refresh_from_db()
        assert member.check_password(PASSWORD)

    def test_a_vote_answered_in_json_is_refused_in_json(self, client, db):
        """The 429 follows the same Accept rule as the vote's own answer."""
        comment = make_comment(make_thread())
        client.force_login(make_user("jill"))
        vote = {"value": 1}
        responses = [client.post(f"/comments/{comment.pk}/vote/", vote, HTTP_ACCEPT="application/*") for _ in range(6)]
        assert [response["Content-Type"] for response in responses] == ["application/json"] * 6
        assert responses[-1].status_code == 429 and "limit is 5 per minute" in responses[-1].json()["error"]

    def test_signups_are_limited_per_address(self, db):
        """Each sign-up from a fresh browser, so that every one is a real
        sign-up rather than a member sent home; the limit is 2 per hour."""

        def sign_up(username, address):
            form = {"username": username, "password1": PASSWORD, "password2": PASSWORD}
            return Client(REMOTE_ADDR=address).post("/accounts/signup/", form).status_code

        assert [sign_up(f"new{n}", "10.0.0.7") for n in range(3)] == [302, 302, 429]
        assert sorted(Person.objects.values_list("name", flat=True)) == ["new0", "new1"]
        assert sign_up("elsewhere", "10.0.0.8") == 302

    def test_failed_logins_block_the_address_that_made_them(self, db):
        make_user("kate")
        attacker = Client(REMOTE_ADDR="10.0.0.1")
        statuses = [
            attacker.post("/accounts/login/", {"username": "kate", "password": "wrong"}).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        assert attacker.post("/accounts/login/", {"username": "other", "password": "x"}).status_code == 429
        assert attacker.post("/accounts/login/", {"username": "kate", "password": PASSWORD}).status_code == 429
        assert "_auth_user_id" not in attacker.session

    def test_the_owner_logs_in_from_a_clean_address_while_an_attacker_spams_failures(self, db):
        make_user("kate")
        for n in range(3):
            Client(REMOTE_ADDR=f"10.0.1.{n}").post("/accounts/login/", {"username": "kate", "password": "wrong"})
        owner = Client(REMOTE_ADDR="10.0.0.2")
        response = owner.post("/accounts/login/", {"username": "kate", "password": PASSWORD})
        assert response.status_code == 302 and "_auth_user_id" in owner.session

    def test_an_account_under_attack_gives_each_other_address_one_guess(self, db):
        make_user("kate")
        for n in range(3):
            Client(REMOTE_ADDR=f"10.0.1.{n}").post("/accounts/login/", {"username": "kate", "password": "wrong"})
        guesser = Client(REMOTE_ADDR="10.0.2.1")
        assert guesser.post("/accounts/login/", {"username": "kate", "password": "wrong"}).status_code == 200
        assert guesser.post("/accounts/login/", {"username": "kate", "password": PASSWORD}).status_code == 429
        assert guesser.post("/accounts/login/", {"username": "someone", "password": "x"}).status_code == 200
        # The account is keyed as the login form reads the name (NFKC, any case).
        assert guesser.post("/accounts/login/", {"username": " ＫＡＴＥ ", "password": "x"}).status_code == 429

    def test_successful_logins_are_not_counted(self, db):
        make_user("kate")
        client = Client(REMOTE_ADDR="10.0.0.3")
        for _ in range(5):
            assert client.post("/accounts/login/", {"username": "kate", "password": PASSWORD}).status_code == 302
            client.post("/accounts/logout/")

    def test_admin_login_has_the_same_limits_and_shares_the_counts(self, db):
        make_user("root", staff=True)
        attacker = Client(REMOTE_ADDR="10.0.0.4")
        attacker.post("/accounts/login/", {"username": "root", "password": "wrong"})
        statuses = [
            attacker.post("/admin/login/", {"username": "root", "password": "wrong"}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        assert attacker.post("/admin/login/", {"username": "root", "password": PASSWORD}).status_code == 429
        assert "_auth_user_id" not in attacker.session
        owner = Client(REMOTE_ADDR="10.0.0.5")
        response = owner.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
        assert response.status_code == 302 and owner.get("/admin/").status_code == 200


def test_reply_request_larger_than_the_limit_is_a_clean_400(client, db):
    thread = make_thread()
    client.force_login(make_user("liam"))
    response = client.post(f"/threads/{thread.pk}/reply/", {"body": "x" * 300_000})
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_oversized_dump_upload_is_refused_and_nothing_is_stored(client, db, seed_text, settings):
    settings.DUMP_UPLOAD_MAX_BYTES = 2_000
    client.force_login(_superuser())
    upload = SimpleUploadedFile("big.txt", seed_text.encode("utf-8"), content_type="text/plain")
    response = client.post("/admin/threads/thread/import/", {"files": [upload]})
    assert response.status_code == 200
    assert "big.txt:0: larger than the" in response.content.decode()
    assert not Thread.objects.exists()


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)


def test_signup_refuses_the_name_of_an_imported_local_author(client, db):
    Person.objects.create(name="hafenmeister", instance="")
    response = client.post(
        "/accounts/signup/", {"username": "Hafenmeister", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200 and "belongs to an imported author" in response.content.decode()


def test_signup_gives_the_member_a_profile(client, db):
    client.post("/accounts/signup/", {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD})
    assert Person.objects.filter(user__username="newbie", name="newbie").exists()
    assert client.get("/u/newbie").status_code == 200


def test_viewing_a_members_profile_writes_nothing(client, db):
    make_user("quiet")
    assert client.get("/u/quiet").status_code == 200
    assert not Person.objects.exists()


def test_replies_stop_at_the_maximum_depth(client, db):
    thread = make_thread()
    parent = None
    for _ in range(Comment.MAX_DEPTH + 1):
        parent = make_comment(thread, parent)
    member = make_user("deep")
    client.force_login(member)
    assert parent.level == Comment.MAX_DEPTH
    assert not parent.can_reply(member)
    assert client.post(f"/comments/{parent.pk}/reply/", {"body": "too deep"}).status_code == 403


def test_comment_page_parent_link_leads_to_the_parents_page(client, db):
    thread = make_thread()
    parent = make_comment(thread)
    child = make_comment(thread, parent)
    html = client.get(f"/comments/{child.pk}/").content.decode()
    assert f'href="/comments/{parent.pk}/#comment-{parent.pk}">parent</a>' in html


def run_settings(env):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "forum.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_settings({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "forum.example"})
    assert result.returncode != 0 and "Set DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts():
    result = run_settings({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 60})
    assert result.returncode != 0 and "Set DJANGO_ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "s3cr3t-" + "k7x" * 20,
            "DJANGO_ALLOWED_HOSTS": "forum.example",
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_pages_and_refusals_use_the_sites_own_pages(client, db):
    missing = client.get("/threads/999/nothing/")
    assert missing.status_code == 404 and "Back to the threads" in missing.content.decode()
    thread = make_thread(is_locked=True)
    client.force_login(make_user("late"))
    refused = client.post(f"/threads/{thread.pk}/reply/", {"body": "too late"})
    assert refused.status_code == 403 and "the thread may be locked" in refused.content.decode()


@pytest.mark.parametrize("target", ["http://testserver//evil.example/x", "http://testserver/\\evil.example/x"])
def test_next_cannot_smuggle_another_site_through_our_host(client, db, target):
    response = client.post(
        "/accounts/signup/", {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_usernames_with_at_cannot_pose_as_imported_authors(client, db):
    response = client.post(
        "/accounts/signup/", {"username": "bulwark@lemmy.world", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 200 and "without @" in response.content.decode()


def test_api_never_publishes_a_removed_comments_text(client, db):
    thread = make_thread()
    comment = make_comment(thread, body="Something a moderator removed")
    client.force_login(make_user("mod", staff=True))
    client.post(f"/comments/{comment.pk}/remove/")
    node = get_json(client, f"/api/threads/{thread.pk}/")["comments"][0]
    assert node["status"] == "removed" and node["body"] == "Removed by mod"


def test_an_import_keeps_votes_and_the_lock_set_meanwhile(db, seed_text):
    report = import_dump(seed_text, source="seed.txt", captured_at=CAPTURED_AT)
    Thread.objects.filter(pk=report.thread_id).update(local_upvotes=3, is_locked=True)
    later = seed_text.replace("    43\n", "    50\n")
    import_dump(later, source="later.txt", captured_at=CAPTURED_AT + timedelta(days=1))
    fresh = Thread.objects.get(pk=report.thread_id)
    assert fresh.local_upvotes == 3 and fresh.is_locked
    assert Comment.objects.get(author__name="bulwark").imported_upvotes == 50


HOSTILE_NAMES = ["../../admin", "//evil.example", "..", ".", "a/b/", "\\\\evil.example", "x?y#z", "a@b", "%2F", "..%2F"]


def assert_stays_on_the_profile(url):
    """A browser resolves the link to /u/<one segment>: no other path, no dot
    segment (browsers read "%2e" as "." too), no other host."""
    parts = urlsplit(urljoin("https://testserver/threads/1/slug/", url))
    assert (parts.scheme, parts.netloc) == ("https", "testserver")
    segments = parts.path.split("/")
    assert segments[:2] == ["", "u"] and len(segments) == 3, url
    assert unquote(segments[2]) not in {"", ".", ".."} and not parts.query and not parts.fragment, url


@pytest.mark.parametrize("instance", ["", "lemmy.world"])
def test_profile_links_of_hostile_names_lead_to_their_profiles(client, db, instance):
    thread = make_thread()
    people = [Person.objects.create(name=name, instance=instance) for name in HOSTILE_NAMES]
    for person in people:
        make_comment(thread, author=person, body=f"Words of {person.pk}.")
    page = client.get(f"{thread.get_absolute_url()}?all=1").content.decode()
    for person in people:
        url = person.get_absolute_url()
        assert_stays_on_the_profile(url)
        assert f'href="{escape(url)}">{escape(person.name)}</a>' in page
        response = client.get(url)
        assert response.status_code == 200, (person.name, url)
        assert response.context["person"] == person
        assert f"Words of {person.pk}." in response.content.decode()


def test_profile_handles_no_one_can_have_are_404(client, db):
    for url in ("/u/%00", "/u/a%00b@lemmy.world", "/u/..%00@", "/u/nobody@", "/u/%2F%2F"):
        assert client.get(url).status_code == 404, url


def test_member_links_survive_dot_names(client, db):
    for name in ("..", "."):
        client.force_login(make_user(name))
        url = parse_html(client.get("/").content.decode()).find("a", cls="username").attrs["href"]
        assert_stays_on_the_profile(url)
        response = client.get(url)
        assert response.status_code == 200 and response.context["person"].name == name
