"""Finnish creditor references (viitenumero) and RF creditor references.

The Finnish national reference is 4-20 digits, the last one a check digit
computed with the repeating weights 7, 3, 1 from the right; python-stdnum has
no module for it, so it is here. The international RF reference (ISO 11649)
is python-stdnum's (``stdnum.iso11649``, its check digits with
``stdnum.iso7064.mod_97_10``), which Odoo already depends on. Both follow
python-stdnum's small interface: ``compact``, ``validate``, ``is_valid``,
``format``, plus ``kind`` to tell them apart.

:func:`compact` has a twin in SQL, :func:`compact_sql`, for matching stored
references in the database; the two give the same text for any reference.
"""

from stdnum import iso11649
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.iso7064 import mod_97_10

from .errors import InvalidIdentifier

_WEIGHTS = (7, 3, 1)


def compact(reference):
    """Remove whitespace, leading zeros of a national reference and upper-case RF.

    Only whitespace is removed (not the dashes or dots stdnum's own ``compact``
    drops), so that :func:`compact_sql` can give the same result in the
    database."""
    text = "".join(str(reference or "").split()).upper()
    if text.startswith("RF"):
        return text
    return text.lstrip("0")


def _space_class():
    """A PostgreSQL regular-expression class of every character Python's
    ``str.split()`` treats as whitespace (PostgreSQL's own ``\\s`` leaves out
    the no-break space and other Unicode spaces people paste)."""
    spaces = [code for code in range(0x3001) if chr(code).isspace()]
    ranges, start = [], spaces[0]
    for previous, code in zip(spaces, spaces[1:] + [None]):
        if code != previous + 1:
            ranges.append(f"\\u{start:04x}" if start == previous else f"\\u{start:04x}-\\u{previous:04x}")
            start = code
    return "[" + "".join(ranges) + "]"


_SQL_SPACES = _space_class()


def compact_sql(column):
    """An SQL expression with the :func:`compact` form of the text in
    ``column`` (a trusted column name or expression, never user input), to
    compare stored references with the keys of :func:`matching_keys`::

        WHERE {compact_sql('payment_reference')} = ANY(%(keys)s)
    """
    text = f"upper(regexp_replace({column}, '{_SQL_SPACES}', '', 'g'))"
    return f"(CASE WHEN left({text}, 2) = 'RF' THEN {text} ELSE ltrim({text}, '0') END)"


def normalise(reference):
    """The compact form of a valid Finnish or RF reference, else the text as
    given (a payer's free-form message stays as it was)."""
    return compact(reference) if kind(reference) else reference


def fi_check_digit(base):
    """Check digit for the digits of a Finnish reference without it."""
    total = sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def fi_make(base):
    """Append the check digit: ``fi_make('1232') == '12328'``."""
    base = compact(base)
    if not base.isdecimal() or not 3 <= len(base) <= 19:
        raise InvalidIdentifier(
            f"cannot make a Finnish reference of {base!r}",
            identifier="reference",
            reason="format",
            expected="3 to 19 digits",
        )
    return base + fi_check_digit(base)


def rf_make(reference):
    """The RF form of a Finnish reference: ``rf_make('2348236') == 'RF332348236'``."""
    base = compact(reference)
    return f"RF{mod_97_10.calc_check_digits(base + 'RF')}{base}"


def kind(reference):
    """'fi', 'rf' or None for something that is neither valid form."""
    ref = compact(reference)
    if ref.startswith("RF"):
        return "rf" if iso11649.is_valid(ref) else None
    if ref.isdecimal() and 4 <= len(ref) <= 20 and fi_check_digit(ref[:-1]) == ref[-1]:
        return "fi"
    return None


def validate(reference):
    """Return the compact reference or raise :class:`InvalidIdentifier` (a
    :class:`RecordError`) saying what is wrong."""
    ref = compact(reference)
    if kind(ref):
        return ref
    if ref.startswith("RF"):
        try:
            iso11649.validate(ref)
        except ValidationError as exc:
            if isinstance(exc, InvalidLength):
                why, reason = f"it has {len(ref)} characters", "length"
            elif isinstance(exc, InvalidChecksum):
                why, reason = "its check digits do not match", "checksum"
            else:
                why, reason = "it may hold only letters and digits", "format"
            raise InvalidIdentifier(
                f"invalid RF reference {reference!r}: {why}",
                identifier="reference",
                reason=reason,
                expected="RF, two check digits and 1 to 21 letters or digits",
            ) from exc
    if not ref:
        raise InvalidIdentifier(
            "the reference is empty", identifier="reference", reason="empty", expected="4-20 digits or an RF reference"
        )
    if not ref.isdecimal():
        why, reason = "a Finnish reference has only digits", "format"
    elif not 4 <= len(ref) <= 20:
        why, reason = f"it has {len(ref)} digits", "length"
    else:
        why = f"its check digit is {ref[-1]}, not {fi_check_digit(ref[:-1])}"
        reason = "checksum"
    raise InvalidIdentifier(
        f"invalid Finnish reference {reference!r}: {why}",
        identifier="reference",
        reason=reason,
        expected="4-20 digits whose last digit is the 7-3-1 check digit",
    )


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
