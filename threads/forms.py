from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.db import transaction

from threads.dump.formats import FormatError, parse_host
from threads.models import Comment, Person
from threads.usernames import HELP_TEXT, validate_new_username
from threads.voting import VOTE_VALUES


class ReplyForm(forms.Form):
    """A member's Markdown text; thread, parent and author come from the URL
    and the session, never from the form."""

    body = forms.CharField(
        label="Your reply",
        max_length=Comment.MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: *emphasis*, [links](https://example.org), > quotes, `code`, lists.",
    )


class VoteForm(forms.Form):
    value = forms.TypedChoiceField(choices=[(value, value) for value in VOTE_VALUES], coerce=int)


class LockForm(forms.Form):
    locked = forms.TypedChoiceField(choices=[(1, "lock"), (0, "unlock")], coerce=lambda value: value == "1")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, (list, tuple)) and data:
            return [single_clean(item, initial) for item in data]
        return [single_clean(data or None, initial)]


class ImportDumpsForm(forms.Form):
    files = MultipleFileField(help_text="One or more dump files (.txt); each is imported in its own transaction.")
    captured_at = forms.DateTimeField(
        required=False, help_text="When the pages were captured (UTC, e.g. 2024-11-19 12:00); default: now."
    )
    instance = forms.CharField(
        required=False, max_length=253, help_text="Host of the instance that rendered the pages."
    )
    article_only = forms.BooleanField(
        required=False,
        label="Article only",
        help_text="The files have no comments: lines that look like comments without their metadata are article text.",
    )

    def clean_instance(self):
        instance = self.cleaned_data["instance"]
        if not instance.strip():
            return ""
        try:
            return parse_host(instance)
        except FormatError as error:
            raise forms.ValidationError(str(error)) from None


class SignupForm(UserCreationForm):
    """Sign-up that also gives the member their ``Person``, under a name that
    cannot pass for anyone already here (``threads.usernames``)."""

    class Meta(UserCreationForm.Meta):
        help_texts = {"username": HELP_TEXT}

    def clean_username(self):
        username = super().clean_username()
        if username is None:
            # Django has already put "taken" on the field; say nothing more.
            return username
        validate_new_username(username)
        return username

    @transaction.atomic
    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            Person.objects.create(user=user, name=user.username)
        return user
