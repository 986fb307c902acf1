"""HTML pages and the form posts behind them.

Every state change is a POST with a CSRF token. A request that sends
``Accept: application/json`` (the page's JavaScript) gets JSON instead of a
redirect; the shapes are in docs/web-contract.md.
"""

from functools import partial

from django.contrib.auth import get_user_model, login
from django.http import Http404, HttpResponseBadRequest, HttpResponsePermanentRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from threads.comment_tree import fetch_nodes
from threads.forms import LockForm, ReplyForm, SignupForm, VoteForm
from threads.http import back_url, int_param, members_only, new_comment_url, wants_json, with_anchor
from threads.keyset import BadCursor, newest_first_page
from threads.listing import front_page
from threads.models import Comment, Person, Thread, split_handle
from threads.page_cache import LISTING, canonical_query, is_page_number, thread_scope, visitor_page
from threads.pages import subtree_comments, thread_comments, viewer_for
from threads.ranking import HOT, NEW, SORTS, TOP, parse_sort
from threads.ratelimit import client_key, ratelimit
from threads.rendering import render_comments
from threads.replies import check_can_reply, create_reply, delete_comment, edit_comment, remove_comment, set_locked
from threads.voting import cast_vote

HOME_SORTS = (HOT, NEW, TOP)
PROFILE_COMMENTS_PER_PAGE = 25


@require_GET
def home(request):
    sort = request.GET.get("sort") if request.GET.get("sort") in HOME_SORTS else HOT
    page = front_page(sort, request.GET.get("page"))
    context = {"threads": page, "page": page, "sort": sort, "sorts": HOME_SORTS}
    return visitor_page(
        request,
        lambda csrf_token: render(request, "threads/home.html", {**context, "csrf_token": csrf_token}),
        scopes=(LISTING,),
        # Only the page served: "?page=999" shows the last page but is not stored as it.
        cacheable=canonical_query(request, sort=HOME_SORTS.__contains__, page=str(page.number).__eq__),
    )


@require_GET
def thread_short(request, pk):
    return redirect(get_object_or_404(Thread, pk=pk), permanent=True)


@require_GET
def thread_detail(request, pk, slug):
    thread = get_object_or_404(Thread.objects.select_related("author"), pk=pk)
    if slug != thread.slug:
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(thread.get_absolute_url() + (f"?{query}" if query else ""))
    return visitor_page(
        request,
        partial(_thread_page, request, thread),
        scopes=(thread_scope(thread.pk),),
        version=thread.tree_version,
        cacheable=canonical_query(request, sort=SORTS.__contains__, page=is_page_number, all="1".__eq__),
    )


def _thread_page(request, thread, csrf_token):
    sort, now = parse_sort(request.GET.get("sort")), timezone.now()
    new_id = int_param(request.GET, "new")
    comments = thread_comments(
        thread, sort, now, page=int_param(request.GET, "page"), show_all="all" in request.GET, new_id=new_id
    )
    viewer = viewer_for(request, thread, now, csrf_token=csrf_token, new_id=new_id)
    context = {
        "thread": thread,
        "viewer": viewer,
        "sort": sort,
        "sorts": SORTS,
        "comments": comments,
        "comments_html": render_comments(comments.roots, viewer, budget=comments.budget),
        "form": ReplyForm(),
        "thread_vote": viewer.votes.get(None, 0),
        "can_lock": thread.can_lock(request.user),
        "csrf_token": csrf_token,
    }
    return render(request, "threads/thread.html", context)


@require_GET
def comment_detail(request, pk):
    comment = get_object_or_404(Comment.objects.select_related("thread", "author"), pk=pk)
    sort, now = parse_sort(request.GET.get("sort")), timezone.now()
    ancestors = list(comment.get_ancestors().values_list("pk", flat=True))
    comments = subtree_comments(comment, sort, now, show_all="all" in request.GET)
    viewer = viewer_for(
        request, comment.thread, now, csrf_token=get_token(request), new_id=int_param(request.GET, "new")
    )
    context = {
        "comment": comment,
        "thread": comment.thread,
        "sort": sort,
        "sorts": SORTS,
        "context_id": ancestors[-3] if len(ancestors) >= 3 else (ancestors[0] if ancestors else None),
        "comments_html": render_comments(comments.roots, viewer, budget=comments.budget, page_root_id=comment.pk),
    }
    return render(request, "threads/comment.html", context)


@require_GET
def profile(request, handle):
    """A person's comments, newest first, a keyset page at a time (``?after=``
    and ``?before=`` name the comment a page ends or starts at), with their
    karma: constant work per page however much they wrote."""
    if "\x00" in handle:
        # No name holds NUL, and PostgreSQL refuses to compare text with one.
        raise Http404("No such person.")
    try:
        person = Person.objects.with_karma().get_by_handle(handle)
        comments = person.comments.visible_on_profile().select_related("thread")
    except Person.DoesNotExist:
        # A member who has not written anything yet: shown, but nothing is stored for a GET.
        name, instance = split_handle(handle)
        if instance:
            raise Http404("No such person.") from None
        user = get_object_or_404(get_user_model(), username=name)
        person, comments = Person(name=user.username, user=user), Comment.objects.none()
        person.karma = 0
    try:
        page = newest_first_page(
            comments,
            "created_at",
            PROFILE_COMMENTS_PER_PAGE,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    except BadCursor:
        raise Http404("No such page of comments.") from None
    return render(request, "threads/profile.html", {"person": person, "page": page})


def _back_to_thread(request, pk):
    """Where a thread's own forms come back to: the thread, at its article."""
    return get_object_or_404(Thread, pk=pk).get_absolute_url(), "thread"


def _back_to_comment(request, pk):
    """Where a comment's forms come back to: its thread page, at the comment."""
    comment = get_object_or_404(Comment.objects.select_related("thread"), pk=pk)
    return comment.thread.get_absolute_url(), f"comment-{pk}"


def _back_home(request, pk):
    """Where a visitor's delete comes back to when its page is unknown."""
    return resolve_url("threads:home"), ""


@require_POST
@ratelimit("vote")
@members_only(come_back_to=_back_to_thread)
def thread_vote(request, pk):
    return _vote(request, Thread, pk, _back_to_thread)


@require_POST
@ratelimit("vote")
@members_only(come_back_to=_back_to_comment)
def comment_vote(request, pk):
    return _vote(request, Comment, pk, _back_to_comment)


def _vote(request, model, pk, back_to):
    """Votes are the busiest writes, so the JSON answer needs nothing but
    ``cast_vote``; only the no-JavaScript redirect looks up the page."""
    form = VoteForm(request.POST)
    if not form.is_valid():
        if wants_json(request):
            return JsonResponse({"errors": form.errors}, status=400)
        return HttpResponseBadRequest("A vote is 1 (up), -1 (down) or 0 (clear).", content_type="text/plain")
    try:
        result = cast_vote(request.user, model, pk, form.cleaned_data["value"])
    except model.DoesNotExist:
        raise Http404("Nothing to vote on here.") from None
    if wants_json(request):
        return JsonResponse(result.as_json())
    return redirect(back_url(request, *back_to(request, pk)))


@require_http_methods(["GET", "POST"])
@ratelimit("reply")
@members_only(come_back_to=_back_to_thread)
def thread_reply(request, pk):
    thread = get_object_or_404(Thread, pk=pk)
    return _reply(request, thread, None)


@require_http_methods(["GET", "POST"])
@ratelimit("reply")
@members_only(come_back_to=_back_to_comment)
def comment_reply(request, pk):
    parent = get_object_or_404(Comment.objects.select_related("thread", "author"), pk=pk)
    return _reply(request, parent.thread, parent)


def _reply(request, thread, parent):
    """The reply form and its post; a thread or comment that takes no reply
    from this member gets no form (``check_can_reply`` raises)."""
    check_can_reply(request.user, thread, parent)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        comment, created = create_reply(request.user, thread, parent and parent.pk, form.cleaned_data["body"])
        if wants_json(request):
            html = _comment_item_html(request, comment)
            return JsonResponse(
                {"id": comment.pk, "html": html, "parent_id": comment.parent_id, "duplicate": not created},
                status=201 if created else 200,
            )
        return redirect(new_comment_url(comment))
    if request.method == "POST" and wants_json(request):
        return JsonResponse({"errors": form.errors}, status=400)
    return render(request, "threads/reply.html", {"thread": thread, "parent": parent, "form": form})


def _comment_item_html(request, comment):
    """The new comment's ``<li>``, as the thread page would show it."""
    now = timezone.now()
    viewer = viewer_for(
        request, comment.thread, now, csrf_token=get_token(request), new_id=comment.pk, with_votes=False
    )
    return render_comments(fetch_nodes(Comment.objects.filter(pk=comment.pk)), viewer, roots_parents_shown=True)


@require_http_methods(["GET", "POST"])
@members_only()
@ratelimit("edit")
def comment_edit(request, pk):
    comment = get_object_or_404(_own_comments(request.user), pk=pk)
    form = ReplyForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        edit_comment(comment, request.user, form.cleaned_data["body"])
        return redirect(with_anchor(comment.thread.get_absolute_url(), f"comment-{pk}"))
    return render(request, "threads/edit.html", {"comment": comment, "thread": comment.thread, "form": form})


@require_POST
@members_only(come_back_to=_back_home)
@ratelimit("delete")
def comment_delete(request, pk):
    comment = get_object_or_404(_own_comments(request.user), pk=pk)
    delete_comment(comment, request.user)
    return _done(request, comment)


@require_POST
@members_only(come_back_to=_back_to_comment)
def comment_remove(request, pk):
    comment = get_object_or_404(Comment.objects.select_related("thread"), pk=pk)
    remove_comment(comment, request.user)
    return _done(request, comment)


@require_POST
@members_only(come_back_to=_back_to_thread)
def thread_lock(request, pk):
    thread = get_object_or_404(Thread, pk=pk)
    form = LockForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Send locked=1 or locked=0.", content_type="text/plain")
    set_locked(thread, request.user, form.cleaned_data["locked"])
    return redirect(back_url(request, thread.get_absolute_url(), "thread"))


@require_http_methods(["GET", "POST"])
@ratelimit("signup", identities=(client_key,))
def signup(request):
    if request.user.is_authenticated:
        return redirect("threads:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save(), backend="threads.auth.CachedModelBackend")
        return redirect(back_url(request, resolve_url("threads:home"), "", use_referer=False))
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


def _own_comments(user):
    """The member's own comments that are still shown: anyone else's, and
    their own deleted ones, are a 404, not a 403."""
    return Comment.objects.visible_on_profile().select_related("thread", "author").filter(author__user=user)


def _done(request, comment):
    """Answer a delete or remove: JSON for scripts, else back to the comment."""
    if wants_json(request):
        comment.refresh_from_db(fields=["status"])
        return JsonResponse({"id": comment.pk, "status": comment.status})
    return redirect(back_url(request, comment.thread.get_absolute_url(), f"comment-{comment.pk}"))
