"""The Finnish bank bar code (pankkiviivakoodi) and its virtual form.

Finance Finland's *Bank Bar Code Guide* (Pankkiviivakoodi-opas, version 5.3)
defines a 54-digit payload, printed as a Code 128 symbol in subset C and also
shown in plain text as the "virtual bar code" (virtuaaliviivakoodi) that a
payer copies into an online bank.

Symbol version 4 carries a national reference, version 5 an RF creditor
reference (ISO 11649). Field layout (positions 1-based)::

    version 4                          version 5
    1      '4'                         1      '5'
    2-17   IBAN without 'FI' (16)      2-17   IBAN without 'FI' (16)
    18-23  euros (6)                   18-23  euros (6)
    24-25  cents (2)                   24-25  cents (2)
    26-28  reserved '000' (3)          26-27  RF check digits (2)
    29-48  reference, zero-padded (20) 28-48  RF reference digits, zero-padded (21)
    49-54  due date YYMMDD             49-54  due date YYMMDD

An amount that is missing, zero or above 999 999,99 is written as zeros (the
payer then types it); a missing due date as ``000000``.

The printed symbol is Code 128 subset C: start C, the 27 digit pairs, the
modulo-103 check character, stop; quiet zones of at least 6.4 mm (and at least
ten modules) on both sides.
"""

import base64
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from stdnum import iban as stdnum_iban

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import BuildError, RecordError

LENGTH = 54
MAX_AMOUNT = Decimal("999999.99")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class VirtualBarcode:
    """The content of a bank bar code.

    ``amount`` is ``None`` when the code carries zeros (no amount given);
    ``due_date`` is ``None`` for ``000000``. ``reference`` is compact: the
    national reference without leading zeros (version 4) or ``RF`` + check
    digits + reference (version 5).
    """

    version: int
    iban: str
    amount: Decimal | None
    reference: str
    due_date: datetime.date | None

    @property
    def code(self):
        return virtual_barcode(self.iban, self.amount, self.reference, self.due_date)


# ---------------------------------------------------------------------------
# Virtual bar code (the 54 digits)
# ---------------------------------------------------------------------------


def _iban_digits(iban):
    compact = stdnum_iban.compact(iban or "")
    if not compact:
        raise BuildError(
            "the bank bar code needs the payee's IBAN, none was given",
            element="IBAN",
            expected="a Finnish IBAN (FI + 16 digits)",
        )
    if not compact.startswith("FI"):
        raise BuildError(
            f"the bank bar code can only carry a Finnish account; {iban!r} is not a FI IBAN",
            element="IBAN",
            expected="a Finnish IBAN (FI + 16 digits)",
        )
    digits = compact[2:]
    if len(digits) != 16 or not digits.isdecimal() or not stdnum_iban.is_valid(compact):
        raise BuildError(
            f"{iban!r} is not a valid Finnish IBAN",
            element="IBAN",
            expected="FI, two check digits and 14 digits with a valid IBAN checksum",
        )
    return digits


def _amount_digits(amount):
    """Eight digits: six for euros, two for cents (zeros: no amount)."""
    if amount is None or amount is False or amount == "":
        return "0" * 8
    try:
        value = Decimal(str(amount)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise BuildError(
            f"the amount {amount!r} is not a number", element="amount", expected="a euro amount such as 4883.15"
        ) from None
    if value < 0:
        raise BuildError(
            f"the bank bar code cannot carry a negative amount ({value})",
            element="amount",
            expected="an amount from 0.00 to 999999.99",
        )
    if value > MAX_AMOUNT:
        return "0" * 8  # the guide: amounts that do not fit are left for the payer
    return f"{int(value * 100):08d}"


def _date_digits(due_date):
    if not due_date:
        return "000000"
    if isinstance(due_date, str):
        try:
            due_date = datetime.date.fromisoformat(due_date[:10])
        except ValueError:
            raise BuildError(
                f"the due date {due_date!r} is not a date", element="due date", expected="a date (YYYY-MM-DD)"
            ) from None
    if not isinstance(due_date, datetime.date):
        raise BuildError(f"the due date {due_date!r} is not a date", element="due date", expected="a date")
    return due_date.strftime("%y%m%d")


def _reference_digits(reference):
    """(version, 23 digits: 3 reserved + 20 reference, or 2 check + 21 reference)."""
    ref = fi_reference.compact(reference)
    if not ref:
        raise BuildError(
            "the bank bar code needs a payment reference, none was given",
            element="reference",
            expected="a Finnish reference number or an RF creditor reference",
        )
    kind = fi_reference.kind(ref)
    if kind == "fi":
        if len(ref) > 20:
            raise BuildError(
                f"the reference {reference!r} is longer than 20 digits",
                element="reference",
                expected="at most 20 digits",
            )
        return 4, "000" + ref.rjust(20, "0")
    if kind == "rf":
        check, body = ref[2:4], ref[4:]
        if not body.isdecimal():
            raise BuildError(
                f"the RF reference {reference!r} contains letters; the bank bar code "
                "carries numeric RF references only",
                element="reference",
                expected="RF, two check digits and up to 21 digits",
            )
        if len(body) > 21:
            raise BuildError(
                f"the RF reference {reference!r} has more than 21 digits",
                element="reference",
                expected="at most 21 digits after RF and the check",
            )
        return 5, check + body.rjust(21, "0")
    raise BuildError(
        f"{reference!r} is neither a valid Finnish reference number nor a valid RF reference",
        element="reference",
        expected="4-20 digits with the 7-3-1 check digit, or RF + check digits + reference",
    )


def virtual_barcode(iban, amount, reference, due_date=None):
    """The 54-digit virtual bar code.

    The symbol version follows the reference: version 4 for a Finnish
    national reference, version 5 for an RF creditor reference.

    :param iban: payee's Finnish IBAN (spaces allowed)
    :param amount: euro amount (``Decimal``, ``int``, ``str`` or ``float``);
        ``None``, zero or over 999 999,99 gives zeros
    :param reference: national reference or RF reference (spaces allowed)
    :param due_date: ``datetime.date`` (or ISO string), or ``None``
    :raises BuildError: the IBAN is not a valid FI IBAN, the reference is
        missing or invalid, the amount is negative or not a number
    """
    account = _iban_digits(iban)
    version, ref_digits = _reference_digits(reference)
    code = f"{version}{account}{_amount_digits(amount)}{ref_digits}{_date_digits(due_date)}"
    assert len(code) == LENGTH, code
    return code


def _fi_iban(digits):
    """Rebuild the full IBAN from the 16 digits after 'FI'."""
    return "FI" + digits


def parse_virtual_barcode(code):
    """Read a virtual bar code (spaces allowed) into a :class:`VirtualBarcode`.

    :raises RecordError: not 54 digits, unknown version, an invalid IBAN,
        reference or due date
    """
    text = "".join(str(code or "").split())
    if len(text) != LENGTH or not text.isdecimal():
        raise RecordError(f"a virtual bar code has {LENGTH} digits; got {text!r}", expected=f"{LENGTH} digits")
    version = int(text[0])
    if version not in (4, 5):
        raise RecordError(f"unsupported bank bar code version {version}", position=1, expected="symbol version 4 or 5")
    iban = _fi_iban(text[1:17])
    if not stdnum_iban.is_valid(iban):
        raise RecordError(
            f"the account {iban} in the bar code fails the IBAN checksum", position=2, expected="a valid Finnish IBAN"
        )
    cents = int(text[17:25])
    amount = (Decimal(cents) / 100).quantize(_CENT) if cents else None
    if version == 4:
        if text[25:28] != "000":
            raise RecordError(
                "the reserved positions 26-28 of a version 4 bar code are not zeros", position=26, expected="000"
            )
        ref = text[28:48].lstrip("0")
        expected_kind = "fi"
    else:
        ref = "RF" + text[25:27] + text[27:48].lstrip("0")
        expected_kind = "rf"
    if fi_reference.kind(ref) != expected_kind:
        raise RecordError(
            f"the reference {ref!r} in the bar code is not valid",
            position=26 if version == 5 else 29,
            expected="a valid Finnish reference" if version == 4 else "a valid RF creditor reference",
        )
    date_text = text[48:]
    due_date = None
    if date_text != "000000":
        try:
            due_date = datetime.date(2000 + int(date_text[:2]), int(date_text[2:4]), int(date_text[4:]))
        except ValueError:
            raise RecordError(
                f"the due date {date_text!r} in the bar code does not exist", position=49, expected="YYMMDD or 000000"
            ) from None
    return VirtualBarcode(version=version, iban=iban, amount=amount, reference=ref, due_date=due_date)


# ---------------------------------------------------------------------------
# Code 128, subset C
# ---------------------------------------------------------------------------

# Widths of bar, space, bar, space, bar, space (in modules) of the Code 128
# symbol characters 0-106 (ISO/IEC 15417); 106 (stop) has a seventh element.
_CODE128_WIDTHS = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
).split()
START_C = 105
STOP = 106
#: Quiet zone on each side: the guide asks for at least 6.4 mm, and Code 128
#: for at least ten modules.
QUIET_ZONE_MM = 6.4
QUIET_ZONE_MODULES = 10


def _check_digits(digits):
    text = "".join(str(digits or "").split())
    if not text or not text.isdecimal() or len(text) % 2:
        raise BuildError(
            f"Code 128 subset C encodes an even number of digits; got {digits!r}", expected="an even number of digits"
        )
    return text


def code128c_values(digits):
    """Symbol character values: start C, one value per digit pair, the
    modulo-103 check character, stop."""
    text = _check_digits(digits)
    pairs = [int(text[i : i + 2]) for i in range(0, len(text), 2)]
    check = (START_C + sum(pos * value for pos, value in enumerate(pairs, start=1))) % 103
    return [START_C, *pairs, check, STOP]


def code128c_checksum(digits):
    """The modulo-103 check character value (the guide's "check digit 2")."""
    return code128c_values(digits)[-2]


def code128c_pattern(digits):
    """Alternating bar/space widths in modules, starting and ending with a bar
    (quiet zones not included)."""
    widths = []
    for value in code128c_values(digits):
        widths.extend(int(w) for w in _CODE128_WIDTHS[value])
    return widths


def _mm(value):
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def barcode_svg(digits, height_mm=13, module_mm=0.25):
    """An SVG image of the Code 128 C symbol of ``digits`` (any even number of
    digits; for an invoice the 54-digit virtual bar code), with quiet zones.

    Sizes are in millimetres; the guide's module is 0.25 mm (the symbol of 54
    digits is then 83 mm wide plus quiet zones) and its minimum height 13 mm.
    """
    if not (
        isinstance(height_mm, (int, float)) and height_mm > 0 and isinstance(module_mm, (int, float)) and module_mm > 0
    ):
        raise BuildError(
            "bar code height and module width must be positive numbers", expected="height_mm > 0, module_mm > 0"
        )
    pattern = code128c_pattern(digits)
    quiet = max(QUIET_ZONE_MM, QUIET_ZONE_MODULES * module_mm)
    symbol = sum(pattern) * module_mm
    width = symbol + 2 * quiet
    parts = []
    x = quiet
    for index, modules in enumerate(pattern):
        w = modules * module_mm
        if index % 2 == 0:  # bars at even positions
            parts.append(f"M{_mm(x)} 0h{_mm(w)}v{_mm(height_mm)}h-{_mm(w)}z")
        x += w
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_mm(width)}mm" height="{_mm(height_mm)}mm" '
        f'viewBox="0 0 {_mm(width)} {_mm(height_mm)}" shape-rendering="crispEdges">'
        f'<rect x="0" y="0" width="{_mm(width)}" height="{_mm(height_mm)}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(parts)}"/>'
        "</svg>"
    )


def barcode_data_uri(digits, height_mm=13, module_mm=0.25):
    """``data:image/svg+xml;base64,...`` of :func:`barcode_svg`, for an
    ``<img src>`` in a QWeb report."""
    svg = barcode_svg(digits, height_mm=height_mm, module_mm=module_mm)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")
