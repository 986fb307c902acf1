"""Repair a dump whose UTF-8 was decoded through a Windows code page.

Some captured pages went through a tool that read their UTF-8 bytes as
Windows-1252, or as a hybrid seen on a real page: bytes 80–9F through
Windows-1252 and A0–FF through Windows-1257. ``’`` then reads ``â€™`` or
``ā€™``, the vote separator ``·`` reads ``Â·`` or ``Ā·``, and ``é`` reads
``Ã©`` or ``Ć©``. ASCII (so the icon names and indentation) and the
converter's own ``•`` bullets survive, so the tree is still there and the
text can be mapped back to its bytes.

ftfy, the well-kept general repair library, does not do this job: measured
on the test pages, it left every damaged line of the hybrid wrong (its
separators too, so the file would not parse) and two of eight of the
Windows-1252 one, where the damage lost the last byte of ``”``
(docs/dump-format.md, "Damaged text"). This repair knows the two families,
gives them back byte for byte, and refuses what it cannot decode.
"""

import re

from threads.dump.errors import DumpError
from threads.dump.formats import BULLET, SEPARATOR

# A byte lost in the damage: 9D is undefined in Windows-1252, so the third
# byte of ``”`` (E2 80 9D) vanished; a lone E2 80 can only have been that.
LOST_QUOTE_BYTE = 0x9D


def _code_page(name, low_page, high_page):
    """Map each character a damaged byte became back to that byte (or to
    both candidate bytes, where the two halves of a hybrid share one)."""
    chars = {}
    for byte in range(0x80, 0x100):
        try:
            char = bytes([byte]).decode(low_page if byte < 0xA0 else high_page)
        except UnicodeDecodeError:
            continue  # undefined there: that byte was lost
        chars.setdefault(char, []).append(byte)
    return name, {char: tuple(found) for char, found in chars.items()}


WINDOWS_1252 = _code_page("Windows-1252", "cp1252", "cp1252")
WINDOWS_1257_HYBRID = _code_page("Windows-1257", "cp1252", "cp1257")
# The damaged form of the separator and of the lead bytes of ’ “ ” … – —,
# which undamaged text practically never contains, tell the family apart.
SIGNS = (
    (re.compile(rf"^ *Ā{SEPARATOR}$", re.M), WINDOWS_1257_HYBRID),
    (re.compile(rf"^ *Â{SEPARATOR}$", re.M), WINDOWS_1252),
    (re.compile("ā€"), WINDOWS_1257_HYBRID),
    (re.compile("â€"), WINDOWS_1252),
)
BULLET_START_RE = re.compile(rf"^ *{BULLET} ")
# A vote separator that survived means the page's text did too, whatever it quotes.
UNDAMAGED_SEPARATOR_RE = re.compile(rf"^ *{SEPARATOR}$", re.M)


def repair_mojibake(text, source="<dump>"):
    """Return ``(text, notice)``: the repaired text and what was repaired, or
    the text unchanged and ``None`` when it shows no sign of damage (a page
    whose ``·`` separators are intact is never touched).

    Lines keep their number, so later errors still name lines of the file.
    Raises ``DumpError`` naming the first line whose damage does not
    decode, rather than storing a half-repaired page.
    """
    if UNDAMAGED_SEPARATOR_RE.search(text):
        return text, None
    page = next((page for sign, page in SIGNS if sign.search(text)), None)
    if page is None:
        return text, None
    name, chars = page
    lines = text.split("\n")
    repaired = 0
    for number, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        fixed = _repair_line(line, chars)
        if fixed is None:
            raise DumpError(number, f"text damaged as {name} mojibake that does not decode back to UTF-8", source)
        if fixed != line:
            lines[number - 1] = fixed
            repaired += 1
    return "\n".join(lines), f"repaired mojibake ({name}) on {repaired} lines"


def _repair_line(line, chars):
    """The line with every damaged run decoded, or ``None`` if one does not
    decode. A bullet that starts the line is the converter's, not damage."""
    start = 0
    bullet = BULLET_START_RE.match(line)
    if bullet:
        start = bullet.end()
    out, run = [line[:start]], []
    for char in line[start:]:
        if char in chars:
            run.append(char)
            continue
        if run:
            decoded = _decode_run(run, chars)
            if decoded is None:
                return None
            out.append(decoded)
            run = []
        if not char.isascii():
            return None  # neither ASCII nor damage: the file is not damaged in one way
        out.append(char)
    if run:
        decoded = _decode_run(run, chars)
        if decoded is None:
            return None
        out.append(decoded)
    return "".join(out)


def _decode_run(run, chars):
    """Decode one run of damaged characters as the UTF-8 bytes they were.

    Where two bytes became the same character (the hybrid's ``Š Ž š ž``),
    the one UTF-8 expects at that point is taken: a lead byte at the start
    of a character, a continuation byte inside one.
    """
    data = bytearray()
    pending = 0  # continuation bytes the current character still needs
    for char in run:
        candidates = chars[char]
        continuation = [byte for byte in candidates if 0x80 <= byte <= 0xBF]
        if pending and not continuation and data[-2:] == b"\xe2\x80" and pending == 1:
            data.append(LOST_QUOTE_BYTE)
            pending = 0
        if pending:
            if not continuation:
                return None
            data.append(continuation[0])
            pending -= 1
            continue
        lead = [byte for byte in candidates if byte >= 0xC2]
        if not lead:
            return None
        data.append(lead[0])
        pending = 1 if lead[0] < 0xE0 else 2 if lead[0] < 0xF0 else 3
    if pending == 1 and data[-2:] == b"\xe2\x80":
        data.append(LOST_QUOTE_BYTE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
