"""Finnish party identifiers, checked with python-stdnum.

* Business ID (Y-tunnus): seven digits, a hyphen and a check digit
  (``stdnum.fi.ytunnus``). Written with or without the hyphen, or as a VAT
  number, it is read as the same business ID.
* Finnish VAT number (ALV-numero): ``FI`` and the eight digits of the
  business ID (``stdnum.fi.alv``).
* IBAN (``stdnum.iban``).
* Personal identity code (henkilötunnus, ``stdnum.fi.hetu``): never a
  business ID; recognised only to say so without repeating it.

Every ``validate_*`` function returns the value in its standard form or raises
:class:`~.errors.InvalidIdentifier` with a sentence saying what is wrong; the
stdnum error it came from is kept as the cause. ``check_*`` returns ``None``
for a valid value and otherwise that sentence, so callers can collect
problems. Whitespace of any kind is ignored everywhere, as people paste
identifiers with spaces, tabs and line breaks.
"""

import re

from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError
from stdnum.fi import alv, hetu, ytunnus

from .errors import InvalidIdentifier
from .text import translator

_lt = translator(__name__)
_BUSINESS_ID_SHAPE = _lt("seven digits, a hyphen and a check digit")


def compact(value):
    """Remove all whitespace and upper-case: ``' fi 0112 0389 ' -> 'FI01120389'``."""
    return "".join(str(value or "").split()).upper()


def _reason(exc):
    """The ``reason`` of :class:`InvalidIdentifier` for a stdnum error."""
    if isinstance(exc, InvalidLength):
        return "length"
    if isinstance(exc, InvalidChecksum):
        return "checksum"
    if isinstance(exc, InvalidComponent):
        return "component"
    return "format"


# --------------------------------------------------------------------------
# business ID (Y-tunnus) and VAT number
# --------------------------------------------------------------------------


def normalise_business_id(value):
    """``'1234567-8'`` for a value written as ``1234567-8``, ``12345678`` or
    ``FI12345678`` (spaces anywhere), else ``None``. The check digit is not
    verified: use :func:`validate_business_id` for that."""
    text = ytunnus.compact(compact(value))
    if len(text) == 8 and text.isdecimal():
        return ytunnus.format(text)
    return None


def business_id_compact(value):
    """The business ID in its standard form, or the compact text when it does
    not have the shape of one (not validated)."""
    return normalise_business_id(value) or compact(value)


def business_id_check_digit(base):
    """The check digit of the seven digits of a business ID, or ``None`` when
    no digit makes them valid (weighted sum with remainder 1)."""
    digit = -alv.checksum(f"{base}0") % 11
    return str(digit) if digit < 10 else None


def validate_business_id(value):
    """``'1234567-8'`` or :class:`InvalidIdentifier`."""
    text = business_id_compact(value)
    if not text:
        raise InvalidIdentifier(
            _lt("the business ID is empty"), identifier="business_id", reason="empty", expected=_BUSINESS_ID_SHAPE
        )
    if hetu.is_valid(text, allow_temporary=True):
        # Said without the value: a personal identity code is personal data.
        raise InvalidIdentifier(
            _lt("the value is a Finnish personal identity code (henkilötunnus), not a business ID"),
            identifier="business_id",
            reason="component",
            expected=_BUSINESS_ID_SHAPE,
        )
    try:
        ytunnus.validate(text)
    except InvalidChecksum as exc:
        base = text[:7]
        digit = business_id_check_digit(base)
        if digit is None:
            raise InvalidIdentifier(
                _lt("business ID %s has no valid check digit", value), identifier="business_id", reason="checksum"
            ) from exc
        raise InvalidIdentifier(
            _lt(
                "business ID %(value)s has a wrong check digit (expected %(right)s)",
                value=value,
                right=base + "-" + str(digit),
            ),
            identifier="business_id",
            reason="checksum",
        ) from exc
    except ValidationError as exc:
        raise InvalidIdentifier(
            _lt(
                "%(value)s is not a Finnish business ID (expected %(shape)s)",
                value=repr(value),
                shape=_BUSINESS_ID_SHAPE,
            ),
            identifier="business_id",
            reason=_reason(exc),
        ) from exc
    return text


def check_business_id(value):
    """``None`` for a valid business ID, else a sentence saying what is wrong."""
    try:
        validate_business_id(value)
    except InvalidIdentifier as exc:
        return exc.message
    return None


def vat_from_business_id(value):
    """``'1234567-8' -> 'FI12345678'``."""
    return "FI" + business_id_compact(value).replace("-", "")


def business_id_from_vat(vat):
    """``'FI12345678' -> '1234567-8'``, or ``''`` when ``vat`` is not written
    as a Finnish VAT number (``FI`` and eight digits; not validated)."""
    text = compact(vat)
    if text.startswith("FI"):
        return normalise_business_id(text) or ""
    return ""


def validate_vat(value):
    """``'FI12345678'`` for a valid Finnish VAT number, else
    :class:`InvalidIdentifier`."""
    text = compact(value)
    if not text.startswith("FI"):
        raise InvalidIdentifier(
            _lt("%s is not a Finnish VAT number", repr(value)),
            identifier="vat",
            reason="format",
            expected=_lt("FI and the eight digits of the business ID"),
        )
    try:
        return "FI" + alv.validate(text)
    except InvalidChecksum as exc:
        raise InvalidIdentifier(
            _lt("VAT number %s has a wrong check digit (the last digit of the business ID)", value),
            identifier="vat",
            reason="checksum",
        ) from exc
    except ValidationError as exc:
        raise InvalidIdentifier(
            _lt("%s is not a Finnish VAT number", repr(value)),
            identifier="vat",
            reason=_reason(exc),
            expected=_lt("FI and the eight digits of the business ID"),
        ) from exc


# --------------------------------------------------------------------------
# IBAN
# --------------------------------------------------------------------------

_IBAN_REASONS = {
    "checksum": _lt("its check digits do not match"),
    "component": _lt("its country code is not one that uses IBANs"),
    "format": _lt("its account part does not have the country's shape"),
}


def validate_iban(value):
    """The compact IBAN or :class:`InvalidIdentifier` saying which part is wrong."""
    text = compact(value)
    try:
        return stdnum_iban.validate(text)
    except ValidationError as exc:
        reason = _reason(exc)
        length = iban_length(text)
        if length is None:
            reason = "component"
        elif len(text) != length:
            reason = "length"
        why = _IBAN_REASONS.get(reason, "")
        if reason == "length":
            why = _lt(
                "it has %(count)s characters where an IBAN of %(country)s has %(length)s",
                count=len(text),
                country=text[:2],
                length=length,
            )
        raise InvalidIdentifier(
            _lt("%(value)s is not a valid IBAN: %(why)s", value=value, why=why),
            identifier="iban",
            reason=reason,
            expected=_lt("country code, two check digits and the account number"),
        ) from exc


def iban_length(text):
    """The length of an IBAN of the country ``text`` starts with, or ``None``
    when those two letters are no country that uses IBANs."""
    text = compact(text)
    if len(text) < 2 or not text[:2].isalpha():
        return None
    info = stdnum_iban._ibandb.info(text[:2])[0][1]
    if not info or not info.get("bban"):
        return None
    return 4 + sum(int(n) for n in re.findall(r"(\d+)!", info["bban"]))
