"""Template tags: markup shared with the Python comment renderer (so a
thread's score, vote buttons and times look the same everywhere), and the
sort links and page links every list shows."""

from urllib.parse import urlencode

from django import template
from django.http import QueryDict
from django.utils import timezone
from django.utils.safestring import mark_safe

from threads import rendering
from threads.models import Person

register = template.Library()


@register.simple_tag
def time_tag(moment):
    """``<time>`` with "5 months ago" and the absolute UTC time on hover."""
    return mark_safe(rendering.time_html(moment, timezone.now())) if moment else ""


@register.simple_tag
def member_profile_url(user):
    return Person.profile_url(user.username, "")


@register.simple_tag
def score_tag(item):
    return mark_safe(rendering.score_html(item.upvotes, item.downvotes, item.votes_shown))


@register.simple_tag
def author_tag(person):
    """A thread's or a comment's author linked as comment heads link them."""
    return mark_safe(rendering.author_html(person.name, person.instance, person.instance_known)) if person else ""


@register.simple_tag
def badge_tag(name):
    """A badge (``op``, ``mod``, ``admin``, ``bot``) as comment heads show it."""
    return mark_safe(rendering.badge_html(name))


@register.simple_tag(takes_context=True)
def vote_form(context, action, vote):
    """The vote form, its buttons pressed the way the member voted."""
    return mark_safe(rendering.vote_form_html(action, vote or 0, str(context["csrf_token"])))


@register.inclusion_tag("threads/_sorts.html")
def render_sorts(sorts, current, *, css_class, label):
    """Links to this page in each of ``sorts``, ``current`` marked."""
    return {"sorts": sorts, "current": current, "css_class": css_class, "label": label}


@register.inclusion_tag("threads/_pagination.html")
def render_pagination(number, page_count, *, label, query=None, anchor="", all_link=False, **params):
    """Previous and next links around page ``number`` of ``page_count``.

    The links keep the parameters of ``query`` (a request's ``GET``) but
    ``new``, with ``params`` set on top (such as the page's sort), and end
    at ``#anchor``; ``all_link`` adds a link to the whole list (``all=1``).
    """
    base = query.copy() if query is not None else QueryDict(mutable=True)
    base.pop("new", None)
    for name, value in params.items():
        base[name] = value

    def url(**changes):
        link = base.copy()
        for name, value in changes.items():
            link[name] = value
        return f"?{link.urlencode()}" + (f"#{anchor}" if anchor else "")

    return {
        "label": label,
        "number": number,
        "page_count": page_count,
        "previous_url": url(page=number - 1) if number > 1 else None,
        "previous_text": "previous page",
        "next_url": url(page=number + 1) if number < page_count else None,
        "next_text": "next page",
        "all_url": url(all=1) if all_link else None,
    }


@register.inclusion_tag("threads/_pagination.html")
def render_cursor_pagination(page, *, label, newer_text, older_text):
    """Links to the pages before and after a keyset page (``threads.keyset``):
    no page numbers, which would need the rows counted."""
    previous, following = page.previous_cursor, page.next_cursor
    return {
        "label": label,
        "previous_url": f"?{urlencode({'before': previous})}" if previous else None,
        "previous_text": newer_text,
        "next_url": f"?{urlencode({'after': following})}" if following else None,
        "next_text": older_text,
    }
