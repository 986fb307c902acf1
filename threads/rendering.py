"""Write a page's comment tree as HTML, in plain Python.

Why not a template: the thread page is the site's hot path, and a Django
template per comment costs about 12x a plain-Python string join of the same
markup (72-92 ms against 6 ms for 1,000 comments; docs/performance.md). So
``threads.comment_tree`` reads and nests the rows and this module writes the
markup with f-strings.

Every value goes through ``html.escape`` (quotes included) except
``body_html``, which ``threads.markup`` sanitised when the comment was
written. The markup is the HTML contract in docs/web-contract.md, which the
front-end code relies on; keep the two in step.

What a comment shows and who may act on it come from the node's
``CommentRules``, the model's own; ``Viewer`` holds only what is the same
for every comment of one request.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from django.contrib.auth.models import AnonymousUser
from django.utils.safestring import mark_safe

from threads.dump.formats import BADGE_ORDER, NO_SCORE, SCORE_ONLY, UP_AND_DOWN, format_age
from threads.models import PLACEHOLDER_TEXT, Person

# The page's badge markup: (letters shown, what they mean on hover).
BADGE_LABELS = {
    "op": ("OP", "original poster"),
    "mod": ("M", "moderator"),
    "admin": ("A", "admin"),
    "bot": ("bot", "bot account"),
}


@dataclass
class Viewer:
    """What is the same for every comment of one request's page.

    ``can_reply`` is the thread's half of ``Comment.can_reply``; anonymous
    visitors get it too while the thread is open, because their reply link
    leads to the login page. ``votes`` maps comment ids (``None`` for the
    thread) to the member's vote.
    """

    now: datetime
    csrf_token: str
    user: object = field(default_factory=AnonymousUser)
    can_reply: bool = False
    votes: dict = field(default_factory=dict)
    new_id: int = None
    # Authors and times repeat within a thread (imports estimate times from
    # "5 months ago"), so their markup is written once per page.
    _pieces: dict = field(default_factory=dict, repr=False)

    def time_html(self, moment):
        key = ("time", moment)
        if key not in self._pieces:
            self._pieces[key] = time_html(moment, self.now)
        return self._pieces[key]

    def author_html(self, name, instance, instance_known=True):
        key = ("author", name, instance, instance_known)
        if key not in self._pieces:
            self._pieces[key] = " " + author_html(name, instance, instance_known)
        return self._pieces[key]


def author_html(name, instance, instance_known=True):
    """A link to the author's profile; an author the page hid is "unknown".

    An author of another instance whose host no page showed (older lemmy-ui)
    is shown by name alone, as those pages showed them."""
    if name is None:
        return '<span class="author unknown">unknown</span>'
    url = Person.profile_url(name, instance if instance_known else Person.UNKNOWN_HOST)
    html = f'<a class="author" href="{escape(url)}">{escape(name)}</a>'
    if instance and instance_known:
        html += f'<span class="instance">@{escape(instance)}</span>'
    return html


def time_html(moment, now):
    """A ``<time>`` with relative text and the absolute UTC time on hover."""
    moment = moment.astimezone(UTC)
    return (
        f'<time datetime="{moment.isoformat()}" title="{moment:%Y-%m-%d %H:%M} UTC">'
        f"{format_age((now - moment).total_seconds())}</time>"
    )


def vote_form_html(action, vote, csrf_token):
    """A vote form: buttons say which way the member voted, and pressing the
    pressed one again sends 0, which clears the vote."""
    up, down = vote == 1, vote == -1
    return (
        f'<form class="vote-form" method="post" action="{action}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        f'<button name="value" value="{0 if up else 1}" class="vote-up" aria-label="Upvote"'
        f' aria-pressed="{"true" if up else "false"}">▲</button>'
        f'<button name="value" value="{0 if down else -1}" class="vote-down" aria-label="Downvote"'
        f' aria-pressed="{"true" if down else "false"}">▼</button></form>'
    )


def score_html(upvotes, downvotes, votes_shown=UP_AND_DOWN):
    """The score, and the up and down votes where they are known: a page of
    older lemmy-ui showed the score only, and sometimes not even that."""
    if votes_shown == NO_SCORE:
        return '<span class="score unknown" data-score title="the captured page did not show it">?</span> points'
    score = upvotes - downvotes
    html = f'<span class="score" data-score>{score}</span> points'
    if votes_shown == SCORE_ONLY:
        return html
    return html + (
        f' <span class="votes">(+<span data-upvotes>{upvotes}</span>/−<span data-downvotes>{downvotes}</span>)</span>'
    )


def badge_html(name):
    letters, meaning = BADGE_LABELS[name]
    return f'<span class="badge badge-{name}" title="{meaning}">{letters}</span>'


def _badges_html(node):
    badges = set(node.badges.split(",")) if node.badges else set()
    if node.author_is_bot:
        badges.add("bot")
    return "".join(f" {badge_html(name)}" for name in BADGE_ORDER if name in badges)


def _head_html(node, viewer, parent_on_page):
    pk = node.pk
    state = " is-placeholder" if node.is_placeholder else f" is-{escape(node.status)}" if node.is_gone else ""
    if pk == viewer.new_id:
        state += " is-new"
    parts = [
        f'<li class="comment{state}" id="comment-{pk}" data-id="{pk}" data-depth="{node.level}"'
        f' data-parent="{node.parent_id or ""}"><details class="comment-fold" open>'
        f'<summary class="comment-head"><span class="visually-hidden">Level {node.level + 1}</span>'
    ]
    if not node.is_placeholder:
        parts.append(viewer.author_html(node.author_name, node.author_instance, node.author_instance_known))
        if node.badges or node.author_is_bot:
            parts.append(_badges_html(node))
        parts.append(" " + score_html(node.upvotes, node.downvotes, node.votes_shown))
        if node.created_at is not None:
            parts.append(" " + viewer.time_html(node.created_at))
        elif node.age_text:
            parts.append(f' <span class="age">{escape(node.age_text)}</span>')
        if node.edited_at is not None:
            parts.append(' <span class="edited">edited</span>')
    hidden = node.descendant_count
    if hidden:
        parts.append(f' <span class="hidden-count">{hidden} {"reply" if hidden == 1 else "replies"} hidden</span>')
    parts.append("</summary>")
    if node.is_placeholder:
        parts.append(f'<div class="comment-body"><p>{PLACEHOLDER_TEXT}</p></div>')
    elif node.is_gone:
        parts.append(f'<div class="comment-body"><p>{node.gone_text}</p></div>')
    else:
        parts.append(f'<div class="comment-body">{node.body_html}</div>')
    parts.append(_actions_html(node, viewer, parent_on_page))
    return "".join(parts)


def _actions_html(node, viewer, parent_on_page):
    pk = node.pk
    parts = ['<div class="comment-actions">']
    user = viewer.user
    if node.takes_votes:  # visitors get the buttons too: they lead to the login page
        parts.append(vote_form_html(f"/comments/{pk}/vote/", viewer.votes.get(pk, 0), viewer.csrf_token))
    if viewer.can_reply and node.takes_replies:
        parts.append(f' <a class="reply-link" href="/comments/{pk}/reply/">Reply</a>')
    parts.append(f' <a class="permalink" href="/comments/{pk}/">link</a>')
    if node.parent_id:
        page = "" if parent_on_page else f"/comments/{node.parent_id}/"
        parts.append(f' <a class="parent-link" href="{page}#comment-{node.parent_id}">parent</a>')
    if node.can_edit(user):  # can_delete is the same rule
        parts.append(
            f' <a class="edit-link" href="/comments/{pk}/edit/">edit</a>'
            f' <form class="delete-form" method="post" action="/comments/{pk}/delete/">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(viewer.csrf_token)}">'
            "<button>delete</button></form>"
        )
    if node.can_remove(user):
        parts.append(
            f' <form class="remove-form" method="post" action="/comments/{pk}/remove/">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(viewer.csrf_token)}">'
            "<button>remove</button></form>"
        )
    parts.append("</div>")
    return "".join(parts)


def _load_more_html(parent, hidden, page_root_id):
    href = "?all=1" if parent.pk == page_root_id else f"/comments/{parent.pk}/"
    label = "reply" if hidden == 1 else "replies"
    return f'<li class="load-more"><a href="{href}">load more {label} ({hidden})</a></li>'


def render_comments(roots, viewer, *, budget=None, page_root_id=None, roots_parents_shown=False):
    """Write the ``<li>`` items for ``roots`` and their subtrees, in order.

    A node whose replies were not fetched (the page's depth cut) gets a
    "continue this thread" link to its own page. Once ``budget`` comments
    are written, the rest of a sibling list becomes one "load more replies"
    link to the parent's page. Iterative, so no depth is too deep.
    ``roots_parents_shown`` says the roots' parents are on the page already
    (a new reply inserted under its parent), so "parent" links stay in-page.
    """
    out = []
    budget = float("inf") if budget is None else budget
    stack = [(None, iter(roots), "")]
    while stack:
        parent, children, closing = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            out.append(closing)
            continue
        if budget <= 0:
            stack.pop()
            if parent is not None:
                hidden = node.size + sum(sibling.size for sibling in children)
                out.append(_load_more_html(parent, hidden, page_root_id))
            out.append(closing)
            continue
        budget -= 1
        out.append(_head_html(node, viewer, parent_on_page=parent is not None or roots_parents_shown))
        if node.children:
            out.append('<ol class="comment-list">')
            stack.append((node, iter(node.children), "</ol></details></li>"))
        elif node.descendant_count:
            out.append(
                f'<a class="continue-thread" href="/comments/{node.pk}/">continue this thread</a></details></li>'
            )
        else:
            out.append("</details></li>")
    return mark_safe("".join(out))
