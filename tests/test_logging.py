"""Production errors reach the log: one JSON line per record on stderr, with
the request it belongs to and any traceback, and error mail to ADMINS."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.db import connections
from django.db.utils import OperationalError
from django.test import Client

from tests.factories import make_comment, make_thread, make_user
from tests.test_outages import lost_connection

ROOT = Path(__file__).resolve().parent.parent
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def stderr_lines():
    """What the configured stderr handler writes, as parsed lines."""
    from forum.logs import JSONFormatter

    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JSONFormatter))
    written = io.StringIO()
    previous = handler.setStream(written)

    def lines():
        return [json.loads(line) for line in written.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.org")]
    return Client(raise_request_exception=False)


@pytest.fixture
def member(db):
    return make_user("lena")


@pytest.fixture
def comment(db):
    return make_comment(make_thread())


def test_an_error_is_one_json_line_with_its_request_member_and_traceback(production, member, comment, stderr_lines):
    production.force_login(member)
    with mock.patch("threads.views.cast_vote", side_effect=RuntimeError("boom")):
        response = production.post(f"/comments/{comment.pk}/vote/", {"value": 1}, **JSON)
    assert response.status_code == 500
    assert "boom" not in response.content.decode()  # the traceback goes to the log, never to the member
    [error] = [line for line in stderr_lines() if line["level"] == "ERROR"]
    assert error["logger"] == "django.request"
    assert (error["method"], error["path"], error["status"]) == ("POST", f"/comments/{comment.pk}/vote/", 500)
    assert error["user_id"] == str(member.pk)
    assert error["traceback"].startswith("Traceback") and "RuntimeError: boom" in error["traceback"]
    assert error["time"].endswith("+00:00")


def test_records_logged_while_serving_name_the_request(production, db, stderr_lines):
    with mock.patch.object(connections["default"], "ensure_connection", side_effect=OperationalError("refused")):
        assert production.get("/readyz/").status_code == 503
    lines = stderr_lines()
    [cause] = [line for line in lines if line["logger"] == "forum.views"]
    assert (cause["level"], cause["method"], cause["path"]) == ("WARNING", "GET", "/readyz/")
    assert "refused" in cause["message"] and "user_id" not in cause
    [answer] = [line for line in lines if line["logger"] == "django.request"]
    assert answer["status"] == 503


def test_only_errors_with_a_traceback_are_mailed_to_admins(production, member, comment):
    production.force_login(member)
    with mock.patch("threads.views.cast_vote", side_effect=RuntimeError("boom")):
        production.post(f"/comments/{comment.pk}/vote/", {"value": 1})
    assert [message.to for message in mail.outbox] == [["ops@example.org"]]
    assert "boom" in mail.outbox[0].body
    with mock.patch("threads.views.cast_vote", side_effect=lost_connection()):
        assert production.post(f"/comments/{comment.pk}/vote/", {"value": 1}).status_code == 503
    with mock.patch.object(connections["default"], "ensure_connection", side_effect=lost_connection()):
        assert production.get("/readyz/").status_code == 503
    assert len(mail.outbox) == 1  # outages are answered on purpose, not mailed per request


def settings_value(expression, env):
    return subprocess.run(
        [sys.executable, "-c", f"from forum import settings; print({expression})"],
        env={"PATH": os.environ["PATH"], "DJANGO_DEBUG": "1", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_level_and_admins_come_from_the_environment():
    levels = settings_value("(settings.LOGGING['root']['level'], settings.LOGGING['loggers']['django']['level'])", {})
    assert levels.stdout.strip() == "('INFO', 'INFO')"
    assert settings_value("settings.LOGGING['root']['level']", {"DJANGO_LOG_LEVEL": "warning"}).stdout.strip() == (
        "WARNING"
    )
    admins = settings_value("settings.ADMINS", {"DJANGO_ADMINS": '"Ops, Night" <ops@example.org>, dev@example.org'})
    assert admins.stdout.strip() == "[('Ops, Night', 'ops@example.org'), ('', 'dev@example.org')]"
    assert settings_value("settings.ADMINS", {}).stdout.strip() == "[]"
    for env, complaint in (
        ({"DJANGO_LOG_LEVEL": "loud"}, "DJANGO_LOG_LEVEL"),
        ({"DJANGO_ADMINS": "ops"}, "DJANGO_ADMINS"),
    ):
        refused = settings_value("1", env)
        assert refused.returncode != 0 and complaint in refused.stderr
