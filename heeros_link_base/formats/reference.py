"""Finnish creditor references (viitenumero) and RF creditor references.

The Finnish national reference is 4-20 digits, the last one a check digit
computed with the repeating weights 7, 3, 1 from the right. The international
RF reference (ISO 11649) is validated with python-stdnum, which Odoo already
depends on. Both follow python-stdnum's small interface: ``compact``,
``validate``, ``is_valid``, ``format``, plus ``kind`` to tell them apart.
"""

from stdnum import iso11649
from stdnum.exceptions import ValidationError

from .errors import RecordError

_WEIGHTS = (7, 3, 1)


def compact(reference):
    """Remove spaces, leading zeros of a national reference and upper-case RF."""
    text = "".join(str(reference or "").split()).upper()
    if text.startswith("RF"):
        return text
    return text.lstrip("0")


def fi_check_digit(base):
    """Check digit for the digits of a Finnish reference without it."""
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def fi_make(base):
    """Append the check digit: ``fi_make('1232') == '12328'``."""
    base = compact(base)
    if not base.isdecimal() or not 3 <= len(base) <= 19:
        raise RecordError(f"cannot make a Finnish reference of {base!r}",
                          expected="3 to 19 digits")
    return base + fi_check_digit(base)


def rf_make(reference):
    """The RF form of a Finnish reference: ``rf_make('2348236') == 'RF332348236'``."""
    base = compact(reference)
    digits = base + "271500"  # 'RF' = 27 15, then '00' for the check
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{base}"


def kind(reference):
    """'fi', 'rf' or None for something that is neither valid form."""
    ref = compact(reference)
    if ref.startswith("RF"):
        return "rf" if iso11649.is_valid(ref) else None
    if ref.isdecimal() and 4 <= len(ref) <= 20 and fi_check_digit(ref[:-1]) == ref[-1]:
        return "fi"
    return None


def validate(reference):
    """Return the compact reference or raise :class:`RecordError`."""
    ref = compact(reference)
    if kind(ref):
        return ref
    if ref.startswith("RF"):
        try:
            iso11649.validate(ref)
        except ValidationError as exc:
            raise RecordError(f"invalid RF reference {reference!r}: {exc}",
                              expected="RF, two check digits, up to 21 characters") from None
    raise RecordError(f"invalid Finnish reference {reference!r}",
                      expected="4-20 digits whose last digit is the 7-3-1 check digit")


def is_valid(reference):
    return kind(reference) is not None


def format(reference):
    """Print form: Finnish in groups of five from the right, RF in groups of four."""
    ref = compact(reference)
    if ref.startswith("RF"):
        return iso11649.format(ref)
    groups = []
    while ref:
        groups.insert(0, ref[-5:])
        ref = ref[:-5]
    return " ".join(groups)


def to_national(reference):
    """The Finnish reference inside an RF reference built from one, else None.

    ``to_national('RF332348236') == '2348236'``.
    """
    ref = compact(reference)
    if ref.startswith("RF") and kind(ref) == "rf":
        inner = ref[4:].lstrip("0")
        return inner if kind(inner) == "fi" else None
    return ref if kind(ref) == "fi" else None


def matching_keys(reference):
    """All compact forms under which a payment reference may match an invoice:
    the reference itself and, for Finnish/RF pairs, the other form."""
    ref = compact(reference)
    keys = {ref} if ref else set()
    national = to_national(ref)
    if national:
        keys.add(national)
        keys.add(rf_make(national))
    return keys
