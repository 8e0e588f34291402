"""Finnish party identifiers used by e-invoicing, as plain functions.

The business ID, VAT number and IBAN checks are python-stdnum's, through
:mod:`odoo.addons.heeros_link_base.formats.identifiers` (shared with the
bank addon). What stdnum has no module for is here:

* OVT code (OVT-tunnus, EDI code): ``0037``, the eight digits of the
  business ID without the hyphen, then an optional suffix of up to five
  characters naming a unit of the organisation.
* E-invoice address: an OVT code, or for consumer and bank e-invoicing an
  IBAN; anything else an operator handed out (kept as is).

Each ``check_*`` function returns ``None`` for a valid value and otherwise a
sentence saying what is wrong, so callers can collect the problems;
``validate_ovt`` raises the suite's :class:`InvalidIdentifier` instead.
"""

import re

from odoo.addons.heeros_link_base.formats.errors import InvalidIdentifier
from odoo.addons.heeros_link_base.formats.identifiers import (
    business_id_compact,
    business_id_from_vat,
    check_business_id,
    compact,
    iban_length,
    normalise_business_id,
    validate_business_id,
    validate_iban,
    vat_from_business_id,
)
from odoo.addons.heeros_link_base.formats.text import translator

__all__ = [
    "EAS_FI_VAT",
    "EAS_OVT",
    "OVT_PREFIX",
    "address_kind",
    "business_id_compact",
    "business_id_from_vat",
    "check_business_id",
    "check_einvoice_address",
    "check_iban",
    "check_ovt",
    "compact",
    "default_peppol_endpoint",
    "ovt_business_id",
    "validate_ovt",
    "vat_from_business_id",
]

_lt = translator(__name__)
OVT_PREFIX = "0037"
_OVT = re.compile(r"0037(\d{8})([0-9A-Z]{0,5})")
#: Peppol electronic address schemes (EAS) used for Finnish parties.
EAS_OVT = "0216"
EAS_FI_VAT = "0213"


def address_kind(address):
    """'ovt', 'iban' or 'other'."""
    text = compact(address)
    if text.startswith(OVT_PREFIX) and text[4:12].isdecimal():
        return "ovt"
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", text) and iban_length(text):
        return "iban"
    return "other"


def ovt_business_id(address):
    """The business ID inside an OVT code ('1234567-8'), or ''."""
    match = _OVT.fullmatch(compact(address))
    if not match:
        return ""
    return normalise_business_id(match.group(1))


def validate_ovt(address):
    """The compact OVT code or :class:`InvalidIdentifier`."""
    text = compact(address)
    match = _OVT.fullmatch(text)
    if not match:
        raise InvalidIdentifier(
            _lt(
                "OVT code %s is not valid: expected 0037, the eight digits of a business ID "
                "and at most five more characters (e.g. 003712345671 or 00371234567100100)",
                address,
            ),
            identifier="ovt",
            reason="length" if text.startswith(OVT_PREFIX) else "format",
        )
    try:
        validate_business_id(match.group(1))
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(
            _lt(
                "OVT code %(address)s does not contain a valid business ID: %(problem)s",
                address=address,
                problem=exc.message,
            ),
            identifier="ovt",
            reason=exc.reason,
        ) from exc
    return text


def check_ovt(address):
    try:
        validate_ovt(address)
    except InvalidIdentifier as exc:
        return exc.message
    return None


def check_iban(address):
    try:
        validate_iban(address)
    except InvalidIdentifier as exc:
        return exc.message
    return None


def check_einvoice_address(address):
    """Validate an e-invoice address by its kind."""
    text = compact(address)
    if not text:
        return _lt("the e-invoice address is empty")
    kind = address_kind(text)
    if kind == "ovt" or text.startswith(OVT_PREFIX):
        return check_ovt(text)
    if kind == "iban":
        return check_iban(text)
    if not re.fullmatch(r"[A-Z0-9]{4,35}", text):
        return _lt(
            "e-invoice address %s must be an OVT code, an IBAN or an operator's address of 4 to 35 letters and digits",
            address,
        )
    return None


def default_peppol_endpoint(address, vat=None):
    """``(eas, endpoint)`` for a Finnish party: 0216 with the OVT code, else
    0213 with a Finnish VAT number, else ``('', '')``."""
    text = compact(address)
    if address_kind(text) == "ovt":
        return EAS_OVT, text
    vat_text = compact(vat)
    if re.fullmatch(r"FI\d{8}", vat_text):
        return EAS_FI_VAT, vat_text
    return "", ""
