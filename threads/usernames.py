"""Which names a new member may take, beyond Django's own username rules.

A member's profile and every comment they write show the bare name, beside
imported authors shown the same way, so a new name must not pass for one
that is already here. Unicode's confusables table (UTS #39), as the
maintained ``confusable_homoglyphs`` package ships it, decides what looks
alike; nothing here lists look-alikes itself.

- A name must not mix scripts with letters that pass for another script's
  ("аdmin" with a Cyrillic а), as django-registration refuses; the mixes
  UTS #39 allows within one name (Japanese, Chinese with Bopomofo, Korean)
  stay allowed.
- It must not look like a member's name or a name imported authors of this
  site's own instance show (``Person`` rows with no instance): two names
  look alike when their skeletons match, after NFKC, case folding and
  mapping each character to its confusables prototype ("Аce" in Cyrillic
  and "ace", "rnike" and "mike", "admIn" and "admln").

Each sign-up compares the skeleton with every such name: fine for the
members and authors a forum has; a stored skeleton column is the step beyond.
"""

import unicodedata
from functools import cache

from confusable_homoglyphs import categories, confusables
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from threads.models import Person

HELP_TEXT = (
    "Required. 150 characters or fewer: letters, digits and . + - _ (no @), in one script, "
    "and not a name that looks like one already here."
)
# Scripts one name may mix (UTS #39's "highly restrictive" level), besides
# Common and Inherited characters such as digits, punctuation and accents.
SCRIPT_FAMILIES = ({"HAN", "HIRAGANA", "KATAKANA"}, {"HAN", "BOPOMOFO"}, {"HAN", "HANGUL"})


def validate_new_username(username):
    """Raise ``ValidationError`` unless ``username`` (already past Django's
    validators, which allow "@") may be taken by a new member."""
    if "@" in username:
        raise ValidationError("Use a name without @: name@host is how imported authors are shown.")
    if mixes_confusable_scripts(username):
        raise ValidationError("Use letters of one script: this name mixes scripts that can pass for each other.")
    local_authors = Person.objects.imported().filter(instance="").values_list("name", flat=True)
    if local_authors.filter(name__iexact=username).exists():
        raise ValidationError("That name belongs to an imported author; please choose another.")
    keys = skeletons(username)
    members = get_user_model().objects.values_list("username", flat=True)
    if any(keys & skeletons(name) for names in (members, local_authors) for name in names.iterator()):
        raise ValidationError("That name looks too much like one already here; please choose another.")


def mixes_confusable_scripts(name):
    scripts = categories.unique_aliases(name) - {"COMMON", "INHERITED"}
    if len(scripts) < 2 or any(scripts <= family for family in SCRIPT_FAMILIES):
        return False
    return bool(confusables.is_confusable(name))


def skeletons(name):
    """UTS #39 skeletons of the name as written and case-folded first, so
    that both "Admin"/"admin" and "admIn"/"admln" match."""
    return {skeleton(name), skeleton(name.casefold())}


def skeleton(text):
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    return unicodedata.normalize("NFD", "".join(map(prototype, text))).casefold()


@cache
def prototype(char):
    """What the confusables table maps ``char`` to (``char`` if nothing).

    The package lists each character's look-alikes both ways: a character
    that maps to a prototype lists just that one, a prototype lists all that
    map to it. A pair listing only each other keeps its smaller member, so
    both map the same way.
    """
    alikes = _look_alikes(char)
    if len(alikes) != 1:
        return char
    (alike,) = alikes
    if len(alike) == 1 and _look_alikes(alike) == [char]:
        return min(char, alike)
    return alike


def _look_alikes(char):
    found = confusables.is_confusable(char, greedy=True)
    return [glyph["c"] for glyph in found[0]["homoglyphs"]] if found else []
