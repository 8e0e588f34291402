"""Finnish party identifiers used by e-invoicing, as plain functions.

* Business ID (Y-tunnus): seven digits, a hyphen and a check digit,
  validated with python-stdnum (``stdnum.fi.ytunnus``).
* OVT code (OVT-tunnus, EDI code): ``0037``, the eight digits of the
  business ID without the hyphen, then an optional suffix of up to five
  characters naming a unit of the organisation.
* E-invoice address: an OVT code, or for consumer and bank e-invoicing an
  IBAN; anything else an operator handed out (kept as is).
* Finnish VAT number: ``FI`` and the eight digits of the business ID.

Each ``check_*`` function returns ``None`` for a valid value and otherwise a
sentence saying what is wrong, so callers can collect the problems.
"""

import re

from stdnum import iban as stdnum_iban
from stdnum.fi import ytunnus

OVT_PREFIX = "0037"
_OVT = re.compile(r"0037(\d{8})([0-9A-Z]{0,5})")
#: Peppol electronic address schemes (EAS) used for Finnish parties.
EAS_OVT = "0216"
EAS_FI_VAT = "0213"


def compact(value):
    return "".join(str(value or "").split()).upper()


def business_id_compact(value):
    """'1234567-8' / '12345678' / 'FI12345678' -> '1234567-8' (not validated)."""
    text = compact(value).replace("-", "")
    if text.startswith("FI"):
        text = text[2:]
    if len(text) == 8 and text.isdecimal():
        return f"{text[:7]}-{text[7]}"
    return compact(value)


def check_business_id(value):
    text = business_id_compact(value)
    if not text:
        return "the business ID is empty"
    if not ytunnus.is_valid(text):
        if re.fullmatch(r"\d{7}-\d", text):
            expected = next((f"{text[:8]}{d}" for d in "0123456789"
                             if ytunnus.is_valid(f"{text[:8]}{d}")), None)
            if expected:
                return f"business ID {value} has a wrong check digit (expected {expected})"
            return f"business ID {value} has no valid check digit"
        return f"{value!r} is not a Finnish business ID (expected seven digits, a hyphen and a check digit)"
    return None


def vat_from_business_id(value):
    """'1234567-8' -> 'FI12345678'."""
    return "FI" + business_id_compact(value).replace("-", "")


def business_id_from_vat(vat):
    """'FI12345678' -> '1234567-8', or '' when ``vat`` is not a Finnish VAT number."""
    text = compact(vat)
    if re.fullmatch(r"FI\d{8}", text):
        return f"{text[2:9]}-{text[9]}"
    return ""


def address_kind(address):
    """'ovt', 'iban' or 'other'."""
    text = compact(address)
    if text.startswith(OVT_PREFIX) and text[4:12].isdecimal():
        return "ovt"
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}", text) and _iban_country(text):
        return "iban"
    return "other"


def _iban_country(text):
    """Whether the first two letters are a country that uses IBANs."""
    try:
        return bool(stdnum_iban._ibandb.info(text)[0][1])
    except (AttributeError, IndexError, TypeError):
        return stdnum_iban.is_valid(text)


def ovt_business_id(address):
    """The business ID inside an OVT code ('1234567-8'), or ''."""
    match = _OVT.fullmatch(compact(address))
    if not match:
        return ""
    digits = match.group(1)
    return f"{digits[:7]}-{digits[7]}"


def check_ovt(address):
    text = compact(address)
    match = _OVT.fullmatch(text)
    if not match:
        return (f"OVT code {address} is not valid: expected 0037, the eight digits of a business ID "
                "and at most five more characters (e.g. 003712345671 or 00371234567100100)")
    problem = check_business_id(match.group(1))
    if problem:
        return f"OVT code {address} does not contain a valid business ID: {problem}"
    return None


def check_iban(address):
    if not stdnum_iban.is_valid(compact(address)):
        return f"{address} is not a valid IBAN (check the country code, length and check digits)"
    return None


def check_einvoice_address(address):
    """Validate an e-invoice address by its kind."""
    text = compact(address)
    if not text:
        return "the e-invoice address is empty"
    kind = address_kind(text)
    if kind == "ovt" or text.startswith(OVT_PREFIX):
        return check_ovt(text)
    if kind == "iban":
        return check_iban(text)
    if not re.fullmatch(r"[A-Z0-9]{4,35}", text):
        return (f"e-invoice address {address} must be an OVT code, an IBAN or an operator's "
                "address of 4 to 35 letters and digits")
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
