"""A dump file streamed one top-level comment at a time reads exactly as the
same file read whole: the fast path for large imports is the slow path."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import CAPTURED_AT, SEED_CONTEXT, SEED_FULL, VARIANTS
from tests.damage import damage
from tests.synthetic_dumps import generate_dump, write_dump
from threads.dump.errors import DumpError
from threads.dump.reader import read_dump, read_dump_file
from threads.importer import import_dump, import_dump_file
from threads.models import Comment, Thread


def shown(dump):
    """Everything a reader sees of a parsed dump."""
    comments = [
        (
            c.depth,
            c.line,
            c.is_placeholder,
            c.author_name,
            c.author_instance,
            c.instance_known,
            c.author_shown,
            c.badges,
            c.language,
            c.upvotes,
            c.downvotes,
            c.votes_shown,
            c.edited,
            c.age,
            c.age_span,
            c.body,
            c.is_cake_day,
            c.is_distinguished,
        )
        for c in dump.walk()
    ]
    return dump.article, comments, dump.post, dump.layout, dump.warnings


def both_ways(path):
    whole = read_dump(path.read_bytes(), str(path))
    streamed = read_dump_file(path)
    return shown(whole), shown(streamed.materialize()), streamed


FILES = [SEED_FULL, SEED_CONTEXT, *sorted(VARIANTS.glob("*.txt"))]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_fixture_streams_as_it_reads_whole(path):
    try:
        whole, streamed, _ = both_ways(path)
    except DumpError as error:
        with pytest.raises(DumpError) as raised:
            read_dump_file(path).materialize()
        assert str(raised.value) == str(error)
        return
    assert streamed == whole


@pytest.mark.parametrize(("comments", "seed", "gap_rate"), [(300, 1, 0.0), (2000, 2, 0.05), (500, 3, 0.2)])
def test_synthetic_dumps_stream_as_they_read_whole_and_really_stream(tmp_path, comments, seed, gap_rate):
    path = tmp_path / "synthetic.txt"
    write_dump(path, comments, seed=seed, gap_rate=gap_rate)
    whole, streamed, dump = both_ways(path)
    assert streamed == whole
    assert dump._whole is None, "a current-layout dump is streamed, not read whole"


def test_a_full_page_streams_and_names_its_community_after_the_comments(tmp_path):
    dump = read_dump_file(VARIANTS / "full_page.txt")
    assert dump._whole is None and dump.post.community == ""
    roots = list(dump.roots())
    assert len(roots) == 2 and dump.post.community == "Tide Tables@lemmy.example"


@pytest.mark.parametrize(
    ("shape", "text"),
    [
        ("older lemmy-ui", (VARIANTS / "legacy.txt").read_text(encoding="utf-8")),
        ("mojibake", damage((VARIANTS / "wrapper_bare.txt").read_text(encoding="utf-8"), "1257")),
        ("no comments", "Only an article."),
    ],
)
def test_what_cannot_stream_is_read_whole_with_the_same_result(tmp_path, shape, text):
    path = tmp_path / "page.txt"
    path.write_text(text, encoding="utf-8")
    whole, streamed, dump = both_ways(path)
    assert dump._whole is not None and streamed == whole


def test_an_excerpt_that_lost_two_columns_everywhere_streams_as_it_reads_whole(tmp_path):
    """Its replies' links sit where top-level links do; read piece by piece,
    they would all become top-level comments."""
    path = tmp_path / "excerpt.txt"
    text = (VARIANTS / "link_page_chromeless.txt").read_text(encoding="utf-8")
    path.write_text("\n".join(line[2:] for line in text.split("\n")), encoding="utf-8")
    whole, streamed, _ = both_ways(path)
    assert streamed == whole
    assert [depth for depth, *_ in streamed[1]] == [0, 1, 0]


@pytest.mark.parametrize("name", ["bob\u00a0", "\u00a0"])
def test_a_name_ending_in_a_no_break_space_is_a_header_both_ways(tmp_path, name):
    path = tmp_path / "nbsp.txt"
    text = (VARIANTS / "link_page_chromeless.txt").read_text(encoding="utf-8")
    path.write_text(text.replace("spindrift@sh.example", name), encoding="utf-8")
    whole, streamed, _ = both_ways(path)
    assert streamed == whole
    assert len(whole[1]) == 3 and whole[1][2][3] == name


def test_an_error_late_in_a_streamed_file_names_its_line(tmp_path):
    path = tmp_path / "late.txt"
    write_dump(path, 1000, seed=4)
    lines = path.read_text(encoding="utf-8").split("\n")
    separator = max(index for index, line in enumerate(lines) if line.strip() == "·")
    indent = lines[separator].index("·")
    broken = separator + 2  # the age after the last separator, as a line number
    lines[separator + 1] = " " * indent + "45 days ago"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DumpError) as whole:
        read_dump(path.read_bytes(), str(path))
    dump = read_dump_file(path)
    with pytest.raises(DumpError) as streamed:
        list(dump.roots())
    assert str(streamed.value) == str(whole.value) and whole.value.line >= broken


def test_bytes_that_are_not_utf8_name_the_same_line_streamed(tmp_path):
    path = tmp_path / "bytes.txt"
    write_dump(path, 200, seed=5)
    data = bytearray(path.read_bytes())
    position = data.rindex(b"\n    link\n") + 3
    data[position] = 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DumpError) as whole:
        read_dump(path.read_bytes(), str(path))
    with pytest.raises(DumpError) as streamed:
        read_dump_file(path).materialize()
    assert str(streamed.value) == str(whole.value)


def stored_comments():
    """Every stored comment by what it says and where it sits, ids aside."""
    rows = Comment.objects.select_related("author").order_by("tree_id", "lft")
    positions = {}
    for row in rows:
        positions[row.pk] = (row.level, row.position, row.author.name if row.author else "", row.body)
    return sorted(
        (
            positions[row.pk],
            positions.get(row.parent_id, ()),
            row.lft,
            row.rght,
            row.imported_upvotes,
            row.status,
            str(row.created_at),
            row.ancestry_unknown,
        )
        for row in rows
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("trees_stay_intact")
@pytest.mark.parametrize(("comments", "gap_rate"), [(11_000, 0.02), (1, 0.0)])
def test_a_streamed_import_stores_exactly_what_an_import_of_the_whole_text_stores(tmp_path, comments, gap_rate):
    """Written a batch of top-level trees at a time, the file gives the same
    rows, tree numbers and counts as the same text imported whole."""
    path = tmp_path / "many.txt"
    write_dump(path, comments, seed=9, gap_rate=gap_rate)
    streamed = import_dump_file(path, captured_at=CAPTURED_AT)
    assert read_dump_file(path)._whole is None
    rows = stored_comments()
    Thread.objects.all().delete()
    whole = import_dump(path.read_bytes(), source=str(path), captured_at=CAPTURED_AT)
    assert (streamed.added, streamed.placeholders) == (whole.added, whole.placeholders)
    assert streamed.added == comments
    assert stored_comments() == rows


def test_pieces_split_where_a_block_ends_inside_a_header(tmp_path, monkeypatch):
    """Blocks of a few bytes end everywhere: between a header and its link,
    inside a character, inside a CRLF."""
    from threads.dump import reader

    path = tmp_path / "small-blocks.txt"
    write_dump(path, 60, seed=6)
    text = path.read_text(encoding="utf-8")
    whole = shown(read_dump(text, str(path)))
    for block_bytes in (7, 64, 333):
        monkeypatch.setattr(reader, "BLOCK_BYTES", block_bytes)
        assert shown(read_dump_file(path).materialize()) == whole
        crlf = tmp_path / "crlf.txt"
        crlf.write_bytes(text.replace("\n", "\r\n").encode())
        streamed = read_dump_file(crlf)
        assert shown(streamed.materialize())[1] == whole[1]


DAMAGE_BASES = [generate_dump(40, seed=9, gap_rate=0.1).encode(), (VARIANTS / "full_page.txt").read_bytes()]


@st.composite
def damaged_dumps(draw):
    """A dump with a few faults where they are hardest to name alike:
    lines lost before a top-level header, cut files, stray tabs, carriage
    returns and bytes that are not UTF-8, anywhere, even inside a character."""
    data = bytearray(draw(st.sampled_from(DAMAGE_BASES)))
    for _ in range(draw(st.integers(1, 3))):
        lines = bytes(data).split(b"\n")
        fault = draw(st.sampled_from(["lines lost before a header", "cut", "tab", "cr", "bad byte"]))
        if fault == "lines lost before a header":
            headers = [index for index, line in enumerate(lines) if line.startswith("  • ".encode())]
            if not headers:
                continue
            header = draw(st.sampled_from(headers))
            del lines[max(0, header - draw(st.integers(1, 8))) : header]
            data = bytearray(b"\n".join(lines))
        elif fault == "cut" and data:
            del data[draw(st.integers(0, len(data) - 1)) :]
        elif fault != "cut":
            position = draw(st.integers(0, len(data)))
            data[position:position] = {"tab": b"\t", "cr": b"\r", "bad byte": b"\xff"}[fault]
    return bytes(data)


def outcome(read):
    try:
        return shown(read())
    except DumpError as error:
        return str(error)


@settings(max_examples=150, deadline=None)
@given(data=damaged_dumps(), block_bytes=st.sampled_from([5, 64, 1 << 20]))
def test_a_damaged_file_is_refused_streamed_where_it_is_refused_whole(data, block_bytes):
    from threads.dump import reader

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "damaged.txt"
        path.write_bytes(data)
        whole = outcome(lambda: read_dump(data, str(path)))
        saved, reader.BLOCK_BYTES = reader.BLOCK_BYTES, block_bytes
        try:
            assert outcome(lambda: read_dump_file(path).materialize()) == whole
        finally:
            reader.BLOCK_BYTES = saved
