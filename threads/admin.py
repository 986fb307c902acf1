"""The Django admin: threads, comments, people, votes, captures, and dump import.

Comment writes from the admin are tree writes like any other, so they take
the thread's tree lock (``tree_write``, docs/trees.md): django-mptt's own
admin takes none. Tree fields and the parent are never editable here; a
comment's place in the tree changes only through the importer.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.template.response import TemplateResponse
from django.urls import path
from mptt.admin import MPTTModelAdmin

from threads.forms import ImportDumpsForm
from threads.importer import import_or_refuse
from threads.markup import render_dump_text, render_markdown
from threads.models import Capture, Comment, Person, Thread, Vote
from threads.page_cache import thread_changed
from threads.trees import tree_write


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("title", "comment_count", "score_display", "is_locked", "created_at", "captured_at")
    list_filter = ("is_locked",)
    search_fields = ("title", "body")
    raw_id_fields = ("author",)
    readonly_fields = ("fingerprint", "comment_count", "local_upvotes", "local_downvotes", "captured_at")
    change_list_template = "admin/threads/thread/change_list.html"

    @admin.display(description="score")
    def score_display(self, thread):
        return thread.score

    def save_model(self, request, obj, form, change):
        if "body" in form.changed_data or not change:
            obj.body_html = render_dump_text(obj.body)
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_dumps_view)
        return [path("import/", view, name="threads_thread_import"), *super().get_urls()]

    def import_dumps_view(self, request):
        """Import uploaded dumps with the same importer as ``import_dump``:
        each file in its own transaction, a malformed one refused whole."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportDumpsForm(request.POST, request.FILES) if request.method == "POST" else ImportDumpsForm()
        limit_mb = settings.DUMP_UPLOAD_MAX_BYTES / 1024 / 1024
        results = [
            (False, f"{name}:0: larger than the {limit_mb:g} MB upload limit; nothing stored")
            for name in getattr(request, "refused_uploads", [])
        ]
        if request.method == "POST" and (form.is_valid() or results):
            uploads = form.cleaned_data.get("files", []) if form.is_valid() else []
            results += [self.import_one(upload, form.cleaned_data) for upload in uploads]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import dumps",
            "form": form,
            "results": results,
        }
        return TemplateResponse(request, "admin/threads/thread/import_dumps.html", context)

    def import_one(self, upload, options):
        """Return ``(ok, message)`` for one uploaded file: its report's
        summary and warnings, or the ``path:line: error`` that refused it."""
        report, refusal = import_or_refuse(
            upload.read(),
            source=upload.name,
            captured_at=options["captured_at"],
            instance=options["instance"],
            article_only=options["article_only"],
        )
        if refusal:
            return False, refusal
        return True, "\n".join([report.summary(), *(f"warning: {warning}" for warning in report.warnings)])


class CommentAdminForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = [
            "thread",
            "parent",
            "author",
            "origin",
            "status",
            "is_placeholder",
            "badges",
            "language",
            "body",
            "imported_upvotes",
            "imported_downvotes",
            "created_at",
            "edited_at",
        ]

    def clean(self):
        cleaned = super().clean()
        parent, thread = cleaned.get("parent"), cleaned.get("thread")
        if parent and thread and parent.thread_id != thread.pk:
            raise ValidationError({"parent": "The parent belongs to another thread."})
        return cleaned


@admin.register(Comment)
class CommentAdmin(MPTTModelAdmin):
    form = CommentAdminForm
    list_display = ("__str__", "thread", "status", "origin", "score_display", "created_at")
    list_filter = ("status", "origin", "is_placeholder")
    list_select_related = ("thread", "author")
    search_fields = ("body",)
    raw_id_fields = ("parent", "thread", "author")
    readonly_fields = ("local_upvotes", "local_downvotes", "tree_id", "lft", "rght", "level", "position")
    actions = ["remove_comments"]

    @admin.display(description="score")
    def score_display(self, comment):
        return comment.score

    def get_readonly_fields(self, request, obj=None):
        """Moving a saved comment would shift whole trees: not from here."""
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "thread", "parent") if obj else fields

    def get_actions(self, request):
        """Drop mptt's "delete selected", which deletes without our tree lock."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if "body" in form.changed_data or not change:
            obj.body_html = (render_markdown if obj.origin == Comment.Origin.LOCAL else render_dump_text)(obj.body)
        with tree_write(obj.thread_id):
            if not change:
                last = Comment.objects.filter(thread_id=obj.thread_id, parent=obj.parent).aggregate(
                    last=Max("position")
                )
                obj.position = 0 if last["last"] is None else last["last"] + 1
                if obj.parent_id:
                    obj.parent = Comment.objects.get(pk=obj.parent_id)  # fresh tree fields, read under the lock
            super().save_model(request, obj, form, change)
            if not change and not obj.is_placeholder:
                Thread.objects.filter(pk=obj.thread_id).update(comment_count=obj.thread.comments.real().count())

    def delete_model(self, request, obj):
        with tree_write(obj.thread_id):
            super().delete_model(request, Comment.objects.get(pk=obj.pk))
            Thread.objects.filter(pk=obj.thread_id).update(
                comment_count=Comment.objects.filter(thread_id=obj.thread_id).real().count()
            )

    def delete_queryset(self, request, queryset):
        for comment in queryset:
            self.delete_model(request, comment)

    @admin.action(description="Remove selected comments (moderator; replies stay)")
    def remove_comments(self, request, queryset):
        removed = queryset.filter(is_placeholder=False)
        thread_ids = set(removed.values_list("thread_id", flat=True))
        count = removed.update(status=Comment.Status.REMOVED)
        for thread_id in thread_ids:
            thread_changed(thread_id)
        self.message_user(request, f"Removed {count} comments.", messages.SUCCESS)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "instance", "is_bot", "user", "created_at")
    list_filter = ("is_bot",)
    search_fields = ("name", "instance", "user__username")
    raw_id_fields = ("user",)


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    """Read-only: a vote is its member's to cast or take back."""

    list_display = ("user", "thread", "comment", "value", "created_at")
    list_select_related = ("user", "thread")
    raw_id_fields = ("user", "thread", "comment")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Capture)
class CaptureAdmin(admin.ModelAdmin):
    list_display = (
        "source_name",
        "thread",
        "captured_at",
        "imported_at",
        "added",
        "updated",
        "unchanged",
        "placeholders",
    )
    list_select_related = ("thread",)
    raw_id_fields = ("thread",)
