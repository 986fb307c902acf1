"""Mojibake made on purpose, the way broken capture tools made it."""

import contextlib
import re


def damage(text, family):
    """Decode the text's UTF-8 bytes the way a broken tool did: through
    Windows-1252, or 80–9F through it and A0–FF through Windows-1257; bytes
    a code page lacks are lost. The converter's own bullets survive."""
    lines = []
    for line in text.split("\n"):
        bullet = re.match(r"^( *• )", line)
        head, rest = (bullet[1], line[bullet.end() :]) if bullet else ("", line)
        chars = []
        for byte in rest.encode():
            if byte < 0x80:
                chars.append(chr(byte))
                continue
            page = "cp1252" if family == "1252" or byte < 0xA0 else "cp1257"
            with contextlib.suppress(UnicodeDecodeError):  # a byte the code page lacks is lost
                chars.append(bytes([byte]).decode(page))
        lines.append(head + "".join(chars))
    return "\n".join(lines)
