"""Template tags that share their markup with the Python comment renderer,
so a thread's score, vote buttons and times look the same everywhere."""

from django import template
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
    return mark_safe(rendering.score_html(item.upvotes, item.downvotes))


@register.simple_tag(takes_context=True)
def vote_form(context, action, vote):
    """The vote form, its buttons pressed the way the member voted."""
    return mark_safe(rendering.vote_form_html(action, vote or 0, str(context["csrf_token"])))


@register.simple_tag
def query_with(request, **changes):
    """The request's query string with some parameters replaced (for paging)."""
    query = request.GET.copy()
    for name, value in changes.items():
        query[name] = value
    query.pop("new", None)
    return "?" + query.urlencode()
