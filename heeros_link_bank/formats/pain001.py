"""ISO 20022 pain.001 customer credit transfer initiation for Finnish banks.

Three things are done here, all on plain data classes:

* :func:`build` writes a pain.001.001.09 file (the version Finnish banks
  take today) or a pain.001.001.03 file (the version still accepted
  everywhere) from a :class:`Document`;
* :func:`validate` checks a file against the official ISO 20022 schema of
  its version, shipped in ``heeros_link_bank/data/xsd``;
* :func:`read` reads a pain.001 written elsewhere, e.g. by a payroll
  system, in any version (.001.03, .001.09 and the national variants that
  keep their structure), one credit transfer at a time.

Rules applied when building, from the Finnish banks' C2B guides (Finance
Finland's XML payment guide and the banks' own):

* A SEPA credit transfer (service level ``SEPA``) is in euros to an IBAN of
  a SEPA country, charges shared at service level (``SLEV``); the BIC of the
  creditor's bank may be left out.
* An urgent payment (``urgent=True`` or service level ``URGP``) carries the
  service level ``URGP``.
* A foreign payment (another currency, or an account outside SEPA) has no
  SEPA service level (none, or ``NURG``), needs the BIC of the creditor's
  bank and the creditor's country, and shares the charges (``SHAR``) unless
  told otherwise.
* Salaries and pensions are marked with the category purpose ``SALA`` /
  ``PENS`` on the payment information (B level), which makes the banks
  handle them as salary payments (not shown to others in the statement).
* A Finnish national reference (viitenumero, 7-3-1 check digit) goes to
  ``Strd/CdtrRefInf/Ref`` with type code ``SCOR`` and no issuer; an RF
  creditor reference (ISO 11649) with ``SCOR`` and issuer ``ISO``. A SEPA
  payment carries either a reference or a message (``Ustrd``), not both.
* Every amount is positive with the decimals of its currency (two; none
  for JPY and the like), a SEPA payment at most 999 999 999.99; a text
  longer than the schema or SEPA allows (names 70, ids 35, message 140
  characters, two address lines) is refused, never shortened; ids do not
  start or end with "/" nor contain "//"; end-to-end ids and payment
  information ids are unique in the file.

Every problem raises :class:`BuildError` naming the payment (its
end-to-end id) or the payment information and the field.
"""

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import iso11649
from stdnum.exceptions import ValidationError

from odoo.addons.heeros_link_base.formats import limits, xmlsafe
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import (
    BuildError,
    MalformedDocument,
    RecordError,
    SchemaViolation,
    UnrecognisedDocument,
)

from .iso_reader import IsoElementReader

VERSIONS = ("09", "03")
NAMESPACES = {version: f"urn:iso:std:iso:20022:tech:xsd:pain.001.001.{version}" for version in VERSIONS}
XSD_FOLDER = Path(__file__).resolve().parent.parent / "data" / "xsd"
NAMESPACE_RE = re.compile(r"pain\.001\.001\.(\d{2})")
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: countries whose IBANs a SEPA credit transfer reaches (EEA, Switzerland,
#: the United Kingdom, Monaco, San Marino, Andorra, Vatican City)
SEPA_COUNTRIES = frozenset(
    "AD AT BE BG CH CY CZ DE DK EE ES FI FR GB GI GR HR HU IE IS IT LI LT LU LV MC MT NL NO PL PT RO SE SI "
    "SK SM VA".split()
)
SERVICE_LEVELS = ("SEPA", "URGP", "NURG", None)
CHARGE_BEARERS = ("SLEV", "SHAR", "DEBT", "CRED")
SALARY_PURPOSES = ("SALA",)
MAX_SEPA_AMOUNT = Decimal("999999999.99")
#: ISO 4217 currencies without minor unit
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)

_CODE_RE = re.compile(r"[A-Z0-9]{1,4}")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_AMOUNT_RE = re.compile(r"\d{1,18}(\.\d{1,5})?", re.ASCII)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# schema lengths (Max35Text, Max70Text, ...) of the fields the builder writes
_NAME_MAX = 70  # SEPA's limit for names (.09 allows 140; banks cut at 70)
_ADDRESS_LINE_MAX = 70
_ADDRESS_LINES_MAX = 2  # SEPA: at most two address lines
_ID_MAX = 35
_MESSAGE_MAX = 140


# -- data ---------------------------------------------------------------


@dataclass
class Address:
    """A postal address: structured (street, building, postcode, town,
    country), free lines, or both (hybrid: town and country structured,
    the rest in lines)."""

    street: str | None = None
    building: str | None = None
    postcode: str | None = None
    town: str | None = None
    country: str | None = None
    lines: tuple = ()


@dataclass
class Party:
    """A party of a payment: the initiating party, debtor, creditor or an
    ultimate debtor. ``org_id`` is the identifier agreed with the bank (the
    service id of the payer) or a business id; ``other_account`` an account
    number that is not an IBAN (foreign payments)."""

    name: str
    iban: str | None = None
    bic: str | None = None
    address: Address | None = None
    org_id: str | None = None
    other_account: str | None = None


@dataclass
class Payment:
    """One credit transfer (C level, ``CdtTrfTxInf``)."""

    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor: Party
    reference: str | None = None
    message: str | None = None
    purpose: str | None = None
    instruction_id: str | None = None
    ultimate_debtor: Party | None = None
    #: read only: the currency of the transfer when the file gives the
    #: amount as an equivalent (``Amt/EqvtAmt``) in another currency
    transfer_currency: str | None = None


@dataclass
class PaymentInfo:
    """One payment information (B level, ``PmtInf``): the payments debited
    from one account on one day with one service level."""

    payment_info_id: str
    execution_date: date
    debtor: Party
    payments: list = field(default_factory=list)
    service_level: str | None = "SEPA"
    category_purpose: str | None = None
    urgent: bool = False
    charge_bearer: str = "SLEV"
    batch_booking: bool = True


@dataclass
class Document:
    """A whole pain.001 message (A level, ``GrpHdr``, and its payment infos)."""

    message_id: str
    created: datetime
    initiating_party: Party
    infos: list = field(default_factory=list)
    version: str = "09"

    @property
    def payments(self):
        return [payment for info in self.infos for payment in info.payments]


class NotSalaryPayment(RecordError):
    """A payment information of a file that must hold only salaries is not
    marked as salary (category purpose ``SALA``)."""


# -- references -----------------------------------------------------------


def finnish_reference_is_valid(reference):
    """True for a Finnish national reference: 4-20 digits, the last one the
    7-3-1 check digit (spaces allowed)."""
    text = "".join(str(reference or "").split())
    return text.isascii() and text.isdecimal() and fi_reference.kind(text) == "fi"


def rf_reference_is_valid(reference):
    """True for an RF creditor reference (ISO 11649)."""
    return bool(reference) and iso11649.is_valid(str(reference))


# -- building -------------------------------------------------------------


def build(doc):
    """The pain.001 file of ``doc`` (bytes, UTF-8). Raises :class:`BuildError`."""
    if doc.version not in VERSIONS:
        raise BuildError(
            f"pain.001 version {doc.version!r} is not supported",
            element="Document",
            expected="'09' (pain.001.001.09) or '03' (pain.001.001.03)",
        )
    writer = _Writer(doc.version)
    return writer.document(doc)


class _Writer:
    """Writes one document; the version decides a few element names."""

    def __init__(self, version):
        self.version = version
        self.ns = NAMESPACES[version]
        self.v09 = version == "09"
        self.bic_tag = "BICFI" if self.v09 else "BIC"
        self.org_bic_tag = "AnyBIC" if self.v09 else "BICOrBEI"
        self.where = {}
        self.tags = {}

    # errors name the place where they happen
    def error(self, message, element, expected=None):
        """A :class:`BuildError` whose message names the payment (or the
        payment information) being written; both are also attributes,
        ``end_to_end_id`` and ``payment_info_id``, for the caller."""
        who = self.where.get("payment")
        info = self.where.get("info")
        if who is not None:
            message = f"payment {who!r}: {message}"
        elif info is not None:
            message = f"payment information {info!r}: {message}"
        error = BuildError(message, element=element, expected=expected)
        error.end_to_end_id = who
        error.payment_info_id = info
        return error

    def sub(self, parent, name, text=None, **attributes):
        tag = self.tags.get(name)
        if tag is None:
            tag = self.tags[name] = f"{{{self.ns}}}{name}"
        el = etree.SubElement(parent, tag, attributes) if attributes else etree.SubElement(parent, tag)
        if text is not None:
            el.text = text
        return el

    def text(self, value, element, maximum, required=False):
        """A text field checked against its schema length; None if empty."""
        value = "" if value is None else str(value).strip()
        if not value:
            if required:
                raise self.error(f"{element} is missing", element, expected=f"1 to {maximum} characters")
            return None
        if len(value) > maximum:
            raise self.error(
                f"{element} is {len(value)} characters long", element, expected=f"at most {maximum} characters"
            )
        if _CONTROL_RE.search(value):
            raise self.error(f"{element} contains control characters", element, expected="printable text")
        return value

    def identifier(self, value, element):
        """A message, batch or payment id: 1-35 characters; as SEPA requires,
        not starting or ending with "/" and without "//"."""
        value = self.text(value, element, _ID_MAX, required=True)
        if value.startswith("/") or value.endswith("/") or "//" in value:
            raise self.error(
                f"{element} {value!r} starts or ends with '/' or contains '//'",
                element,
                expected="an id without a leading or trailing '/' and without '//'",
            )
        return value

    def iban(self, value, element):
        iban, problem = _checked_iban(value or "")
        if problem:
            raise self.error(f"invalid IBAN {value!r}: {problem}", element, expected="an IBAN with valid check digits")
        return iban

    def bic(self, value, element):
        try:
            return stdnum_bic.validate(value or "")
        except ValidationError as exc:
            raise self.error(
                f"invalid BIC {value!r}: {exc}", element, expected="8 or 11 characters, e.g. NDEAFIHH"
            ) from None

    def code(self, value, element):
        value = (value or "").strip().upper()
        if not _CODE_RE.fullmatch(value):
            raise self.error(
                f"code {value!r} is not an ISO code", element, expected="1 to 4 letters or digits, e.g. SALA"
            )
        return value

    def amount(self, value, element, currency, sepa):
        """The amount as written: positive, within bounds, with no more
        decimals than the currency has (two; none for e.g. JPY)."""
        try:
            # a float is taken as it prints (10.1, not its binary expansion)
            amount = value if isinstance(value, Decimal) else Decimal(str(value))
        except (InvalidOperation, TypeError, ValueError):
            raise self.error(
                f"amount {value!r} is not a number", element, expected="a positive amount with at most two decimals"
            ) from None
        if not amount.is_finite() or amount <= 0:
            raise self.error(f"amount {value} is not positive", element, expected="an amount greater than zero")
        limit = MAX_SEPA_AMOUNT if sepa else limits.MAX_AMOUNT - Decimal("0.01")
        if amount > limit:
            raise self.error(f"amount {value} is too large", element, expected=f"at most {limit}")
        if not _CURRENCY_RE.fullmatch(currency or ""):
            raise self.error(
                f"currency {currency!r} is not an ISO 4217 code",
                f"{element}/@Ccy",
                expected="three capital letters, e.g. EUR",
            )
        unit = Decimal(1) if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
        rounded = amount.quantize(unit)
        if rounded != amount:
            decimals = "no decimals" if unit == 1 else "at most two decimals"
            raise self.error(
                f"amount {value} has more decimals than {currency} allows",
                element,
                expected=f"{decimals} for {currency}",
            )
        return rounded

    # -- parts ----------------------------------------------------------

    def address(self, parent, address, element):
        if address is None:
            return
        values = [
            ("StrtNm", address.street, 70),
            ("BldgNb", address.building, 16),
            ("PstCd", address.postcode, 16),
            ("TwnNm", address.town, 35),
        ]
        checked = [(name, self.text(value, f"{element}/PstlAdr/{name}", maximum)) for name, value, maximum in values]
        country = (address.country or "").strip().upper() or None
        if country and not _COUNTRY_RE.fullmatch(country):
            raise self.error(
                f"country {address.country!r} is not an ISO 3166 code",
                f"{element}/PstlAdr/Ctry",
                expected="two capital letters, e.g. FI",
            )
        lines = [self.text(line, f"{element}/PstlAdr/AdrLine", _ADDRESS_LINE_MAX) for line in address.lines or ()]
        lines = [line for line in lines if line]
        if len(lines) > _ADDRESS_LINES_MAX:
            raise self.error(
                f"address has {len(lines)} lines",
                f"{element}/PstlAdr/AdrLine",
                expected=f"at most {_ADDRESS_LINES_MAX} address lines",
            )
        if not any(value for _name, value in checked) and not country and not lines:
            return
        adr = self.sub(parent, "PstlAdr")
        for name, value in checked:
            if value:
                self.sub(adr, name, value)
        if country:
            self.sub(adr, "Ctry", country)
        for line in lines:
            self.sub(adr, "AdrLine", line)

    def party(self, parent, tag, party, scheme=None, name_required=True):
        el = self.sub(parent, tag)
        name = self.text(party.name, f"{tag}/Nm", _NAME_MAX, required=name_required)
        if name:
            self.sub(el, "Nm", name)
        self.address(el, party.address, tag)
        org_id = self.text(party.org_id, f"{tag}/Id/OrgId/Othr/Id", _ID_MAX)
        if org_id:
            other = self.sub(self.sub(self.sub(el, "Id"), "OrgId"), "Othr")
            self.sub(other, "Id", org_id)
            if scheme:
                self.sub(self.sub(other, "SchmeNm"), "Cd", scheme)
        return el

    def account(self, parent, tag, party):
        ident = self.sub(self.sub(parent, tag), "Id")
        if party.iban:
            self.sub(ident, "IBAN", self.iban(party.iban, f"{tag}/Id/IBAN"))
        else:
            other = self.identifier(party.other_account, f"{tag}/Id/Othr/Id")
            self.sub(self.sub(ident, "Othr"), "Id", other)

    def agent(self, parent, tag, bic):
        institution = self.sub(self.sub(parent, tag), "FinInstnId")
        if bic:
            self.sub(institution, self.bic_tag, self.bic(bic, f"{tag}/FinInstnId/{self.bic_tag}"))

    # -- levels ---------------------------------------------------------

    def document(self, doc):
        root = etree.Element(f"{{{self.ns}}}Document", nsmap={None: self.ns})
        message = self.sub(root, "CstmrCdtTrfInitn")
        if not doc.infos:
            raise BuildError(
                "the message has no payment information",
                element="PmtInf",
                expected="at least one payment information with payments",
            )
        header = self.sub(message, "GrpHdr")
        self.sub(header, "MsgId", self.identifier(doc.message_id, "GrpHdr/MsgId"))
        self.sub(header, "CreDtTm", _datetime_text(doc.created))
        count = self.sub(header, "NbOfTxs")
        total = self.sub(header, "CtrlSum")
        self.party(header, "InitgPty", doc.initiating_party, scheme="BANK")
        number, amount = 0, Decimal(0)
        self.seen_payments, seen_infos = set(), set()
        for info in doc.infos:
            if info.payment_info_id in seen_infos:
                raise BuildError(
                    f"payment information id {info.payment_info_id!r} is used twice",
                    element="PmtInf/PmtInfId",
                    expected="a different id for every payment information",
                )
            seen_infos.add(info.payment_info_id)
            info_count, info_sum = self.info(message, info)
            number += info_count
            amount += info_sum
        count.text = str(number)
        total.text = f"{amount:.2f}"
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def info(self, message, info):
        self.where = {"info": info.payment_info_id}
        level = info.service_level
        if info.urgent:
            level = "URGP"
        if level not in SERVICE_LEVELS:
            raise self.error(
                f"service level {level!r} is not supported",
                "PmtInf/PmtTpInf/SvcLvl/Cd",
                expected="SEPA, URGP, NURG or none",
            )
        if not info.payments:
            raise self.error("no payments", "PmtInf/CdtTrfTxInf", expected="at least one payment")
        bearer = (info.charge_bearer or "SLEV").upper()
        if bearer not in CHARGE_BEARERS:
            raise self.error(
                f"charge bearer {bearer!r} is not an ISO code", "PmtInf/ChrgBr", expected="SLEV, SHAR, DEBT or CRED"
            )
        if level == "SEPA" and bearer != "SLEV":
            raise self.error(
                f"a SEPA credit transfer has charge bearer SLEV, not {bearer}", "PmtInf/ChrgBr", expected="SLEV"
            )
        if not isinstance(info.execution_date, date):
            raise self.error("execution date is missing", "PmtInf/ReqdExctnDt", expected="a date")
        execution_date = (
            info.execution_date.date() if isinstance(info.execution_date, datetime) else info.execution_date
        )
        el = self.sub(message, "PmtInf")
        self.sub(el, "PmtInfId", self.identifier(info.payment_info_id, "PmtInf/PmtInfId"))
        self.sub(el, "PmtMtd", "TRF")
        self.sub(el, "BtchBookg", "true" if info.batch_booking else "false")
        count = self.sub(el, "NbOfTxs")
        total = self.sub(el, "CtrlSum")
        category = self.code(info.category_purpose, "PmtInf/PmtTpInf/CtgyPurp/Cd") if info.category_purpose else None
        if level or category:
            kind = self.sub(el, "PmtTpInf")
            if level:
                self.sub(self.sub(kind, "SvcLvl"), "Cd", level)
            if category:
                self.sub(self.sub(kind, "CtgyPurp"), "Cd", category)
        when = self.sub(el, "ReqdExctnDt")
        if self.v09:
            self.sub(when, "Dt", execution_date.isoformat())
        else:
            when.text = execution_date.isoformat()
        debtor = info.debtor
        self.party(el, "Dbtr", debtor, scheme="BANK")
        if not debtor.iban:
            raise self.error(
                "the debtor's IBAN is missing", "PmtInf/DbtrAcct/Id/IBAN", expected="the IBAN of the account to debit"
            )
        self.account(el, "DbtrAcct", Party(name=debtor.name, iban=debtor.iban))
        if not debtor.bic:
            raise self.error(
                "the BIC of the debtor's bank is missing",
                f"PmtInf/DbtrAgt/FinInstnId/{self.bic_tag}",
                expected="the BIC of the bank of the account to debit",
            )
        self.agent(el, "DbtrAgt", debtor.bic)
        charge_bearer = self.sub(el, "ChrgBr")
        bearers = set()
        amount = Decimal(0)
        for payment in info.payments:
            charge, payment_amount = self.payment(el, payment, level, bearer)
            bearers.add(charge)
            amount += payment_amount
        self.where = {"info": info.payment_info_id}
        # foreign payments share charges unless told otherwise; the bearer
        # is given once for the whole payment information
        if len(bearers) > 1:
            raise self.error(
                "SEPA and foreign payments mixed in one payment information",
                "PmtInf/ChrgBr",
                expected="one payment information per charge bearer",
            )
        charge_bearer.text = bearers.pop()
        count.text = str(len(info.payments))
        total.text = f"{amount:.2f}"
        self.where = {}
        return len(info.payments), amount

    def payment(self, parent, payment, level, bearer):
        self.where = {"payment": payment.end_to_end_id, "info": self.where.get("info")}
        if payment.end_to_end_id in self.seen_payments:
            raise self.error(
                "end-to-end id is used twice in the file",
                "CdtTrfTxInf/PmtId/EndToEndId",
                expected="a different end-to-end id for every payment",
            )
        self.seen_payments.add(payment.end_to_end_id)
        creditor = payment.creditor
        currency = (payment.currency or "").strip().upper()
        if creditor.iban:
            iban = self.iban(creditor.iban, "CdtTrfTxInf/CdtrAcct/Id/IBAN")
            country = iban[:2]
        elif creditor.other_account:
            country = None
        else:
            raise self.error(
                "the creditor's account is missing",
                "CdtTrfTxInf/CdtrAcct/Id",
                expected="an IBAN, or an account number for a foreign payment",
            )
        foreign = currency != "EUR" or country not in SEPA_COUNTRIES
        if level == "SEPA" and foreign:
            raise self.error(
                f"a SEPA credit transfer is in euros to an IBAN of a SEPA country, not {currency} "
                f"to {'an account outside SEPA' if country else 'a non-IBAN account'}",
                "CdtTrfTxInf/Amt/InstdAmt",
                expected="service level URGP, NURG or none for foreign payments",
            )
        if foreign and not creditor.bic:
            raise self.error(
                "the BIC of the creditor's bank is missing (required for a foreign payment)",
                f"CdtTrfTxInf/CdtrAgt/FinInstnId/{self.bic_tag}",
                expected="the creditor bank's BIC",
            )
        if foreign and not (creditor.address and (creditor.address.country or "").strip()):
            raise self.error(
                "the creditor's country is missing (required for a foreign payment)",
                "CdtTrfTxInf/Cdtr/PstlAdr/Ctry",
                expected="the creditor's address with its country",
            )
        sepa = level == "SEPA"
        amount = self.amount(payment.amount, "CdtTrfTxInf/Amt/InstdAmt", currency, sepa)
        charge = bearer if not (foreign and bearer == "SLEV") else "SHAR"
        el = self.sub(parent, "CdtTrfTxInf")
        ident = self.sub(el, "PmtId")
        instruction = self.text(payment.instruction_id, "CdtTrfTxInf/PmtId/InstrId", _ID_MAX)
        if instruction:
            self.sub(ident, "InstrId", instruction)
        self.sub(ident, "EndToEndId", self.identifier(payment.end_to_end_id, "CdtTrfTxInf/PmtId/EndToEndId"))
        self.sub(self.sub(el, "Amt"), "InstdAmt", str(amount), Ccy=currency)
        if payment.ultimate_debtor is not None:
            self.party(el, "UltmtDbtr", payment.ultimate_debtor)
        if creditor.bic:
            self.agent(el, "CdtrAgt", creditor.bic)
        self.party(el, "Cdtr", creditor)
        self.account(el, "CdtrAcct", creditor)
        if payment.purpose:
            self.sub(self.sub(el, "Purp"), "Cd", self.code(payment.purpose, "CdtTrfTxInf/Purp/Cd"))
        self.remittance(el, payment, sepa)
        return charge, amount

    def remittance(self, parent, payment, sepa):
        message = self.text(payment.message, "CdtTrfTxInf/RmtInf/Ustrd", _MESSAGE_MAX)
        reference = "".join(str(payment.reference or "").split()).upper() or None
        if reference is None and message is None:
            return
        if reference and message and sepa:
            raise self.error(
                "a SEPA payment carries a reference or a message, not both",
                "CdtTrfTxInf/RmtInf",
                expected="either reference or message",
            )
        info = self.sub(parent, "RmtInf")
        if message:
            self.sub(info, "Ustrd", message)
        if reference:
            if reference.startswith("RF"):
                if not rf_reference_is_valid(reference):
                    raise self.error(
                        f"invalid RF reference {payment.reference!r}",
                        "CdtTrfTxInf/RmtInf/Strd/CdtrRefInf/Ref",
                        expected="RF, two check digits and up to 21 letters or digits (ISO 11649)",
                    )
                issuer = "ISO"
            elif finnish_reference_is_valid(reference):
                reference = reference.lstrip("0")
                issuer = None
            else:
                raise self.error(
                    f"invalid reference {payment.reference!r}",
                    "CdtTrfTxInf/RmtInf/Strd/CdtrRefInf/Ref",
                    expected="a Finnish reference (4-20 digits, 7-3-1 check digit) or an RF reference",
                )
            creditor_reference = self.sub(self.sub(info, "Strd"), "CdtrRefInf")
            kind = self.sub(creditor_reference, "Tp")
            self.sub(self.sub(kind, "CdOrPrtry"), "Cd", "SCOR")
            if issuer:
                self.sub(kind, "Issr", issuer)
            self.sub(creditor_reference, "Ref", reference)


@functools.lru_cache(maxsize=4096)
def _checked_iban(value):
    """``(compact IBAN, None)`` or ``(None, what is wrong)``; a file pays the
    same accounts again and again (the debtor's in every batch)."""
    try:
        return stdnum_iban.validate(value), None
    except ValidationError as exc:
        return None, str(exc)


def _datetime_text(value):
    if not isinstance(value, datetime):
        raise BuildError("creation time is missing", element="GrpHdr/CreDtTm", expected="a date and time")
    return value.replace(microsecond=0).isoformat()


# -- validation -----------------------------------------------------------


@functools.cache
def schema(version):
    """The official XML schema of pain.001.001.<version> (loaded once)."""
    path = XSD_FOLDER / f"pain.001.001.{version}.xsd"
    return etree.XMLSchema(etree.parse(str(path), parser=etree.XMLParser(resolve_entities=False, no_network=True)))


_ELEMENT_RE = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
_MAX_FINDINGS = 100


def validate(data, filename=""):
    """Validate a pain.001 file against the schema of its version.

    Returns the version (``'03'`` or ``'09'``). Raises
    :class:`SchemaViolation` naming the first wrong element, its line and,
    inside a credit transfer, the payment's end-to-end id; every finding is
    in ``errors``.
    """
    root = xmlsafe.parse(data, filename or None)
    version = _version(root, filename)
    if version not in VERSIONS or xmlsafe.namespace(root.tag) != NAMESPACES[version]:
        raise UnrecognisedDocument(
            f"no schema for {xmlsafe.namespace(root.tag) or 'a document without namespace'}",
            file_name=filename or None,
            element=xmlsafe.local(root.tag),
            expected="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03 or .09",
        )
    checker = schema(version)
    if checker.validate(root.getroottree()):
        return version
    findings = []
    first = None
    at_line = {}
    for el in root.iter():
        at_line.setdefault(el.sourceline, []).append(el)
    entries = list(checker.error_log)
    for entry in entries[:_MAX_FINDINGS]:
        match = _ELEMENT_RE.search(entry.message)
        name = match.group(1) if match else None
        payment = _payment_at(at_line.get(entry.line, ()), name)
        prefix = f"line {entry.line}" + (f", payment {payment!r}" if payment else "")
        findings.append(f"{prefix}: {entry.message}")
        if first is None:
            first = (entry, name, payment)
    if len(entries) > _MAX_FINDINGS:
        findings.append(f"... and {len(entries) - _MAX_FINDINGS} more")
    entry, name, payment = first
    text = f"pain.001.001.{version} does not satisfy its schema: {entry.message}"
    if payment:
        text = f"payment {payment!r}: {text}"
    error = SchemaViolation(
        text,
        errors=findings,
        file_name=filename or None,
        element=name,
        line=entry.line,
        expected=f"a document valid against pain.001.001.{version}.xsd",
    )
    error.end_to_end_id = payment
    raise error


def _payment_at(elements, name):
    """End-to-end id of the credit transfer holding the element ``name``
    among ``elements`` (those starting on the line of a finding)."""
    for el in elements:
        if name is None or xmlsafe.local(el.tag) == name:
            node = el
            while node is not None and xmlsafe.local(node.tag) != "CdtTrfTxInf":
                node = node.getparent()
            if node is None:
                return None
            for child in node.iter():
                if xmlsafe.local(child.tag) == "EndToEndId":
                    return (child.text or "").strip() or None
            return None
    return None


def _version(root, filename):
    if xmlsafe.local(root.tag) != "Document":
        raise UnrecognisedDocument(
            f"root element <{xmlsafe.local(root.tag)}> is not a pain.001 Document",
            file_name=filename or None,
            element=xmlsafe.local(root.tag),
            expected="<Document> in a pain.001.001.nn namespace",
        )
    match = NAMESPACE_RE.search(xmlsafe.namespace(root.tag))
    if not match:
        raise UnrecognisedDocument(
            f"not a pain.001 document: namespace {xmlsafe.namespace(root.tag) or '(none)'}",
            file_name=filename or None,
            element="Document",
            expected="a namespace such as urn:iso:std:iso:20022:tech:xsd:pain.001.001.09",
        )
    return match.group(1)


# -- reading --------------------------------------------------------------


def read(data, filename="", salary_only=False):
    """Read a pain.001 (.001.03, .001.09 or a variant of their structure)
    into a :class:`Document`, one credit transfer at a time.

    With ``salary_only`` every payment information must be a salary batch:
    category purpose ``SALA`` on the payment information, or on every one of
    its credit transfers; otherwise :class:`NotSalaryPayment` names it.
    """
    return _Reader(filename or None).read(data, salary_only)


class _Reader(IsoElementReader):
    def __init__(self, file_name):
        self.file_name = file_name
        self.prefix = ""
        self.header_el = None

    def get(self, el, path):
        for part in path.split("/"):
            if el is None:
                return None
            el = el.find(self.prefix + part)
        return el

    def text(self, el, path):
        found = self.get(el, path) if path else el
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def texts(self, el, name):
        return [t for t in ((c.text or "").strip() for c in el.iterchildren(self.prefix + name)) if t]

    def read(self, data, salary_only):
        if isinstance(data, str):
            data = data.encode("utf-8")
        sniff = xmlsafe.sniff(data, self.file_name)
        if sniff.is_xml and sniff.error:
            raise MalformedDocument(sniff.error, file_name=self.file_name)
        match = NAMESPACE_RE.search(sniff.namespace)
        if not sniff.is_xml or sniff.root != "Document" or not match:
            raise UnrecognisedDocument(
                f"not a pain.001 credit transfer initiation: {sniff.describe()}",
                file_name=self.file_name,
                expected="<Document> in a pain.001.001.nn namespace",
            )
        if sniff.first_child != "CstmrCdtTrfInitn":
            raise UnrecognisedDocument(
                f"pain.001 document whose message element is <{sniff.first_child}>",
                file_name=self.file_name,
                element=sniff.first_child,
                expected="<CstmrCdtTrfInitn>",
            )
        version = match.group(1)
        self.prefix = f"{{{sniff.namespace}}}"
        tags = tuple(self.prefix + name for name in ("GrpHdr", "PmtInf", "CdtTrfTxInf"))
        doc = None
        payments, categories = [], []
        infos = []
        info_number = 0
        for _event, el in xmlsafe.iterparse(data, self.file_name, events=("end",), tag=tags):
            name = el.tag[len(self.prefix) :]
            parent = el.getparent()
            if parent is None or xmlsafe.local(parent.tag) not in ("CstmrCdtTrfInitn", "PmtInf"):
                continue
            if name == "CdtTrfTxInf":
                payment, category = self.payment(el, info_number + 1, len(payments) + 1)
                payments.append(payment)
                categories.append(category)
                parent.remove(el)
            elif name == "PmtInf":
                info_number += 1
                info = self.info(el, info_number, payments, categories, salary_only)
                self.check_totals(el, f"PmtInf[{info_number}]", payments)
                infos.append(info)
                payments, categories = [], []
                el.clear()
                parent.remove(el)
            else:
                doc = self.header(el, version)
                self.header_el = el
        if doc is None:
            raise MalformedDocument(
                "the message has no group header (GrpHdr)",
                file_name=self.file_name,
                element="CstmrCdtTrfInitn/GrpHdr",
                expected="GrpHdr with MsgId and CreDtTm",
            )
        if not infos:
            raise MalformedDocument(
                "the message has no payment information (PmtInf)",
                file_name=self.file_name,
                element="CstmrCdtTrfInitn/PmtInf",
                expected="at least one PmtInf",
            )
        doc.infos = infos
        self.check_totals(self.header_el, "GrpHdr", doc.payments)
        return doc

    def check_totals(self, el, path, payments):
        """The number of transactions and control sum a level states, if it
        states them, must be those of its payments: a file that disagrees
        with itself may have lost payments on its way."""
        if el is None:
            return
        stated = self.text(el, "NbOfTxs")
        if stated is not None and (not stated.isdecimal() or len(stated) > 15 or int(stated) != len(payments)):
            raise self.error(
                f"the file states {stated[:20]!r} transactions but holds {len(payments)}",
                el.find(self.prefix + "NbOfTxs"),
                f"{path}/NbOfTxs",
                expected=f"NbOfTxs {len(payments)}",
            )
        stated = self.text(el, "CtrlSum")
        if stated is not None:
            total = sum((payment.amount for payment in payments), Decimal(0))
            if not _AMOUNT_RE.fullmatch(stated) or Decimal(stated) != total:
                raise self.error(
                    f"the control sum {stated[:40]!r} is not the sum of the amounts, {total}",
                    el.find(self.prefix + "CtrlSum"),
                    f"{path}/CtrlSum",
                    expected=f"CtrlSum {total}",
                )

    def header(self, el, version):
        message_id = self.text(el, "MsgId")
        if not message_id:
            raise self.error("message id is missing", el, "GrpHdr/MsgId", expected="MsgId")
        created_el = self.get(el, "CreDtTm")
        created = _parse_datetime(self, created_el, "GrpHdr/CreDtTm") if created_el is not None else None
        if created is None:
            raise self.error("creation time is missing", el, "GrpHdr/CreDtTm", expected="CreDtTm")
        party = self.party(self.get(el, "InitgPty")) or Party(name="")
        return Document(message_id=message_id, created=created, initiating_party=party, infos=[], version=version)

    def party(self, el, account=None, agent=None):
        if el is None:
            return None
        kids = self.kids(el)
        org = self.kids(self.get(el, "Id/OrgId"))
        org_id = self.text(org.get("Othr"), "Id")
        iban = other = None
        if account is not None:
            iban = self.text(account, "Id/IBAN")
            iban = "".join(iban.split()).upper() if iban else None
            other = None if iban else self.text(account, "Id/Othr/Id")
        bic = None
        if agent is not None:
            institution = self.kids(self.get(agent, "FinInstnId"))
            bic = self.text(institution.get("BICFI"), None) or self.text(institution.get("BIC"), None)
        return Party(
            name=self.text(kids.get("Nm"), None) or "",
            iban=iban,
            bic=bic,
            address=self.address(kids.get("PstlAdr")),
            org_id=org_id,
            other_account=other,
        )

    def address(self, el):
        if el is None:
            return None
        kids = self.kids(el)
        return Address(
            street=self.text(kids.get("StrtNm"), None),
            building=self.text(kids.get("BldgNb"), None),
            postcode=self.text(kids.get("PstCd"), None),
            town=self.text(kids.get("TwnNm"), None),
            country=self.text(kids.get("Ctry"), None),
            lines=tuple(self.texts(el, "AdrLine")),
        )

    def payment(self, el, info_number, number):
        path = f"PmtInf[{info_number}]/CdtTrfTxInf[{number}]"
        kids = self.kids(el)
        end_to_end = self.text(kids.get("PmtId"), "EndToEndId")
        if not end_to_end:
            raise self.error("end-to-end id is missing", el, f"{path}/PmtId/EndToEndId", expected="EndToEndId")
        amount_el = self.get(kids.get("Amt"), "InstdAmt")
        transfer_currency = None
        if amount_el is None:
            amount_el = self.get(kids.get("Amt"), "EqvtAmt/Amt")
            transfer_currency = self.text(kids.get("Amt"), "EqvtAmt/CcyOfTrf")
        if amount_el is None:
            raise self.error(
                f"payment {end_to_end!r}: instructed amount is missing",
                el,
                f"{path}/Amt/InstdAmt",
                expected='<InstdAmt Ccy="EUR">',
            )
        value = (amount_el.text or "").strip()
        if not _AMOUNT_RE.fullmatch(value):
            raise self.error(
                f"payment {end_to_end!r}: amount {value[:40]!r} is not a number",
                amount_el,
                f"{path}/Amt/InstdAmt",
                expected="a decimal number such as 1234.56",
            )
        amount = limits.check_amount(
            Decimal(value),
            file_name=self.file_name,
            element=f"{path}/Amt/InstdAmt",
            line=amount_el.sourceline,
            text=value,
        )
        currency = (amount_el.get("Ccy") or "").strip().upper()
        if not currency:
            raise self.error(
                f"payment {end_to_end!r}: amount without currency",
                amount_el,
                f"{path}/Amt/InstdAmt",
                expected='Ccy="EUR"',
            )
        creditor = self.party(kids.get("Cdtr"), kids.get("CdtrAcct"), kids.get("CdtrAgt"))
        if creditor is None:
            raise self.error(f"payment {end_to_end!r}: creditor is missing", el, f"{path}/Cdtr", expected="Cdtr")
        remittance = kids.get("RmtInf")
        reference = message = None
        if remittance is not None:
            message = " ".join(self.texts(remittance, "Ustrd")) or None
            for structured in remittance.iterchildren(self.prefix + "Strd"):
                reference = reference or self.text(structured, "CdtrRefInf/Ref")
        payment = Payment(
            end_to_end_id=end_to_end,
            amount=amount,
            currency=currency,
            creditor=creditor,
            reference=reference,
            message=message,
            purpose=self.text(kids.get("Purp"), "Cd"),
            instruction_id=self.text(kids.get("PmtId"), "InstrId"),
            ultimate_debtor=self.party(kids.get("UltmtDbtr")),
            transfer_currency=transfer_currency,
        )
        return payment, self.text(kids.get("PmtTpInf"), "CtgyPurp/Cd")

    def info(self, el, number, payments, categories, salary_only):
        path = f"PmtInf[{number}]"
        kids = self.kids(el)
        info_id = self.text(kids.get("PmtInfId"), None)
        if not info_id:
            raise self.error("payment information id is missing", el, f"{path}/PmtInfId", expected="PmtInfId")
        method = self.text(kids.get("PmtMtd"), None)
        if method not in ("TRF", "TRA", None):
            raise self.error(
                f"payment information {info_id!r}: payment method {method!r} is not a credit transfer",
                kids.get("PmtMtd"),
                f"{path}/PmtMtd",
                expected="TRF (credit transfer) or TRA (with transfer advice)",
            )
        kind = kids.get("PmtTpInf")
        level = self.text(kind, "SvcLvl/Cd")
        category = self.text(kind, "CtgyPurp/Cd")
        if category is None and categories and len(set(categories)) == 1:
            category = categories[0]
        if salary_only and category not in SALARY_PURPOSES:
            raise NotSalaryPayment(
                f"payment information {info_id!r} is not a salary payment (category purpose {category or 'none'})",
                file_name=self.file_name,
                element=f"{path}/PmtTpInf/CtgyPurp/Cd",
                line=el.sourceline,
                expected="category purpose SALA on the payment information or every payment",
            )
        when_el = kids.get("ReqdExctnDt")
        if when_el is None:
            raise self.error(
                f"payment information {info_id!r}: execution date is missing",
                el,
                f"{path}/ReqdExctnDt",
                expected="ReqdExctnDt",
            )
        when = _parse_date(self, when_el, f"{path}/ReqdExctnDt")
        debtor = self.party(kids.get("Dbtr"), kids.get("DbtrAcct"), kids.get("DbtrAgt")) or Party(name="")
        bearer = self.text(kids.get("ChrgBr"), None)
        if bearer is None:
            bearer = "SLEV" if level == "SEPA" else "SHAR"
        batch = self.text(kids.get("BtchBookg"), None)
        return PaymentInfo(
            payment_info_id=info_id,
            execution_date=when,
            debtor=debtor,
            payments=payments,
            service_level=level,
            category_purpose=category,
            urgent=level == "URGP" or self.text(kind, "InstrPrty") == "HIGH",
            charge_bearer=bearer,
            batch_booking=(batch or "true").lower() not in ("false", "0"),
        )


_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _parse_date(reader, el, path):
    """A date from ``ReqdExctnDt``: text (.03) or ``Dt``/``DtTm`` (.09)."""
    value = reader.text(el, None)
    if value is None:
        value = reader.text(el, "Dt") or reader.text(el, "DtTm")
    match = _DATE_RE.match(value or "")
    try:
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        pass
    raise reader.error(f"invalid date {(value or '')[:40]!r}", el, path, expected="a date YYYY-MM-DD")


def _parse_datetime(reader, el, path):
    value = (el.text or "").strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise reader.error(f"invalid date and time {value[:40]!r}", el, path, expected="YYYY-MM-DDThh:mm:ss") from None
    return parsed
