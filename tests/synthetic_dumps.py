"""Deterministic, realistic synthetic Lemmy thread dumps for tests and benchmarks.

The two real seed dumps are tiny (15 and 3 comments). Tests that exercise the parser,
the importer and the thread page on big or awkward trees need dumps that look
like the seeds (badges, metadata, typographic characters, lists glued to the
next header) and that are valid per docs/dump-format.md. So the generator
draws the parser's own ``DumpComment`` objects and prints them with
``threads.dump.writer``, the parser's exact inverse. Dumps must also be
reproducible: the same arguments always give the same text, because a
failing test or a benchmark must be re-runnable exactly.

All randomness comes from one ``random.Random`` subclass seeded with ``seed``;
nothing here touches the global generator, the clock or hash ordering.
"""

import argparse
import random
import sys
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from threads.dump.formats import BULLET, DELETED_TEXT, REMOVED_TEXT, format_age
from threads.dump.parsed import DumpComment
from threads.dump.writer import dump_lines

TOP_LEVEL_RATE = 0.1
NBSP = "\u00a0"

# Share of a thread's replies that answer the newest comment (a chain) rather
# than an ancestor of it (a bushy fork). Drawn once per top-level comment so a
# dump holds both long back-and-forth chains and wide flat discussions.
CHAIN_TENDENCIES = (0.2, 0.35, 0.5, 0.65, 0.8)
# Comment bodies hold 1, 2, 3 or 4 paragraphs 58, 26, 11 and 5% of the time.
PARAGRAPH_COUNT_CUMULATIVE_PERCENT = (58, 84, 95)


@dataclass(frozen=True)
class LanguageProfile:
    """Which native language names an author shows, with cumulative weights.

    None stands for no language line: undetermined, or software such as
    kbin, mbin or Mastodon that sends none (dump-format §6).
    """

    names: tuple
    cumulative_weights: tuple

    @classmethod
    def of(cls, *weighted_names):
        names, weights = zip(*weighted_names)
        return cls(names, tuple(accumulate(weights)))

    def pick(self, rng):
        """Draw one language name (or None) for a comment."""
        cumulative = self.cumulative_weights
        return self.names[bisect(cumulative, rng.random() * cumulative[-1])]


ENGLISH = LanguageProfile.of(("English", 94), (None, 6))
GERMAN = LanguageProfile.of(("Deutsch", 55), ("English", 45))
FRENCH = LanguageProfile.of(("Français", 65), ("English", 35))
FINNISH = LanguageProfile.of(("suomi", 40), ("English", 60))
JAPANESE = LanguageProfile.of(("日本語", 60), ("English", 40))
NO_LANGUAGE = LanguageProfile.of((None, 1))
# (host, selection weight, language profile of its people)
HOSTS = (
    ("lemmy.world", 30, ENGLISH),
    ("lemm.ee", 12, ENGLISH),
    ("sh.itjust.works", 9, ENGLISH),
    ("lemmy.ml", 7, ENGLISH),
    ("programming.dev", 5, ENGLISH),
    ("beehaw.org", 4, ENGLISH),
    ("lemmy.ca", 4, ENGLISH),
    ("lemmy.dbzer0.com", 3, ENGLISH),
    ("lemmy.today", 2, ENGLISH),
    ("lemmy.zip", 2, ENGLISH),
    ("lemmy.blahaj.zone", 2, ENGLISH),
    ("slrpnk.net", 2, ENGLISH),
    ("infosec.pub", 2, ENGLISH),
    ("ttrpg.network", 1, ENGLISH),
    ("startrek.website", 1, ENGLISH),
    ("aussie.zone", 1, ENGLISH),
    ("feddit.uk", 1, ENGLISH),
    ("reddthat.com", 1, ENGLISH),
    ("kbin.run", 3, NO_LANGUAGE),
    ("fedia.io", 2, NO_LANGUAGE),
    ("mastodon.social", 1, NO_LANGUAGE),
    ("feddit.de", 4, GERMAN),
    ("discuss.tchncs.de", 3, GERMAN),
    ("jlai.lu", 2, FRENCH),
    ("sopuli.xyz", 2, FINNISH),
    ("lemmy.juggler.jp", 1, JAPANESE),
)

# Word tables, laid out by hand.
# fmt: off
NAME_WORDS = (
    "otter", "pixel", "toast", "marmot", "cactus", "badger", "comet", "walrus",
    "pickle", "raven", "tofu", "moss", "lantern", "gecko", "noodle", "falcon",
    "kettle", "turnip", "ferret", "quartz", "biscuit", "yak", "mango", "parsnip",
    "heron", "static", "ember", "goblin", "wombat", "kernel", "fjord", "puffin",
    "teapot", "orbit", "radish", "beacon", "nomad", "sprocket", "gravy", "lynx",
)
NAME_ADJECTIVES = (
    "quiet", "grumpy", "lazy", "cosmic", "rusty", "sleepy", "angry", "tiny",
    "feral", "salty", "sneaky", "humble", "dapper", "wobbly", "chaotic", "mellow",
    "spicy", "fuzzy", "stoic", "nervous", "lucky", "polite", "crispy", "weird",
)
NAME_SYLLABLES = (
    "ka", "zer", "ush", "mul", "ko", "bra", "vin", "tal", "dor", "ix", "el", "ra",
    "nu", "sen", "gar", "lo", "mi", "pha", "qui", "th", "an", "os", "ry", "bel",
)
DISPLAY_NAMES = (
    "Chaotic Cookie", "Grumpy Old Sysadmin", "Uncle Bob", "Mila ✨", "Jörg Baumann",
    "The Real Slim Lemming", "Toes♀", "Ольга К.", "Captain Obvious", "Sir Reginald",
)
DISPLAY_NAMES_WITH_SEMICOLON = ("not;a;robot", "Semi;Colon", "TL;DR Enjoyer")
BOTS = (
    ("AutoTL;DR", "lemmings.world"),
    ("PipedLinkBot", "feddit.rocks"),
    ("ArchiveBot", "lemmy.world"),
)

TOPICS = (
    {
        "people": (
            "NASA", "SpaceX", "the European Space Agency", "Blue Origin", "the mission director",
            "Senator Hale",
        ),
        "places": ("Florida", "Kourou", "Houston", "Baikonur", "orbit"),
        "nouns": (
            "rocket", "launch", "satellite", "booster", "mission", "contractor", "heat shield",
            "budget",
        ),
    },
    {
        "people": (
            "the Rust project", "Mozilla", "GitHub", "the kernel maintainers", "Microsoft",
            "the Python steering council",
        ),
        "places": ("the Linux kernel", "the standard library", "Debian", "CI", "the issue tracker"),
        "nouns": (
            "compiler", "maintainer", "license", "dependency", "release", "benchmark", "patch",
            "regression",
        ),
    },
    {
        "people": (
            "the city council", "Deutsche Bahn", "Amtrak", "the transit authority", "Mayor Okafor",
            "the rail union",
        ),
        "places": ("Berlin", "Chicago", "Lyon", "Toronto", "the suburbs"),
        "nouns": (
            "train", "bus lane", "ticket", "station", "bike lane", "commuter", "timetable",
            "tram line",
        ),
    },
    {
        "people": (
            "the European Parliament", "the Senate", "the opposition leader",
            "the electoral commission", "Prime Minister Varga", "the coalition",
        ),
        "places": ("Brussels", "Ohio", "Helsinki", "the capital", "rural districts"),
        "nouns": (
            "vote", "candidate", "poll", "coalition", "ballot", "referendum", "campaign", "debate",
        ),
    },
    {
        "people": (
            "Valve", "Nintendo", "Bethesda", "the publisher", "the studio head",
            "the modding community",
        ),
        "places": ("Steam", "the Switch", "the launcher", "early access", "the forums"),
        "nouns": (
            "patch", "console", "launcher", "sequel", "mod", "controller", "season pass",
            "remaster",
        ),
    },
    {
        "people": (
            "the Met Office", "the IPCC", "the water utility", "farmers’ groups",
            "Professor Lindqvist", "the environment ministry",
        ),
        "places": ("southern Spain", "Texas", "the Alps", "the Murray basin", "Provence"),
        "nouns": (
            "heatwave", "drought", "reservoir", "forecast", "harvest", "wildfire", "heat pump",
            "flood barrier",
        ),
    },
    {
        "people": (
            "the Lemmy developers", "Mastodon", "Meta", "the instance admins", "the moderators",
            "the fediverse",
        ),
        "places": (
            "lemmy.world", "Threads", "the fediverse", "small instances", "the federation queue",
        ),
        "nouns": (
            "instance", "server", "moderator", "community", "defederation", "admin", "upvote",
            "bot",
        ),
    },
    {
        "people": (
            "the central bank", "landlords", "the housing minister", "tenant unions",
            "the developers", "Governor Reyes",
        ),
        "places": ("Dublin", "Vancouver", "Amsterdam", "Melbourne", "the inner city"),
        "nouns": (
            "rent", "mortgage", "tenant", "landlord", "interest rate", "apartment", "zoning law",
            "building permit",
        ),
    },
)
# fmt: on

ADJECTIVES = (
    "new",
    "huge",
    "tiny",
    "ridiculous",
    "predictable",
    "expensive",
    "reasonable",
    "broken",
    "unprecedented",
    "boring",
    "dangerous",
    "overdue",
    "controversial",
    "symbolic",
    "temporary",
    "impressive",
    "bizarre",
    "sensible",
    "messy",
    "quiet",
)
SUBJECTS = (
    "I",
    "We",
    "They",
    "Most people",
    "Nobody",
    "Everyone I know",
    "My neighbour",
    "The article",
    "This",
    "Half the comments here",
    "The mods",
    "My brother-in-law",
    "Someone on here",
    "Anyone with a brain",
    "The whole industry",
    "My old boss",
)
PREDICATES = (
    "said",
    "never cared about",
    "always complained about",
    "kept talking about",
    "ended up paying for",
    "could not explain",
    "will probably ignore",
    "already warned about",
    "pointed out",
    "didn’t expect",
    "wouldn’t trust",
    "couldn’t care less about",
    "underestimated",
    "wrote a whole thread about",
    "saw right through",
    "voted against",
    "should have seen",
    "got burned by",
    "kept defending",
    "tried to fix",
)
FUTURE_VERBS = (
    "cut",
    "expand",
    "review",
    "replace",
    "delay",
    "fund",
    "scrap",
    "double",
    "rethink",
    "approve",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PERIODS = ("week", "month", "year", "summer", "winter", "time")
OPENERS = (
    "Honestly, ",
    "Tbh ",
    "Well, ",
    "Yeah, ",
    "Not gonna lie, ",
    "IMO ",
    "Fun fact: ",
    "Counterpoint: ",
    "So ",
    "",
)
ENDINGS = (".", ".", ".", ".", "?", "!", "…")
REACTIONS = (
    "This.",
    "Lol",
    "Source?",
    "Fair point.",
    "Came here to say this.",
    "Underrated comment.",
    "Yikes.",
    "Thanks, TIL.",
    "Can confirm.",
    "Why is this downvoted?",
    "Same here.",
    "xD",
    "Big if true.",
    "¯\\_(ツ)_/¯",
    "Username checks out.",
    "Oof.",
    "100% this.",
)
# Untrusted text that a renderer must escape; the dump keeps it verbatim.
MARKUP_SNIPPETS = (
    "<script>alert('pwned')</script>",
    "if a < b && b > c",
    "Tom & Jerry",
    "AT&T",
    "<b>not bold</b>",
    "&amp; friends",
    "x<y>z",
    "<!-- hidden -->",
    "<img src=x onerror=alert(1)>",
)
LIST_LEADS = (
    "It’s stored in my head in this fashion:",
    "A few things to keep in mind:",
    "My list, in no particular order:",
    "Off the top of my head:",
    "Pros and cons:",
    "What actually happened:",
    "Short version:",
)
EDIT_NOTES = (
    "Edit: Flipped the names. They are now correct.",
    "Edit: typo.",
    "Edit: thanks for the award, kind stranger.",
    "Edit: fixed the link.",
    "Edit: I stand corrected, see below.",
)
URL_TEMPLATES = (
    "https://example.org/wiki/Page",
    "https://en.wikipedia.org/wiki/{Word}",
    "https://github.com/{word}/{word}/issues/{number}",
    "https://www.example.com/news/2024/jun/19/{word}-{word}-{word}",
    "https://archive.ph/{word}{number}",
)


@dataclass(frozen=True)
class Author:
    """One person as a header shows them, with their usual comment language."""

    name: str
    host: str
    badges: tuple
    languages: LanguageProfile

    @property
    def is_bot(self):
        return "bot" in self.badges


class _QuickRandom(random.Random):
    """A seeded ``random.Random`` whose ``choice`` and ``randint`` scale one float.

    The stock methods draw integers through a rejection loop that made up
    about half of the generation time; a float index is unbiased enough for
    test data and keeps 100,000 comments well under the time budget.
    """

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))


def _weighted_picker(rng, items, weights):
    """Return a zero-argument function drawing from ``items`` with ``weights``."""
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    random_float = rng.random
    return lambda: items[bisect(cumulative, random_float() * total)]


def _badges(*, op=False, moderator=False, admin=False, bot=False):
    """Badge names in lemmy-ui's fixed order: op, mod, admin, bot."""
    flags = ((op, "op"), (moderator, "mod"), (admin, "admin"), (bot, "bot"))
    return tuple(name for present, name in flags if present)


def _plural(noun):
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


class _TextMaker:
    """Sentences, paragraphs and bodies on one topic, drawn from one generator.

    Comment paragraphs combine sentences from a pool made once per thread:
    composing every sentence afresh was most of the cost of a big dump, and
    bodies still differ because each one draws its own combination.
    """

    def __init__(self, rng, sentence_pool_size):
        self.rng = rng
        topic = rng.choice(TOPICS)
        self.people = topic["people"]
        self.places = topic["places"]
        self.nouns = topic["nouns"]
        self.sentences = [self._new_sentence() for _ in range(sentence_pool_size)]

    def _thing(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return f"the {rng.choice(ADJECTIVES)} {rng.choice(self.nouns)}"
        if roll < 0.5:
            return rng.choice(self.people)
        if roll < 0.65:
            return f"the {rng.choice(self.nouns)} in {rng.choice(self.places)}"
        if roll < 0.8:
            return f"{rng.randint(2, 90)} {_plural(rng.choice(self.nouns))}"
        if roll < 0.9:
            adjective = rng.choice(ADJECTIVES)
            article = "an" if adjective[0] in "aeiou" else "a"
            return f"{article} “{adjective} {rng.choice(self.nouns)}”"
        return f"every {rng.choice(self.nouns)} they could find"

    def _clause(self):
        rng = self.rng
        subject = rng.choice(SUBJECTS)
        if subject != "I":
            subject = subject[0].lower() + subject[1:]
        return f"{subject} {rng.choice(PREDICATES)} {self._thing()}"

    def _tail(self):
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return ""
        if roll < 0.5:
            return f" last {rng.choice(PERIODS)}"
        if roll < 0.6:
            return f" in {rng.randint(1961, 2024)}"
        if roll < 0.7:
            return f", which is {rng.choice(ADJECTIVES)}"
        if roll < 0.8:
            return f" because {self._clause()}"
        if roll < 0.88:
            return f" – {self._clause()}"
        if roll < 0.95:
            return f", according to {rng.choice(self.people)}"
        return f" and {rng.choice(MARKUP_SNIPPETS)}"

    def _new_sentence(self):
        """Return one chatty sentence, with the odd contraction, quote or NBSP."""
        rng = self.rng
        text = rng.choice(OPENERS) + self._clause() + self._tail()
        text = text[0].upper() + text[1:]
        if rng.random() < 0.04:
            text = text.replace(" ", NBSP + " ", 1)
        return text + rng.choice(ENDINGS)

    def news_sentence(self):
        """Return one sentence in the register of the article (press style)."""
        rng = self.rng
        person = rng.choice(self.people)
        roll = rng.random()
        if roll < 0.3:
            text = (
                f"{person} said on {rng.choice(WEEKDAYS)} it would {rng.choice(FUTURE_VERBS)} "
                f"{self._thing()}{self._tail()}."
            )
        elif roll < 0.5:
            quote = self._clause()
            text = f"“{quote[0].upper()}{quote[1:]},” {person} said in a statement."
        elif roll < 0.7:
            text = (
                f"The {rng.choice(self.nouns)} follows {rng.randint(2, 30)} months of talks "
                f"over {self._thing()}, according to {rng.choice(self.people)}."
            )
        elif roll < 0.85:
            text = f"Critics called the plan “{rng.choice(ADJECTIVES)}” and warned that {self._clause()}."
        else:
            text = f"In {rng.randint(1961, 2024)}, {person} {rng.choice(PREDICATES)} {self._thing()}."
        return text[0].upper() + text[1:]

    def title_sentence(self):
        """Return an article's first sentence, short enough to serve as a title."""
        sentence = self.news_sentence()
        while len(sentence) >= 150:
            sentence = self.news_sentence()
        return sentence

    def article_paragraph(self, sentence_count):
        """Return a press paragraph; some carry the NBSP-plus-space pairs of the seeds."""
        rng = self.rng
        text = " ".join(self.news_sentence() for _ in range(sentence_count))
        if rng.random() < 0.4:
            words = text.split(" ")
            for _ in range(rng.randint(1, 4)):
                position = rng.randrange(len(words) - 1)
                words[position] += NBSP
            text = " ".join(words)
        return text

    def paragraph(self, sentence_count):
        """Return a comment paragraph of ``sentence_count`` sentences."""
        choice = self.rng.choice
        return " ".join([choice(self.sentences) for _ in range(sentence_count)])

    def url(self):
        """Return a bare URL as it survives conversion: only when it was the link text."""
        rng = self.rng
        template = rng.choice(URL_TEMPLATES)
        while "{" in template:
            word = rng.choice(self.nouns).replace(" ", "_")
            template = (
                template.replace("{Word}", word.capitalize(), 1)
                .replace("{word}", word.replace("_", "-"), 1)
                .replace("{number}", str(rng.randint(1, 99999)), 1)
            )
        return template

    def list_item(self):
        """Return the text of one list item (a phrase, sometimes a full sentence)."""
        rng = self.rng
        text = self._thing() if rng.random() < 0.5 else self._clause() + rng.choice(("", ".", ";"))
        return text[0].upper() + text[1:]


class _ThreadMaker:
    """Draw one dump: an article, then comments in pre-order, each at its depth."""

    def __init__(self, rng, max_depth, gap_rate, sentence_pool_size):
        self.rng = rng
        self.max_depth = max_depth
        self.gap_rate = gap_rate
        self.text = _TextMaker(rng, sentence_pool_size)
        # The article's lines (paragraphs, blank separators, list items), and its paragraphs alone.
        self.article_lines = []
        self.article = []
        self._build_authors()
        self.thread_age = self._thread_age()

    def _build_authors(self):
        """Draw a few hundred people: mostly remote, some display names, locals, one OP."""
        rng = self.rng
        pick_host = _weighted_picker(rng, HOSTS, [weight for _, weight, _ in HOSTS])
        pool_size = rng.randint(250, 400)
        names, hosts, language_profiles = [], [], []
        seen = set()
        while len(names) < pool_size:
            host, _, language_profile = pick_host()
            name = self._username()
            if (name, host) not in seen:
                seen.add((name, host))
                names.append(name)
                hosts.append(host)
                language_profiles.append(language_profile)

        positions = rng.sample(range(pool_size), 15)
        display_names = [*rng.sample(DISPLAY_NAMES, 4), rng.choice(DISPLAY_NAMES_WITH_SEMICOLON)]
        for position, display_name in zip(positions[:5], display_names):
            names[position] = display_name
        local_positions = positions[5 : 5 + rng.randint(4, 10)]
        for position in local_positions:
            hosts[position] = None
            language_profiles[position] = ENGLISH
        admins = set(local_positions[: rng.randint(1, 2)])
        remote_positions = [position for position in range(pool_size) if hosts[position]]
        op = rng.choice(remote_positions)
        moderators = set(rng.sample(remote_positions, rng.randint(1, 3)))
        if rng.random() < 0.2:
            moderators.add(op)

        self.authors = []
        for position in range(pool_size):
            badges = _badges(op=position == op, moderator=position in moderators, admin=position in admins)
            self.authors.append(Author(names[position], hosts[position] or "", badges, language_profiles[position]))
        # A few people write most comments, as on any forum; the OP answers a lot.
        weights = [1 / (rank + 5) ** 0.9 for rank in range(pool_size)]
        rng.shuffle(weights)
        weights[op] = max(weights) * 1.5
        self.pick_author = _weighted_picker(rng, self.authors, weights)
        self.bots = [Author(name, host, _badges(bot=True), ENGLISH) for name, host in BOTS]

    def _username(self):
        """Return a Lemmy-valid username (``[a-zA-Z0-9_]{3,}``).

        Every style ends in a lower-case letter or a digit, so when a local
        name gets a glued admin ``A`` the parser can split it off (dump-format A6).
        """
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return rng.choice(NAME_ADJECTIVES) + rng.choice(NAME_WORDS).capitalize()
        if roll < 0.5:
            return f"{rng.choice(NAME_WORDS)}_{rng.choice(NAME_WORDS)}"
        if roll < 0.7:
            return f"{rng.choice(NAME_WORDS)}{rng.randint(1, 2024)}"
        syllables = "".join(rng.choice(NAME_SYLLABLES) for _ in range(rng.randint(2, 4)))
        return syllables.capitalize() if rng.random() < 0.6 else syllables

    def _thread_age(self):
        """Return the post's age in seconds: mostly months, some hours, days or years."""
        rng = self.rng
        hour, day = 3600, 86400
        roll = rng.random()
        if roll < 0.1:
            return rng.randint(2 * hour, 20 * hour)
        if roll < 0.35:
            return rng.randint(2 * day, 28 * day)
        if roll < 0.85:
            return rng.randint(35 * day, 340 * day)
        return rng.randint(370 * day, 900 * day)

    def _comment_age(self, parent_age):
        """Return a comment's age in seconds, younger than its parent (or the post).

        Most replies come within hours; a few arrive weeks later.
        """
        rng = self.rng
        delay = rng.expovariate(1 / 7200) if rng.random() < 0.93 else rng.expovariate(1 / 1_700_000)
        age = parent_age - delay
        if age < 0:
            age = rng.uniform(0, parent_age)
        return int(age)

    def _votes(self, depth):
        rng = self.rng
        if rng.random() < 0.01:
            upvotes = int(10 ** rng.uniform(3, 6.4))
        else:
            upvotes = int(rng.expovariate(1 / (30 if depth == 0 else 6)))
        downvotes = 0
        if rng.random() < 0.35:
            downvotes = 1 + int(rng.expovariate(1 / max(1.5, upvotes / 10)))
        return upvotes, downvotes

    def draw_article(self, paragraph_count):
        """Draw the article: press paragraphs, perhaps one list at indent 2.

        The format only pins down lists at the end of a comment body; an
        article list is kept between blank lines so it reads as its own block.
        """
        rng = self.rng
        text = self.text
        for index in range(paragraph_count):
            sentences = rng.randint(1, 4)
            if index == 0:
                rest = [text.news_sentence() for _ in range(sentences - 1)]
                paragraph = " ".join([text.title_sentence(), *rest])
            else:
                paragraph = text.article_paragraph(sentences)
            self.article.append(paragraph)
            if self.article_lines:
                self.article_lines.append("")
            self.article_lines.append(paragraph)
            if index < paragraph_count - 1 and rng.random() < 0.15:
                self.article_lines.append("")
                self.article_lines.extend(f"  {BULLET} {text.list_item()}" for _ in range(rng.randint(2, 5)))

    def comments(self, comment_count):
        """Yield ``comment_count`` comments in pre-order, tracking the open ancestors.

        ``path[d]`` stands for what a parser would take as the parent at depth
        d + 1: ``(first paragraph, age)`` of a comment, or ``(None, age of the
        nearest real ancestor)`` for a placeholder left by a gap.
        """
        rng = self.rng
        top_limit = self.max_depth - 1
        path = []
        for _ in range(comment_count):
            last_depth = len(path) - 1
            if not path or top_limit == 0 or rng.random() < TOP_LEVEL_RATE:
                depth = 0
                chain_tendency = rng.choice(CHAIN_TENDENCIES)
            elif last_depth + 2 <= top_limit and rng.random() < self.gap_rate:
                missing_levels = 2 if last_depth + 3 <= top_limit and rng.random() < 0.4 else 1
                depth = last_depth + 1 + missing_levels
            elif last_depth < top_limit and rng.random() < chain_tendency:
                depth = last_depth + 1
            else:
                back = 1
                while rng.random() < 0.45:
                    back += 1
                depth = max(0, last_depth - back) + 1
            del path[depth:]
            parent_text, parent_age = path[-1] if path else (None, self.thread_age)
            path.extend([(None, parent_age)] * (depth - len(path)))
            age = self._comment_age(parent_age)
            comment = self._comment(depth, parent_text, age)
            first_paragraph = comment.body.split("\n", 1)[0]
            path.append((None if comment.status != "normal" else first_paragraph, age))
            yield comment

    def _comment(self, depth, parent_text, age):
        """Draw one comment created ``age`` seconds ago."""
        rng = self.rng
        author = rng.choice(self.bots) if depth == 0 and rng.random() < 0.015 else self.pick_author()
        language = author.languages.pick(rng)
        upvotes, downvotes = self._votes(depth)
        blocks = self._body(author, parent_text)
        edited = rng.random() < 0.1 or (blocks[0] == DELETED_TEXT and rng.random() < 0.7)
        shown_age = age
        if edited:
            # The age then dates the last edit: mostly soon after posting, sometimes much later.
            shown_age = max(0, int(age - rng.expovariate(1 / 3600))) if rng.random() < 0.8 else int(age * rng.random())
        return DumpComment(
            depth=depth,
            author_name=author.name,
            author_instance=author.host,
            badges=author.badges,
            language=language or "",
            upvotes=upvotes,
            downvotes=downvotes,
            edited=edited,
            age=format_age(shown_age),
            body="\n".join(blocks),
        )

    def _body(self, author, parent_text):
        """Return the body's lines without indent, '' for blank lines."""
        rng = self.rng
        text = self.text
        if author.is_bot:
            return self._bot_body(author)
        roll = rng.random()
        if roll < 0.02:
            return [DELETED_TEXT]
        if roll < 0.03:
            return [REMOVED_TEXT]
        if roll < 0.18:
            return [rng.choice(REACTIONS)]

        paragraphs = []
        if parent_text and len(parent_text) > 40 and rng.random() < 0.12:
            # Quotes lose their ">" in the dump and read as the reply's own first paragraph.
            paragraphs.append(parent_text.split(". ")[0].rstrip("."))
        paragraph_count = 1 + bisect(PARAGRAPH_COUNT_CUMULATIVE_PERCENT, rng.random() * 100)
        for _ in range(paragraph_count):
            size = rng.random()
            if size < 0.65:
                sentences = rng.randint(1, 2)
            elif size < 0.96:
                sentences = rng.randint(2, 4)
            else:
                sentences = rng.randint(10, 14)
            paragraphs.append(text.paragraph(sentences))
        if rng.random() < 0.06:
            paragraphs.insert(rng.randint(1, len(paragraphs)), text.url())
        if rng.random() < 0.05:
            paragraphs.append(rng.choice(EDIT_NOTES))

        lines = []
        for paragraph in paragraphs:
            if lines:
                lines.append("")
                if rng.random() < 0.03:
                    lines.append("")
            lines.append(paragraph)

        if rng.random() < 0.07:
            lines.extend(("", rng.choice(LIST_LEADS)))
            lines.append("")
            for _ in range(rng.randint(2, 5)):
                lines.append(f"{BULLET} {text.list_item()}")
                if rng.random() < 0.1:
                    lines.append(f"  {BULLET} {text.list_item()}")
        return lines

    def _bot_body(self, author):
        """Return a bot's canned body; AutoTL;DR quotes the article between rules."""
        rng = self.rng
        text = self.text
        if author.name == "AutoTL;DR":
            invented = [text.article_paragraph(rng.randint(1, 3)) for _ in range(rng.randint(2, 4))]
            quoted = self.article[:2] + invented
            words = sum(len(paragraph.split()) for paragraph in quoted)
            original = words * rng.randint(3, 8)
            lines = ["This is the best summary I could come up with:", ""]
            for paragraph in quoted:
                lines.extend(("", paragraph))
            lines.extend(
                (
                    "",
                    "",
                    f"The original article contains {original:,} words, the summary contains {words} words. "
                    f"Saved {100 - 100 * words // original}%. I’m a bot and I’m open source!",
                )
            )
            return lines
        if author.name == "PipedLinkBot":
            return [
                "Here is an alternative Piped link(s):",
                "",
                f"https://piped.video/watch?v={rng.randint(10**9, 10**10)}",
                "",
                "Piped is a privacy-respecting open-source alternative frontend to YouTube.",
                "",
                "I’m open-source; check me out at GitHub.",
            ]
        return [f"Archived version: {text.url()}", "", "Archived copies last as long as the archive."]


def generate_dump(comment_count, seed=0, *, max_depth=12, gap_rate=0.0, article_paragraphs=3):
    """Return the text of a valid dump with exactly ``comment_count`` comments.

    Depths run from 0 to ``max_depth - 1``. With probability ``gap_rate`` a
    reply sits one or two levels deeper than the comment before it, which a
    parser reads as missing parents. The same arguments always give the same text.
    """
    return "\n".join(_dump_lines(comment_count, seed, max_depth, gap_rate, article_paragraphs))


def write_dump(path, comment_count, seed=0, *, max_depth=12, gap_rate=0.0, article_paragraphs=3):
    """Write ``generate_dump(comment_count, seed, ...)`` to ``path`` as UTF-8,
    one comment at a time, so a million-comment dump needs little memory."""
    with open(path, "w", encoding="utf-8", newline="\n") as dump_file:
        first = True
        for line in _dump_lines(comment_count, seed, max_depth, gap_rate, article_paragraphs):
            dump_file.write(line if first else "\n" + line)
            first = False


def _dump_lines(comment_count, seed, max_depth, gap_rate, article_paragraphs):
    if comment_count < 0:
        raise ValueError("comment_count must be zero or more")
    if max_depth < 1:
        raise ValueError("max_depth must be at least 1")
    if not 0.0 <= gap_rate <= 1.0:
        raise ValueError("gap_rate must be between 0 and 1")
    if article_paragraphs < 0:
        raise ValueError("article_paragraphs must be zero or more")
    sentence_pool_size = min(8192, 64 + 3 * comment_count)
    maker = _ThreadMaker(_QuickRandom(seed), max_depth, gap_rate, sentence_pool_size)
    maker.draw_article(article_paragraphs)
    return dump_lines("\n".join(maker.article_lines), maker.comments(comment_count))


def main(argv=None):
    """Generate a dump from the command line, to stdout or to ``-o PATH``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("comment_count", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-depth", type=int, default=12)
    parser.add_argument("--gap-rate", type=float, default=0.0)
    parser.add_argument("-o", "--output", metavar="PATH")
    args = parser.parse_args(argv)
    options = {"seed": args.seed, "max_depth": args.max_depth, "gap_rate": args.gap_rate}
    if args.output:
        write_dump(args.output, args.comment_count, **options)
    else:
        sys.stdout.buffer.write(generate_dump(args.comment_count, **options).encode("utf-8"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
