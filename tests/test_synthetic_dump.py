"""Behaviour of the synthetic dump generator that tests and benchmarks rely on.

The checks read the text the way dump-format.md §5 defines it: a line
``INDENT• X`` is a comment header only when the next line is ``link`` at
INDENT + 2. No database is needed.
"""

import itertools
import re
from functools import cache

import pytest

from tests.synthetic_dumps import generate_dump, main, write_dump
from threads.dump.parser import parse_dump

BULLET = "\u2022"
HEADER = re.compile(rf"^( +){BULLET} (.+)$")
COUNT = r"\d+(?:\.\d+)?[KMB]?"
AGE = r"\d+ (?:second|minute|hour|day|month|year)s? ago"
METADATA = re.compile(
    rf"link\nfedilink(?:\n(?:English|Deutsch|Français|suomi|日本語))?"
    rf"\narrow-up\n{COUNT}(?:\narrow-down\n{COUNT})?\n\u00b7(?:\nedit-2)?\n{AGE}"
)
HOST_AND_BADGES = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:OP)?M?A?B?$")


@cache
def dump(comment_count, seed=0, **options):
    """Share big dumps between tests: generation is deterministic, so this is safe."""
    return generate_dump(comment_count, seed, **options)


def headers(text):
    """Return (line index, depth, header text) for every comment header."""
    lines = text.split("\n")
    found = []
    for index, line in enumerate(lines[:-1]):
        match = HEADER.match(line)
        if match and lines[index + 1] == " " * (len(match.group(1)) + 2) + "link":
            found.append((index, (len(match.group(1)) - 2) // 2, match.group(2)))
    return found


def depth_jumps(text):
    depths = [depth for _, depth, _ in headers(text)]
    return [(before, after) for before, after in itertools.pairwise(depths) if after > before + 1]


def test_same_seed_gives_byte_identical_text():
    assert generate_dump(500, seed=11, gap_rate=0.05) == generate_dump(500, seed=11, gap_rate=0.05)


def test_different_seeds_give_different_threads():
    first, second = generate_dump(200, seed=1), generate_dump(200, seed=2)
    assert first != second
    assert first.split("\n")[0] != second.split("\n")[0]


@pytest.mark.parametrize(
    ("comment_count", "options"),
    [
        (0, {}),
        (1, {}),
        (2000, {}),
        (2000, {"gap_rate": 0.1}),
        (500, {"max_depth": 1}),
        (500, {"max_depth": 3, "gap_rate": 0.5}),
        (300, {"article_paragraphs": 0}),
    ],
)
def test_header_count_equals_comment_count(comment_count, options):
    """Gap placeholders never appear in the text, so only real comments are counted."""
    assert len(headers(dump(comment_count, 3, **options))) == comment_count


@pytest.mark.parametrize("max_depth", [1, 4, 12])
def test_depth_never_exceeds_max_depth_minus_one(max_depth):
    text = dump(3000, 5, max_depth=max_depth, gap_rate=0.1)
    depths = {depth for _, depth, _ in headers(text)}
    assert max(depths) == max_depth - 1
    assert min(depths) == 0


def test_about_one_comment_in_ten_is_top_level():
    depths = [depth for _, depth, _ in headers(dump(10000, 1))]
    assert 0.08 < depths.count(0) / len(depths) < 0.12


def test_every_indentation_is_even():
    for line in dump(2000, 3, gap_rate=0.1).split("\n"):
        assert (len(line) - len(line.lstrip(" "))) % 2 == 0, line


def test_text_has_no_tabs_trailing_spaces_carriage_returns_or_final_newline():
    text = dump(2000, 3, gap_rate=0.1)
    assert "\t" not in text
    assert "\r" not in text
    assert not text.endswith("\n")
    for line in text.split("\n"):
        assert line == line.rstrip(), repr(line)


def test_every_header_has_metadata_valid_per_the_grammar():
    lines = dump(2000, 3, gap_rate=0.1).split("\n")
    for index, depth, header_text in headers("\n".join(lines)):
        inner = " " * (2 * depth + 4)
        block = []
        for line in lines[index + 1 :]:
            if not line:
                break
            assert line.startswith(inner) and not line[len(inner)].isspace(), line
            block.append(line[len(inner) :])
        assert METADATA.fullmatch("\n".join(block)), block
        if "@" in header_text:
            assert HOST_AND_BADGES.match(header_text.rsplit("@", 1)[1]), header_text


def test_one_op_author_some_bots_and_admins_only_among_local_names():
    header_texts = {text for _, _, text in headers(dump(10000, 1))}
    op_authors = {text for text in header_texts if re.search(r"\.[a-z]+OP", text)}
    assert len(op_authors) == 1
    assert any(text.endswith("B") and "@" in text for text in header_texts)
    admins = [text for text in header_texts if text.endswith("A")]
    assert admins and all("@" not in text for text in admins)


def test_body_lines_are_indented_at_least_to_their_comment_body():
    lines = dump(2000, 3, gap_rate=0.1).split("\n")
    found = headers("\n".join(lines))
    ends = [index for index, _, _ in found[1:]] + [len(lines)]
    for (start, depth, _), end in zip(found, ends):
        body_indent = " " * (2 * depth + 4)
        for line in lines[start + 1 : end]:
            assert not line or line.startswith(body_indent), line


def test_list_at_the_end_of_a_body_is_directly_followed_by_the_next_header():
    """Body list items are followed by more items or by a header, never by a blank or ``link``."""
    text = dump(2000, 3)
    lines = text.split("\n")
    found = headers(text)
    header_lines = {index for index, _, _ in found}
    lists_ending_at_a_header = 0
    for index in range(found[0][0], len(lines) - 1):
        if index in header_lines or not lines[index].lstrip(" ").startswith(f"{BULLET} "):
            continue
        if index + 1 in header_lines:
            lists_ending_at_a_header += 1
        else:
            assert lines[index + 1].lstrip(" ").startswith(f"{BULLET} "), lines[index + 1]
    assert lists_ending_at_a_header > 0


def test_other_bodies_are_separated_from_the_next_header_by_one_blank_line():
    text = dump(2000, 3)
    lines = text.split("\n")
    for index, _, _ in headers(text)[1:]:
        previous = lines[index - 1]
        if previous:
            assert previous.lstrip(" ").startswith(f"{BULLET} ")
        else:
            assert lines[index - 2], "never two blank lines before a header"


def test_gap_rate_produces_depth_jumps_of_more_than_one_level():
    jumps = depth_jumps(dump(2000, 3, gap_rate=0.02))
    assert jumps
    assert all(after - before in (2, 3) for before, after in jumps)


def test_no_depth_jumps_without_gap_rate():
    assert depth_jumps(dump(2000, 3)) == []


def test_article_comes_first_and_its_first_sentence_fits_a_title():
    text = dump(300, 9, article_paragraphs=4)
    article_lines = text.split("\n")[: headers(text)[0][0]]
    paragraphs = [line for line in article_lines if line and not line.startswith(" ")]
    assert len(paragraphs) == 4
    assert all(line.startswith(f"  {BULLET} ") for line in article_lines if line.startswith(" "))
    first_sentence = re.split(r"(?<=[.?!…])\s", paragraphs[0])[0]
    assert len(first_sentence) < 150


def test_empty_article_starts_with_a_header():
    text = dump(300, 3, article_paragraphs=0)
    assert headers(text)[0][0] == 0


def test_write_dump_and_command_line_write_the_generated_text_as_utf8(tmp_path):
    written, from_command = tmp_path / "written.txt", tmp_path / "command.txt"
    write_dump(written, 300, seed=7, gap_rate=0.05)
    main(["300", "--seed", "7", "--gap-rate", "0.05", "-o", str(from_command)])
    expected = generate_dump(300, 7, gap_rate=0.05).encode("utf-8")
    assert written.read_bytes() == expected
    assert from_command.read_bytes() == expected


def test_generated_dump_parses_with_every_comment():
    parsed = parse_dump(generate_dump(2000, seed=3, gap_rate=0.02), source="synthetic")
    assert len(parsed.real_comments()) == 2000
    assert any(comment.is_placeholder for comment in parsed.walk())
