"""Character sets and field helpers shared by the Finnish fixed-width bank
files (TITO account statements and KTL reference payment files).

Those files come either in the 7-bit Finnish variant of ISO 646, SFS 4017,
in which six ASCII punctuation characters stand for the Finnish letters::

    {  ä      [  Ä
    |  ö      \\  Ö
    }  å      ]  Å

or in an 8-bit character set (ISO 8859-1 from the banks; UTF-8 when some
system on the way has re-encoded the file). Nothing in the file says which,
so :func:`detect` decides per file, with this rule:

1. if no byte is 0x80 or above, the file is 7-bit: SFS 4017 (a bracket or
   brace in such a file is always one of the letters above);
2. if some byte is 0x80 or above and the whole file is valid UTF-8, it is
   UTF-8 (Latin-1 Finnish text is practically never valid UTF-8: ``ä`` is
   0xE4, which UTF-8 only allows as the lead byte of a three-byte sequence);
3. otherwise it is ISO 8859-1 (Latin-1), and brackets and braces are kept as
   they are.

A caller who knows better passes ``charset=`` (``'sfs4017'``, ``'latin-1'``
or ``'utf-8'``) to the parsers.
"""

import codecs
import re
from datetime import date
from decimal import Decimal

from stdnum import iban as stdnum_iban

from odoo.addons.heeros_link_base.formats import limits
from odoo.addons.heeros_link_base.formats.errors import RecordError

SFS4017 = "sfs4017"
LATIN1 = "latin-1"
UTF8 = "utf-8"
CHARSETS = (SFS4017, LATIN1, UTF8)

_CHUNK = 1 << 16
_SFS4017_TABLE = str.maketrans(
    {
        "{": "ä",
        "[": "Ä",
        "|": "ö",
        "\\": "Ö",
        "}": "å",
        "]": "Å",
    }
)


def detect(data):
    """``'sfs4017'``, ``'utf-8'`` or ``'latin-1'`` for the bytes of a file
    (see the module docstring for the rule)."""
    if data.startswith(codecs.BOM_UTF8):
        return UTF8
    if data.isascii():
        return SFS4017
    # checked a piece at a time: a whole decode would hold a second copy of
    # the file (or two, for the wide strings of a Latin-1 file's failure)
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(data))
    except UnicodeDecodeError:
        return LATIN1
    return UTF8


def decode(data, charset=None, file_name=None):
    """Return ``(text, charset)``: the file's text and the charset used.

    ``data`` may already be text, then only SFS 4017 translation applies if
    asked for (``charset='sfs4017'``).
    """
    if isinstance(data, str):
        if charset == SFS4017:
            return data.translate(_SFS4017_TABLE), SFS4017
        return data, charset or "text"
    if charset is None:
        charset = detect(data)
    if charset not in CHARSETS:
        raise ValueError(f"unknown charset {charset!r}; use one of {', '.join(CHARSETS)}")
    if charset == SFS4017:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise RecordError(
                "byte 0x%02X is not 7-bit: the file is not in SFS 4017" % data[exc.start],
                file_name=file_name,
                position=f"byte {exc.start}",
                expected="7-bit characters only (or charset='latin-1')",
            ) from None
        return text.translate(_SFS4017_TABLE), SFS4017
    if charset == UTF8:
        return data.decode("utf-8-sig"), UTF8
    return data.decode("latin-1"), LATIN1


def decode_lazily(data, charset=None, file_name=None):
    """Like :func:`decode`, but return ``(text, charset, table)`` where the
    SFS 4017 letters are not yet translated: the caller applies
    ``str.translate(table)`` to each record it reads (``table`` is ``None``
    when there is nothing to translate), so that the file's text is held
    once and never copied whole."""
    if charset is None and not isinstance(data, str):
        charset = detect(data)
    if charset == SFS4017:
        if isinstance(data, str):
            return data, SFS4017, _SFS4017_TABLE
        text, _used = decode(data, LATIN1 if data.isascii() else SFS4017, file_name)
        return text, SFS4017, _SFS4017_TABLE
    text, used = decode(data, charset, file_name)
    return text, used, None


_LINE_BREAK = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_BLANK = re.compile(r"\s*")


def iter_line_spans(text):
    """Yield ``(start, end)`` of every line of ``text``, the lines
    :meth:`str.splitlines` gives, without making a list of them."""
    start = 0
    for match in _LINE_BREAK.finditer(text):
        yield start, match.start()
        start = match.end()
    if start < len(text):
        yield start, len(text)


def is_blank(text, start=0, end=None):
    """Whether ``text[start:end]`` is empty or only whitespace (without
    copying it)."""
    return _BLANK.fullmatch(text, start, len(text) if end is None else end) is not None


def to_sfs4017(text):
    """Encode text with Finnish letters the SFS 4017 way (for tests and
    writers): ``'Pääkö'`` -> ``'P{{k|'``."""
    back = {letter: chr(code) for code, letter in _SFS4017_TABLE.items()}
    return "".join(back.get(ch, ch) for ch in text)


# -- field helpers shared by TITO and KTL ---------------------------------


def yymmdd(value, *, file_name=None, line=None, element=None, required=False):
    """A ``YYMMDD`` field as a date; ``000000`` or blanks give ``None``.

    Years 00-79 are 2000-2079, 80-99 are 1980-1999 (both formats date from
    the 1980s).
    """
    value = value.strip()
    if not value or value == "000000":
        if required:
            raise RecordError("date is missing", file_name=file_name, line=line, element=element, expected="YYMMDD")
        return None
    if len(value) != 6 or not value.isdecimal():
        raise RecordError(
            f"date {value!r} is not six digits", file_name=file_name, line=line, element=element, expected="YYMMDD"
        )
    year = int(value[:2])
    year += 1900 if year >= 80 else 2000
    try:
        return date(year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise RecordError(
            f"date {value!r} does not exist",
            file_name=file_name,
            line=line,
            element=element,
            expected="a valid YYMMDD date",
        ) from None


def cents(digits, *, sign="+", file_name=None, line=None, element=None):
    """Digits in cents (and a ``+``/``-`` sign) as a Decimal with two decimals,
    within :data:`~heeros_link_base.formats.limits.MAX_AMOUNT`."""
    if not digits.isascii() or not digits.isdecimal():
        raise RecordError(
            f"amount {digits!r} is not a number",
            file_name=file_name,
            line=line,
            element=element,
            expected="digits, in cents",
        )
    if sign not in "+-" or not sign:
        raise RecordError(
            f"amount sign {sign!r} is neither + nor -",
            file_name=file_name,
            line=line,
            element=element,
            expected="+ or -",
        )
    value = limits.check_amount(
        Decimal(digits).scaleb(-2), file_name=file_name, line=line, element=element, text=f"{sign}{digits}"
    )
    return -value if sign == "-" else value


def fi_iban(bban):
    """The IBAN of a Finnish account number in machine (14-digit) form,
    ``None`` for anything else: ``fi_iban('19503000000010') ==
    'FI4819503000000010'``."""
    bban = (bban or "").strip()
    if len(bban) != 14 or not bban.isdecimal() or not bban.strip("0"):
        return None
    return "FI" + stdnum_iban.calc_check_digits("FI00" + bban) + bban
