"""Finvoice: build version 3.0, read versions 1.x to 3.0.

Finvoice is the Finnish banks' e-invoice message (Finance Finland). This
module is pure Python (no Odoo): it maps between the dataclasses below and
the XML.

* :func:`build` writes a Finvoice 3.0 invoice (``INV01`` invoice, ``INV02``
  credit note, ``INV08`` payment reminder) in ISO-8859-15 with decimal
  commas, in the element order of the schema, and validates it against the
  shipped Finvoice 3.0 XSD before returning it.
* :func:`parse` reads an inbound Finvoice 1.x/2.0/2.01/3.0, plain or behind
  the ebXML SOAP frame of the bank channel (frame and invoice written one
  after the other, or the invoice inside the SOAP body);
  :func:`iter_invoices` reads a file of many such invoices one at a time,
  each as a stream of its rows; :func:`iter_messages` the same file with the
  attachment messages that may follow their invoices in it.
* :func:`build_soap_envelope` writes that frame, :func:`build_framed` the
  frame followed by the invoice.
* :func:`build_attachment_message` / :func:`parse_attachment_message` handle
  the separate ``FinvoiceAttachments`` message an invoice refers to through
  ``AttachmentMessageDetails/AttachmentMessageIdentifier``.

Amounts are :class:`~decimal.Decimal` throughout. The builder writes the
amounts it is given; it does not compute totals, but it refuses an invoice
whose totals do not add up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from odoo.addons.heeros_link_base.formats import identifiers, limits, xmlsafe
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import (
    BuildError,
    LinkFormatError,
    MalformedDocument,
    RecordError,
    SchemaViolation,
)

from . import xsd

FINVOICE_VERSION = "3.0"
ENCODING = "ISO-8859-15"
XML_DECLARATION = b'<?xml version="1.0" encoding="ISO-8859-15"?>\n'
STYLESHEET = "Finvoice.xsl"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
EB_NS = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"
XLINK_NS = "http://www.w3.org/1999/xlink"
FINVOICE_SCHEMA_LOCATION = "http://www.finvoice.info/finvoice.xsd"

TYPE_INVOICE = "INV01"
TYPE_CREDIT_NOTE = "INV02"
TYPE_REMINDER = "INV08"
DEFAULT_TYPE_TEXT = {
    TYPE_INVOICE: "LASKU",
    TYPE_CREDIT_NOTE: "HYVITYSLASKU",
    TYPE_REMINDER: "MAKSUMUISTUTUS",
}
#: VAT categories (UNTDID 5305) whose breakdown must say why no VAT is charged
#: (EN 16931 BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10).
EXEMPT_CATEGORIES = {"E", "AE", "K", "G", "O"}
ATTACHMENTS_SUFFIX = "::attachments"


# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass
class Address:
    streets: list = field(default_factory=list)  # 1 to 3 lines
    town: str = ""
    post_code: str = ""
    country_code: str = ""
    country_name: str = ""
    po_box: str = ""


@dataclass
class EInvoiceAddress:
    """An e-invoice address (OVT code, IBAN, ...) and its operator or bank."""

    address: str = ""
    intermediator: str = ""
    scheme_id: str = ""  # ISO 6523 ICD of the address (0037 OVT, 0216, ...)


@dataclass
class Contact:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class BankAccount:
    iban: str = ""
    bic: str = ""
    name: str = ""
    scheme: str = "IBAN"  # IBAN, or BBAN in old files


@dataclass
class Party:
    """Seller, buyer or delivery party.

    ``business_id`` is the Finnish Y-tunnus (``*PartyIdentifier``),
    ``vat_number`` the VAT number (``*OrganisationTaxCode``),
    ``organisation_unit_number`` the OVT code (``*OrganisationUnitNumber``).
    ``einvoice_address`` is written to / read from the message transmission
    details (``From*`` for the seller, ``To*`` for the buyer).
    ``bank_accounts`` is used for the seller only.
    """

    name: str = ""
    business_id: str = ""
    business_id_scheme: str = ""
    vat_number: str = ""
    address: Address = None
    organisation_unit_number: str = ""
    einvoice_address: EInvoiceAddress = None
    contact: Contact = None
    bank_accounts: list = field(default_factory=list)


@dataclass
class VatLine:
    """One line of the VAT breakdown (``VatSpecificationDetails``)."""

    rate: Decimal = None
    base: Decimal = None
    amount: Decimal = None
    category: str = "S"  # UNTDID 5305: S, Z, E, AE, K, G, O, ...
    exemption_reason_code: str = ""  # e.g. VATEX-EU-132-1C
    exemption_reason: str = ""  # VatFreeText


@dataclass
class OverdueDetails:
    """Reminder details of a row (``RowOverDuePaymentDetails``)."""

    original_invoice_number: str = ""
    original_invoice_date: date = None
    original_due_date: date = None
    original_amount: Decimal = None
    original_reference: str = ""
    paid_amount: Decimal = None
    unpaid_amount: Decimal = None
    collection_charge: Decimal = None  # reminder fee
    interest_percent: Decimal = None
    interest_start: date = None
    interest_end: date = None
    interest_days: str = ""
    interest_amount: Decimal = None


@dataclass(slots=True)  # an invoice may have tens of thousands of rows
class InvoiceRow:
    name: str = ""
    article_id: str = ""
    description: str = ""
    quantity: Decimal = None
    unit_code: str = ""  # QuantityUnitCode, free text ("kpl", "h")
    unit_code_un: str = ""  # QuantityUnitCodeUN, UN/ECE rec. 20 ("C62", "HUR")
    unit_price: Decimal = None  # excluding VAT
    discount_percent: Decimal = None
    discount_amount: Decimal = None
    vat_rate: Decimal = None
    vat_code: str = ""
    vat_amount: Decimal = None
    total_excl_vat: Decimal = None  # RowVatExcludedAmount
    total_incl_vat: Decimal = None  # RowAmount
    position: str = ""
    free_text: list = field(default_factory=list)
    overdue: OverdueDetails = None


@dataclass
class Payment:
    """Payment instructions (``EpiDetails``) and the bank bar code.

    The first account is the one written to the payment instruction.
    ``reference`` is a Finnish or an RF creditor reference.
    """

    accounts: list = field(default_factory=list)
    reference: str = ""
    due_date: date = None  # defaults to the invoice's due date
    amount: Decimal = None  # defaults to the invoice total including VAT
    barcode: str = ""  # VirtualBankBarcode
    payment_means_code: str = ""  # UNTDID 4461: 58 SEPA credit transfer, 30 ...
    beneficiary_name: str = ""  # defaults to the seller's name
    charge_option: str = "SHA"
    epi_date: date = None  # defaults to the invoice date

    @property
    def reference_kind(self):
        """'fi', 'rf' or None (see heeros_link_base reference.kind)."""
        return fi_reference.kind(self.reference) if self.reference else None


@dataclass
class Transmission:
    """``MessageTransmissionDetails``: routing of the message."""

    message_id: str = ""
    timestamp: datetime = None
    sender: EInvoiceAddress = None
    receiver: EInvoiceAddress = None
    ref_to_message_id: str = ""
    implementation_code: str = ""
    specification_identifier: str = ""


@dataclass
class SoapFrame:
    """What the ebXML SOAP frame in front of an inbound invoice said."""

    sender: EInvoiceAddress = None
    receiver: EInvoiceAddress = None
    message_id: str = ""
    timestamp: str = ""
    ref_to_message_id: str = ""
    cpa_id: str = ""
    conversation_id: str = ""
    service: str = ""
    action: str = ""
    reference_href: str = ""


@dataclass
class FinvoiceInvoice:
    number: str = ""
    date: date = None
    type_code: str = TYPE_INVOICE
    type_code_un: str = ""  # UNTDID 1001: 380 invoice, 381 credit note
    type_text: str = ""  # defaults from the type code
    origin_code: str = "Original"
    seller: Party = field(default_factory=Party)
    buyer: Party = field(default_factory=Party)
    delivery: Party = None
    delivery_date: date = None
    language: str = ""  # InvoiceRecipientLanguageCode (FI, SV, EN)
    currency: str = "EUR"
    original_invoice_number: str = ""  # credit notes and reminders
    original_invoice_date: date = None
    order_reference: str = ""
    buyer_reference: str = ""
    period_start: date = None
    period_end: date = None
    rows_total_excl_vat: Decimal = None
    total_excl_vat: Decimal = None
    total_vat: Decimal = None
    total_incl_vat: Decimal = None
    roundoff: Decimal = None
    paid_amount: Decimal = None
    vat_total_accounting: Decimal = None  # VAT in the accounting currency
    accounting_currency: str = ""
    exchange_rate: Decimal = None
    other_currency: str = ""
    other_currency_total_excl_vat: Decimal = None
    other_currency_total_incl_vat: Decimal = None
    vat_breakdown: list = field(default_factory=list)
    free_text: list = field(default_factory=list)
    payment_terms: str = ""
    due_date: date = None
    cash_discount_date: date = None
    cash_discount_percent: Decimal = None
    cash_discount_amount: Decimal = None
    penalty_interest_percent: Decimal = None
    rows: list = field(default_factory=list)
    payment: Payment = None
    transmission: Transmission = None
    attachment_message_id: str = ""
    version: str = FINVOICE_VERSION  # as read; build always writes 3.0
    frame: SoapFrame = None  # inbound only

    @property
    def is_credit_note(self):
        return self.type_code == TYPE_CREDIT_NOTE

    @property
    def is_reminder(self):
        return self.type_code == TYPE_REMINDER


@dataclass
class Attachment:
    """One file of a Finvoice attachment message."""

    name: str = ""
    mime_type: str = ""
    content: bytes = b""
    security_class: str = ""  # SEI01..SEI99, optional
    identifier: str = ""  # filled in by the builder / read by the parser
    secure_hash: str = ""


@dataclass
class AttachmentMessage:
    message_id: str = ""  # "<invoice message id>::attachments"
    ref_to_message_id: str = ""  # the invoice's message id
    timestamp: str = ""
    sender: EInvoiceAddress = None
    receiver: EInvoiceAddress = None
    attachments: list = field(default_factory=list)


# --------------------------------------------------------------------------
# Value formatting (outbound)
# --------------------------------------------------------------------------


def _decimal(value, what):
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BuildError(f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise BuildError(f"{what}: {value!r} is not a number")
    return number


def _decimals(number):
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _plain(number, decimals):
    number = number.quantize(Decimal(1).scaleb(-decimals))
    if number == 0:
        number = abs(number)
    return f"{number:f}".replace(".", ",")


def fmt_amount(value, what="amount", *, exact_decimals=None, max_decimals=5):
    """``Decimal('1234.5')`` -> ``'1234,50'`` (at least 2 decimals).

    With ``exact_decimals`` the value must fit that many decimals (the ePI
    amount takes exactly two); otherwise up to ``max_decimals``.
    """
    number = _decimal(value, what)
    decimals = _decimals(number)
    limit = exact_decimals if exact_decimals is not None else max_decimals
    if decimals > limit:
        raise BuildError(f"{what}: {value} has more than {limit} decimals", expected=f"at most {limit} decimals")
    text = _plain(number, exact_decimals if exact_decimals is not None else max(decimals, 2))
    if len(text.lstrip("-").split(",")[0]) > 15:
        raise BuildError(f"{what}: {value} is too large", expected="at most 15 digits before the decimal comma")
    return text


def fmt_unit_price(value, what="unit price"):
    """Unit prices are rounded half-up to the 5 decimals Finvoice allows."""
    number = _decimal(value, what).quantize(Decimal("0.00001"), ROUND_HALF_UP)
    return fmt_amount(number, what)


def fmt_percent(value, what="percentage"):
    """``Decimal('25.50')`` -> ``'25,5'``; ``0`` -> ``'0'``."""
    number = _decimal(value, what)
    decimals = _decimals(number)
    if number < 0 or decimals > 3 or number >= 1000:
        raise BuildError(f"{what}: {value} is not a Finvoice percentage", expected="0 to 999 with at most 3 decimals")
    return _plain(number, decimals)


def fmt_quantity(value, what="quantity"):
    number = _decimal(value, what)
    text = _plain(number, _decimals(number))
    if len(text) > 14:
        raise BuildError(f"{what}: {value} is longer than 14 characters")
    return text


def fmt_date(value, what="date"):
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise BuildError(f"{what}: {value!r} is not a date")
    return value.strftime("%Y%m%d")


def fmt_timestamp(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


# --------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------


def _sub(parent, tag, text=None, **attrs):
    element = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def _opt(parent, tag, text, **attrs):
    """A child only when there is something to write."""
    if text is None or text == "" or text == []:
        return None
    return _sub(parent, tag, str(text), **attrs)


class _Writer:
    def __init__(self, invoice):
        self.inv = invoice
        self.currency = invoice.currency or "EUR"

    # small typed writers -------------------------------------------------
    def amount(self, parent, tag, value, what=None, currency=None):
        if value is None:
            return None
        return _sub(parent, tag, fmt_amount(value, what or tag), AmountCurrencyIdentifier=currency or self.currency)

    def date(self, parent, tag, value):
        if value is None:
            return None
        return _sub(parent, tag, fmt_date(value, tag), Format="CCYYMMDD")

    def percent(self, parent, tag, value):
        if value is None:
            return None
        return _sub(parent, tag, fmt_percent(value, tag))

    # document -----------------------------------------------------------
    def document(self):
        inv = self.inv
        root = etree.Element("Finvoice", nsmap={"xsi": XSI})
        root.set("Version", FINVOICE_VERSION)
        root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "Finvoice3.0.xsd")
        self.transmission(root)
        self.party(root, "Seller", inv.seller, name_max=70)
        self.seller_information(root)
        _opt(root, "InvoiceRecipientLanguageCode", inv.language)
        self.party(root, "Buyer", inv.buyer, name_max=70)
        if inv.delivery is not None:
            self.party(root, "Delivery", inv.delivery, name_max=35)
        if inv.delivery_date:
            self.date(_sub(root, "DeliveryDetails"), "DeliveryDate", inv.delivery_date)
        self.invoice_details(root)
        if inv.payment is not None:
            _opt(root, "VirtualBankBarcode", inv.payment.barcode)
        for index, row in enumerate(inv.rows, 1):
            self.row(root, row, index)
        self.epi(root)
        if inv.attachment_message_id:
            details = _sub(root, "AttachmentMessageDetails")
            _sub(details, "AttachmentMessageIdentifier", inv.attachment_message_id)
        return root

    def transmission(self, root):
        inv, trans = self.inv, self.inv.transmission
        if trans is None:
            return
        sender = trans.sender or inv.seller.einvoice_address
        receiver = trans.receiver or inv.buyer.einvoice_address
        details = _sub(root, "MessageTransmissionDetails")
        node = _sub(details, "MessageSenderDetails")
        _sub(node, "FromIdentifier", sender.address, SchemeID=sender.scheme_id)
        _sub(node, "FromIntermediator", sender.intermediator)
        node = _sub(details, "MessageReceiverDetails")
        _sub(node, "ToIdentifier", receiver.address, SchemeID=receiver.scheme_id)
        _sub(node, "ToIntermediator", receiver.intermediator)
        node = _sub(details, "MessageDetails")
        _sub(node, "MessageIdentifier", trans.message_id)
        _sub(node, "MessageTimeStamp", fmt_timestamp(trans.timestamp))
        _opt(node, "RefToMessageIdentifier", trans.ref_to_message_id)
        _opt(node, "ImplementationCode", trans.implementation_code)
        _opt(node, "SpecificationIdentifier", trans.specification_identifier)

    def party(self, root, prefix, party, name_max):
        details = _sub(root, f"{prefix}PartyDetails")
        _opt(details, f"{prefix}PartyIdentifier", party.business_id, SchemeID=party.business_id_scheme)
        for chunk in textwrap.wrap(party.name or "", name_max) or [""]:
            _sub(details, f"{prefix}OrganisationName", chunk)
        _opt(details, f"{prefix}OrganisationTaxCode", party.vat_number)
        address = party.address
        if address is not None:
            post = _sub(details, f"{prefix}PostalAddressDetails")
            for street in address.streets or [""]:
                _sub(post, f"{prefix}StreetName", street)
            _sub(post, f"{prefix}TownName", address.town)
            _sub(post, f"{prefix}PostCodeIdentifier", address.post_code)
            _opt(post, "CountryCode", address.country_code)
            _opt(post, "CountryName", address.country_name)
            box_tag = "DeliveryPostofficeBoxIdentifier" if prefix == "Delivery" else f"{prefix}PostOfficeBoxIdentifier"
            _opt(post, box_tag, address.po_box)
        _opt(root, f"{prefix}OrganisationUnitNumber", party.organisation_unit_number)
        contact = party.contact
        if contact is not None:
            _opt(root, f"{prefix}ContactPersonName", contact.name)
            if contact.phone or contact.email:
                comm = _sub(root, f"{prefix}CommunicationDetails")
                _opt(comm, f"{prefix}PhoneNumberIdentifier", contact.phone)
                _opt(comm, f"{prefix}EmailaddressIdentifier", contact.email)

    def seller_information(self, root):
        accounts = self.inv.seller.bank_accounts or (self.inv.payment.accounts if self.inv.payment else [])
        if not accounts:
            return
        info = _sub(root, "SellerInformationDetails")
        for account in accounts:
            node = _sub(info, "SellerAccountDetails")
            _sub(
                node,
                "SellerAccountID",
                identifiers.compact(account.iban),
                IdentificationSchemeName=account.scheme or "IBAN",
            )
            _sub(node, "SellerBic", account.bic, IdentificationSchemeName="BIC")
            _opt(node, "SellerAccountName", account.name)

    def invoice_details(self, root):
        inv = self.inv
        details = _sub(root, "InvoiceDetails")
        _sub(details, "InvoiceTypeCode", inv.type_code)
        _opt(details, "InvoiceTypeCodeUN", inv.type_code_un)
        _sub(details, "InvoiceTypeText", inv.type_text or DEFAULT_TYPE_TEXT.get(inv.type_code, "LASKU"))
        _sub(details, "OriginCode", inv.origin_code or "Original")
        _sub(details, "InvoiceNumber", inv.number)
        self.date(details, "InvoiceDate", inv.date)
        _opt(details, "OriginalInvoiceNumber", inv.original_invoice_number)
        self.date(details, "OriginalInvoiceDate", inv.original_invoice_date)
        self.date(details, "InvoicingPeriodStartDate", inv.period_start)
        self.date(details, "InvoicingPeriodEndDate", inv.period_end)
        _opt(details, "OrderIdentifier", inv.order_reference)
        _opt(details, "BuyerReferenceIdentifier", inv.buyer_reference)
        self.amount(details, "RowsTotalVatExcludedAmount", inv.rows_total_excl_vat)
        self.amount(details, "InvoiceTotalVatExcludedAmount", inv.total_excl_vat)
        self.amount(details, "InvoiceTotalVatAmount", inv.total_vat)
        self.amount(
            details,
            "InvoiceTotalVatAccountingAmount",
            inv.vat_total_accounting,
            currency=inv.accounting_currency or self.currency,
        )
        self.amount(details, "InvoiceTotalVatIncludedAmount", inv.total_incl_vat)
        self.amount(details, "InvoiceTotalRoundoffAmount", inv.roundoff)
        self.amount(details, "InvoicePaidAmount", inv.paid_amount)
        if inv.exchange_rate is not None:
            rate = _decimal(inv.exchange_rate, "ExchangeRate")
            if _decimals(rate) > 6 or rate < 0:
                raise BuildError(
                    f"ExchangeRate: {rate} is not a Finvoice exchange rate",
                    expected="a positive number with at most 6 decimals",
                )
            _sub(details, "ExchangeRate", _plain(rate, _decimals(rate)))
        other = inv.other_currency or self.currency
        self.amount(details, "OtherCurrencyAmountVatExcludedAmount", inv.other_currency_total_excl_vat, currency=other)
        self.amount(details, "OtherCurrencyAmountVatIncludedAmount", inv.other_currency_total_incl_vat, currency=other)
        for line in inv.vat_breakdown:
            node = _sub(details, "VatSpecificationDetails")
            self.amount(node, "VatBaseAmount", line.base)
            self.percent(node, "VatRatePercent", line.rate)
            _opt(node, "VatCode", line.category)
            self.amount(node, "VatRateAmount", line.amount)
            for chunk in textwrap.wrap(line.exemption_reason or "", 70)[:3]:
                _sub(node, "VatFreeText", chunk)
            _opt(node, "VatExemptionReasonCode", line.exemption_reason_code)
        for text in inv.free_text:
            for chunk in textwrap.wrap(text, 512):
                _sub(details, "InvoiceFreeText", chunk)
        self.payment_terms(details)

    def payment_terms(self, details):
        inv = self.inv
        if not any(
            (
                inv.payment_terms,
                inv.due_date,
                inv.cash_discount_date,
                inv.cash_discount_percent is not None,
                inv.cash_discount_amount is not None,
                inv.penalty_interest_percent is not None,
            )
        ):
            return
        terms = _sub(details, "PaymentTermsDetails")
        for chunk in textwrap.wrap(inv.payment_terms or "", 70)[:2]:
            _sub(terms, "PaymentTermsFreeText", chunk)
        self.date(terms, "InvoiceDueDate", inv.due_date)
        self.date(terms, "CashDiscountDate", inv.cash_discount_date)
        self.percent(terms, "CashDiscountPercent", inv.cash_discount_percent)
        self.amount(terms, "CashDiscountAmount", inv.cash_discount_amount)
        if inv.penalty_interest_percent is not None:
            fine = _sub(terms, "PaymentOverDueFineDetails")
            self.percent(fine, "PaymentOverDueFinePercent", inv.penalty_interest_percent)

    def row(self, root, row, index):
        node = _sub(root, "InvoiceRow")
        _opt(node, "ArticleIdentifier", row.article_id)
        _opt(node, "ArticleName", row.name)
        _opt(node, "ArticleDescription", row.description)
        if row.quantity is not None:
            _sub(
                node,
                "InvoicedQuantity",
                fmt_quantity(row.quantity, f"row {index} quantity"),
                QuantityUnitCode=row.unit_code,
                QuantityUnitCodeUN=row.unit_code_un,
            )
        if row.unit_price is not None:
            _sub(
                node,
                "UnitPriceAmount",
                fmt_unit_price(row.unit_price, f"row {index} unit price"),
                AmountCurrencyIdentifier=self.currency,
                UnitPriceUnitCode=row.unit_code,
                QuantityUnitCodeUN=row.unit_code_un,
            )
        _opt(node, "RowPositionIdentifier", row.position)
        if row.overdue is not None:
            self.overdue(node, row.overdue)
        for text in row.free_text:
            for chunk in textwrap.wrap(text, 512):
                _sub(node, "RowFreeText", chunk)
        self.percent(node, "RowDiscountPercent", row.discount_percent)
        self.amount(node, "RowDiscountAmount", row.discount_amount)
        self.percent(node, "RowVatRatePercent", row.vat_rate)
        _opt(node, "RowVatCode", row.vat_code)
        self.amount(node, "RowVatAmount", row.vat_amount)
        self.amount(node, "RowVatExcludedAmount", row.total_excl_vat)
        self.amount(node, "RowAmount", row.total_incl_vat)

    def overdue(self, row_node, due):
        node = _sub(row_node, "RowOverDuePaymentDetails")
        _opt(node, "RowOriginalInvoiceIdentifier", due.original_invoice_number)
        self.date(node, "RowOriginalInvoiceDate", due.original_invoice_date)
        self.date(node, "RowOriginalDueDate", due.original_due_date)
        self.amount(node, "RowOriginalInvoiceTotalAmount", due.original_amount)
        _opt(node, "RowOriginalEpiRemittanceInfoIdentifier", due.original_reference)
        self.amount(node, "RowPaidVatIncludedAmount", due.paid_amount)
        self.amount(node, "RowUnPaidVatIncludedAmount", due.unpaid_amount)
        self.amount(node, "RowCollectionChargeAmount", due.collection_charge)
        self.percent(node, "RowInterestRate", due.interest_percent)
        self.date(node, "RowInterestStartDate", due.interest_start)
        self.date(node, "RowInterestEndDate", due.interest_end)
        _opt(node, "RowInterestDateNumber", due.interest_days)
        self.amount(node, "RowInterestChargeAmount", due.interest_amount)

    def epi(self, root):
        inv, pay = self.inv, self.inv.payment
        account = pay.accounts[0]
        ref = fi_reference.compact(pay.reference) if pay.reference else ""
        epi = _sub(root, "EpiDetails")
        ident = _sub(epi, "EpiIdentificationDetails")
        self.date(ident, "EpiDate", pay.epi_date or inv.date)
        _sub(ident, "EpiReference", ref)
        parties = _sub(epi, "EpiPartyDetails")
        bfi = _sub(parties, "EpiBfiPartyDetails")
        _opt(bfi, "EpiBfiIdentifier", account.bic, IdentificationSchemeName="BIC")
        beneficiary = _sub(parties, "EpiBeneficiaryPartyDetails")
        name = " ".join((pay.beneficiary_name or inv.seller.name or "").split())[:35].strip()
        _opt(beneficiary, "EpiNameAddressDetails", name)
        _sub(
            beneficiary,
            "EpiAccountID",
            identifiers.compact(account.iban),
            IdentificationSchemeName=account.scheme or "IBAN",
        )
        instruction = _sub(epi, "EpiPaymentInstructionDetails")
        if ref:
            # SPY: Finnish national reference, ISO: RF creditor reference
            scheme = "ISO" if fi_reference.kind(ref) == "rf" else "SPY"
            _sub(instruction, "EpiRemittanceInfoIdentifier", ref, IdentificationSchemeName=scheme)
        amount = pay.amount if pay.amount is not None else inv.total_incl_vat
        _sub(
            instruction,
            "EpiInstructedAmount",
            fmt_amount(amount, "EpiInstructedAmount", exact_decimals=2),
            AmountCurrencyIdentifier=self.currency,
        )
        option = pay.charge_option or "SHA"
        _sub(instruction, "EpiCharge", option, ChargeOption=option)
        self.date(instruction, "EpiDateOptionDate", pay.due_date or inv.due_date or inv.date)
        _opt(instruction, "EpiPaymentMeansCode", pay.payment_means_code)


def _sum(values):
    return sum((Decimal(v) for v in values), Decimal(0))


def check(invoice):
    """Problems that make ``invoice`` impossible or wrong to send, as a list
    of sentences (empty when the invoice can be built)."""
    problems = []
    inv = invoice
    if inv.seller is None or inv.buyer is None:
        return ["the invoice needs both a seller and a buyer party"]
    if not inv.number:
        problems.append("the invoice has no number")
    if not inv.date:
        problems.append("the invoice has no date")
    if not re.fullmatch(r"(INV|REQ|QUO|ORD|ORC|DEV|TES|INF|PRI|DEN|SEI|REC|RES|SDD)[0-9]{2}", inv.type_code or ""):
        problems.append(f"invoice type code {inv.type_code!r} is not a Finvoice type code")
    if not (inv.seller and inv.seller.name):
        problems.append("the seller has no name")
    if not (inv.buyer and inv.buyer.name):
        problems.append("the buyer has no name")
    if not inv.rows:
        problems.append("the invoice has no rows")
    if inv.total_incl_vat is None:
        problems.append("the invoice has no total including VAT")
    if inv.type_code == TYPE_CREDIT_NOTE and inv.total_incl_vat is not None and Decimal(inv.total_incl_vat) > 0:
        problems.append("a credit note (INV02) carries negative amounts; its total is positive")
    if inv.type_code in (TYPE_CREDIT_NOTE, TYPE_REMINDER) and not inv.original_invoice_number:
        problems.append(
            f"a {DEFAULT_TYPE_TEXT[inv.type_code].lower()} ({inv.type_code}) "
            "must name the original invoice (original_invoice_number)"
        )
    if inv.total_excl_vat is not None and inv.total_vat is not None and inv.total_incl_vat is not None:
        expected = Decimal(inv.total_excl_vat) + Decimal(inv.total_vat) + Decimal(inv.roundoff or 0)
        if expected != Decimal(inv.total_incl_vat):
            problems.append(
                f"total excluding VAT {inv.total_excl_vat} + VAT {inv.total_vat}"
                f"{' + round-off ' + str(inv.roundoff) if inv.roundoff else ''}"
                f" = {expected}, not the total including VAT {inv.total_incl_vat}"
            )
    if inv.vat_breakdown and inv.total_vat is not None:
        vat_sum = _sum(line.amount or 0 for line in inv.vat_breakdown)
        if vat_sum != Decimal(inv.total_vat):
            problems.append(f"the VAT breakdown adds up to {vat_sum}, not the VAT total {inv.total_vat}")
    categories = {line.category for line in inv.vat_breakdown}
    categories |= {row.vat_code for row in inv.rows if row.vat_code}
    for line in inv.vat_breakdown:
        if line.category in EXEMPT_CATEGORIES and not (line.exemption_reason or line.exemption_reason_code):
            problems.append(
                f"the VAT breakdown line of category {line.category} needs an exemption reason (text or code)"
            )
        if line.base is None or line.amount is None:
            problems.append(f"the VAT breakdown line of category {line.category} needs a base and an amount")
    if "AE" in categories and not inv.buyer.vat_number:
        problems.append("reverse charge (AE) needs the buyer's VAT number")
    pay = inv.payment
    if pay is None or not pay.accounts or not pay.accounts[0].iban:
        problems.append("the payment has no account (IBAN) for the payment instruction")
    elif pay.reference and not fi_reference.kind(pay.reference):
        problems.append(
            f"payment reference {pay.reference!r} is neither a valid Finnish nor a valid RF creditor reference"
        )
    for account in inv.seller.bank_accounts or (pay.accounts if pay else []):
        if not account.bic:
            problems.append(f"bank account {account.iban} has no BIC")
    trans = inv.transmission
    if trans is not None:
        sender = trans.sender or inv.seller.einvoice_address
        receiver = trans.receiver or inv.buyer.einvoice_address
        if not (sender and sender.address and sender.intermediator):
            problems.append("the sender's e-invoice address and intermediator are missing")
        if not (receiver and receiver.address and receiver.intermediator):
            problems.append("the receiver's e-invoice address and intermediator are missing")
        if not trans.message_id:
            problems.append("the message transmission details have no message id")
        if not trans.timestamp:
            problems.append("the message transmission details have no timestamp")
    if inv.attachment_message_id and not inv.attachment_message_id.endswith(ATTACHMENTS_SUFFIX):
        problems.append(f"attachment message id {inv.attachment_message_id!r} must end with {ATTACHMENTS_SUFFIX!r}")
    return problems


def _serialize(root, stylesheet=None):
    body = etree.tostring(root, encoding=ENCODING, xml_declaration=False, pretty_print=True)
    head = XML_DECLARATION
    if stylesheet:
        head += f'<?xml-stylesheet type="text/xsl" href="{stylesheet}"?>\n'.encode("ascii")
    return head + body


def build(invoice, *, stylesheet=STYLESHEET):
    """Finvoice 3.0 bytes for ``invoice``, validated against the XSD.

    Raises :class:`BuildError` for data that cannot make a sendable invoice
    and :class:`SchemaViolation` (every finding with its element path) when
    the result does not satisfy the Finvoice 3.0 schema.
    """
    problems = check(invoice)
    if problems:
        raise BuildError("cannot build the Finvoice: " + "; ".join(problems), element="Finvoice")
    data = _serialize(_Writer(invoice).document(), stylesheet)
    xsd.assert_valid(data, "finvoice", file_name=f"Finvoice {invoice.number}")
    return data


# --------------------------------------------------------------------------
# ebXML SOAP frame
# --------------------------------------------------------------------------


def _routing(source):
    """(transmission, sender, receiver) of an invoice or a Transmission."""
    if isinstance(source, FinvoiceInvoice):
        trans = source.transmission or Transmission()
        return (trans, trans.sender or source.seller.einvoice_address, trans.receiver or source.buyer.einvoice_address)
    if isinstance(source, Transmission):
        return source, source.sender, source.receiver
    raise BuildError(f"cannot route a {type(source).__name__}", expected="a FinvoiceInvoice or a Transmission")


def build_soap_envelope(
    source,
    *,
    message_id=None,
    cpa_id="yoursandmycpa",
    conversation_id="",
    service="Routing",
    action="ProcessInvoice",
    ref_to_message_id=None,
    reference_id="Finvoice",
    schema_location=FINVOICE_SCHEMA_LOCATION,
    schema_version=FINVOICE_VERSION,
):
    """The ebXML SOAP frame written in front of a Finvoice message.

    ``source`` is the invoice (its transmission details, falling back to the
    seller's and buyer's e-invoice addresses) or a :class:`Transmission`.
    From/To carry the sender's and receiver's e-invoice address (role
    ``Sender``/``Receiver``) and intermediator (role ``Intermediator``); the
    message id is the invoice's ``MessageIdentifier`` and the manifest
    refers to it.
    """
    trans, sender, receiver = _routing(source)
    message_id = message_id or trans.message_id
    problems = []
    if not (sender and sender.address and sender.intermediator):
        problems.append("sender e-invoice address and intermediator")
    if not (receiver and receiver.address and receiver.intermediator):
        problems.append("receiver e-invoice address and intermediator")
    if not message_id:
        problems.append("message id")
    if not trans.timestamp:
        problems.append("timestamp")
    if problems:
        raise BuildError("cannot build the SOAP frame, missing: " + ", ".join(problems), element="SOAP-ENV:Envelope")
    if ref_to_message_id is None:
        ref_to_message_id = trans.ref_to_message_id or ""

    soap, eb = f"{{{SOAP_ENV_NS}}}", f"{{{EB_NS}}}"
    envelope = etree.Element(f"{soap}Envelope", nsmap={"SOAP-ENV": SOAP_ENV_NS, "xlink": XLINK_NS, "eb": EB_NS})
    header = etree.SubElement(envelope, f"{soap}Header")
    msg = etree.SubElement(header, f"{eb}MessageHeader")
    msg.set(f"{soap}mustUnderstand", "1")
    msg.set(f"{eb}version", "2.0")
    for tag, party, role in (("From", sender, "Sender"), ("To", receiver, "Receiver")):
        for party_id, party_role in ((party.address, role), (party.intermediator, "Intermediator")):
            node = etree.SubElement(msg, f"{eb}{tag}")
            etree.SubElement(node, f"{eb}PartyId").text = party_id
            etree.SubElement(node, f"{eb}Role").text = party_role
    etree.SubElement(msg, f"{eb}CPAId").text = cpa_id
    etree.SubElement(msg, f"{eb}ConversationId").text = conversation_id or ""
    etree.SubElement(msg, f"{eb}Service").text = service
    etree.SubElement(msg, f"{eb}Action").text = action
    data = etree.SubElement(msg, f"{eb}MessageData")
    etree.SubElement(data, f"{eb}MessageId").text = message_id
    etree.SubElement(data, f"{eb}Timestamp").text = fmt_timestamp(trans.timestamp)
    etree.SubElement(data, f"{eb}RefToMessageId").text = ref_to_message_id or None
    body = etree.SubElement(envelope, f"{soap}Body")
    manifest = etree.SubElement(body, f"{eb}Manifest")
    manifest.set(f"{eb}id", "Manifest")
    manifest.set(f"{eb}version", "2.0")
    ref = etree.SubElement(manifest, f"{eb}Reference")
    ref.set(f"{eb}id", reference_id)
    ref.set(f"{{{XLINK_NS}}}href", message_id)
    schema = etree.SubElement(ref, f"{eb}Schema")
    schema.set(f"{eb}location", schema_location)
    schema.set(f"{eb}version", schema_version)
    return _serialize(envelope)


def build_framed(invoice, **frame_options):
    """The SOAP frame followed by the invoice, as the bank channel expects."""
    document = build(invoice)
    return build_soap_envelope(invoice, **frame_options) + document


# --------------------------------------------------------------------------
# Attachment message
# --------------------------------------------------------------------------


def attachment_message_id(invoice_message_id):
    """The id of the attachment message of an invoice message:
    ``'<invoice MessageIdentifier>::attachments'``."""
    return f"{invoice_message_id}{ATTACHMENTS_SUFFIX}"


def attachment_hash(content):
    """``AttachmentSecureHash``: SHA-1 (40 lower-case hex digits) of the
    attachment's base64 text as written in ``AttachmentContent``."""
    return hashlib.sha1(base64.b64encode(content)).hexdigest()


def build_attachment_message(source, attachments):
    """The ``FinvoiceAttachments`` message for an invoice.

    ``source`` is the invoice (which must refer to this message through
    ``attachment_message_id``) or its :class:`Transmission`. The message id
    is ``<invoice message id>::attachments``, ``RefToMessageIdentifier``
    the invoice's message id, sender and receiver the invoice's. Each
    attachment gets its SHA-1 ``AttachmentSecureHash`` and the identifier
    ``<message id>::<hash>``; both are also set on the given objects.
    """
    trans, sender, receiver = _routing(source)
    if not trans.message_id:
        raise BuildError(
            "the invoice has no message id to attach to",
            element="MessageTransmissionDetails/MessageDetails/MessageIdentifier",
        )
    message_id = attachment_message_id(trans.message_id)
    if isinstance(source, FinvoiceInvoice) and source.attachment_message_id != message_id:
        raise BuildError(
            f"the invoice refers to attachment message {source.attachment_message_id!r}, not {message_id!r}",
            element="AttachmentMessageDetails/AttachmentMessageIdentifier",
            expected=message_id,
        )
    if not attachments:
        raise BuildError("an attachment message needs at least one attachment")
    if not (sender and sender.address and receiver and receiver.address):
        raise BuildError("the attachment message needs the sender's and receiver's e-invoice addresses")

    root = etree.Element("FinvoiceAttachments", nsmap={"xsi": XSI})
    root.set("Version", "1.0")
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "FinvoiceAttachments.xsd")
    details = _sub(root, "MessageTransmissionDetails")
    node = _sub(details, "MessageSenderDetails")
    _sub(node, "FromIdentifier", sender.address)
    _sub(node, "FromIntermediator", sender.intermediator)
    node = _sub(details, "MessageReceiverDetails")
    _sub(node, "ToIdentifier", receiver.address)
    _sub(node, "ToIntermediator", receiver.intermediator)
    node = _sub(details, "MessageDetails")
    _sub(node, "MessageIdentifier", message_id)
    _sub(node, "MessageTimeStamp", fmt_timestamp(trans.timestamp or datetime.now()))
    _sub(node, "RefToMessageIdentifier", trans.message_id)
    for attachment in attachments:
        content = attachment.content or b""
        attachment.secure_hash = attachment_hash(content)
        attachment.identifier = f"{message_id}::{attachment.secure_hash}"
        node = _sub(root, "AttachmentDetails")
        _sub(node, "AttachmentIdentifier", attachment.identifier)
        _sub(node, "AttachmentContent", base64.b64encode(content).decode("ascii"))
        _sub(node, "AttachmentName", attachment.name)
        _opt(node, "AttachmentSecurityClass", attachment.security_class)
        _sub(node, "AttachmentMimeType", attachment.mime_type)
        _sub(node, "AttachmentSecureHash", attachment.secure_hash)
    data = _serialize(root)
    xsd.assert_valid(data, "finvoice-attachments", file_name=message_id)
    return data


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------

_ENVELOPE_START = re.compile(rb"<(?:[\w.-]+:)?Envelope[\s>/]")
_ENVELOPE_END = re.compile(rb"</(?:[\w.-]+:)?Envelope\s*>")
_FINVOICE_START = re.compile(rb"<Finvoice[\s>/]")
_FINVOICE_END = re.compile(rb"</Finvoice\s*>")
# a document of a Finvoice file: an invoice or an attachment message
_DOCUMENT_START = re.compile(rb"<Finvoice(Attachments)?[\s>/]")
_ATTACHMENTS_END = re.compile(rb"</FinvoiceAttachments\s*>")
_XML_DECL = re.compile(rb"^\s*(?:\xef\xbb\xbf)?<\?xml[^?]*\?>")
# Finvoice 1.x files name the bank-association DTD. A declaration that only
# names an external DTD (no internal subset, hence no entity) is blanked
# out; anything else is left for xmlsafe to refuse.
_LEGACY_DOCTYPE = re.compile(rb"<!DOCTYPE\s+Finvoice\s+SYSTEM\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')\s*>")


#: values a reader shares between the rows of a document (the same VAT
#: rate, unit or price in every row is one object), up to this many each
_SHARED_VALUES = 4096


class _Reader:
    def __init__(self, file_name, line_offset=0):
        self.file_name = file_name
        self.line_offset = line_offset
        self._numbers = {}
        self._words = {}

    def _shared(self, table, key, value):
        if len(table) < _SHARED_VALUES:
            table[key] = value
        return value

    # element access -------------------------------------------------------
    @staticmethod
    def find(node, path):
        return node.find(path) if node is not None else None

    def text(self, node, path):
        element = self.find(node, path)
        if element is None or element.text is None:
            return ""
        raw = element.text
        if len(raw) > 24:
            return " ".join(raw.split())
        shared = self._words.get(raw)
        if shared is None:
            shared = self._shared(self._words, raw, " ".join(raw.split()))
        return shared

    def texts(self, node, path):
        if node is None:
            return []
        return [" ".join(e.text.split()) for e in node.findall(path) if e.text and e.text.strip()]

    def where(self, element):
        names = []
        while element is not None:
            names.append(xmlsafe.local(element.tag))
            element = element.getparent()
        return "/".join(reversed(names))

    def error(self, element, message, expected=None):
        line = element.sourceline + self.line_offset if element.sourceline else None
        return RecordError(message, file_name=self.file_name, element=self.where(element), line=line, expected=expected)

    def decimal(self, node, path):
        element = self.find(node, path)
        if element is None or not (element.text or "").strip():
            return None
        raw = element.text
        shared = self._numbers.get(raw)
        if shared is not None:
            return shared  # the same text was read, checked and bounded before
        text = "".join(raw.replace("\u00a0", " ").split())
        text = text.replace(",", ".") if "," in text else text
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise self.error(
                element, f"{raw.strip()!r} is not a number", expected="digits with a decimal comma, e.g. 1234,50"
            ) from None
        if not number.is_finite():
            raise self.error(element, f"{raw.strip()!r} is not a number")
        line = element.sourceline + self.line_offset if element.sourceline else None
        number = limits.check_amount(
            number, file_name=self.file_name, element=self.where(element), line=line, text=raw.strip()
        )
        return self._shared(self._numbers, raw, number)

    def date(self, node, path):
        element = self.find(node, path)
        if element is None or not (element.text or "").strip():
            return None
        raw = element.text.strip()
        try:
            if not re.fullmatch(r"\d{8}", raw):
                raise ValueError
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        except ValueError:
            raise self.error(element, f"{raw!r} is not a date", expected="CCYYMMDD, e.g. 20260131") from None

    def timestamp(self, node, path):
        element = self.find(node, path)
        raw = (element.text or "").strip() if element is not None else ""
        if not raw:
            return None
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise self.error(
                element, f"{raw!r} is not a date and time", expected="xs:dateTime, e.g. 2026-01-31T12:00:00+02:00"
            ) from None

    # parts ---------------------------------------------------------------
    def einvoice_address(self, node, address_tag, intermediator_tag):
        element = self.find(node, address_tag)
        address = self.text(node, address_tag)
        intermediator = self.text(node, intermediator_tag)
        if not (address or intermediator):
            return None
        return EInvoiceAddress(
            address=address,
            intermediator=intermediator,
            scheme_id=element.get("SchemeID", "") if element is not None else "",
        )

    def transmission(self, root):
        details = root.find("MessageTransmissionDetails")
        if details is None:
            return None
        info = details.find("MessageDetails")
        return Transmission(
            message_id=self.text(info, "MessageIdentifier"),
            timestamp=self.timestamp(info, "MessageTimeStamp"),
            sender=self.einvoice_address(details.find("MessageSenderDetails"), "FromIdentifier", "FromIntermediator"),
            receiver=self.einvoice_address(details.find("MessageReceiverDetails"), "ToIdentifier", "ToIntermediator"),
            ref_to_message_id=self.text(info, "RefToMessageIdentifier"),
            implementation_code=self.text(info, "ImplementationCode"),
            specification_identifier=self.text(info, "SpecificationIdentifier"),
        )

    def party(self, root, prefix):
        details = root.find(f"{prefix}PartyDetails")
        if details is None:
            return None
        party = Party(
            name=" ".join(self.texts(details, f"{prefix}OrganisationName")),
            business_id=self.text(details, f"{prefix}PartyIdentifier"),
            vat_number=self.text(details, f"{prefix}OrganisationTaxCode"),
            organisation_unit_number=self.text(root, f"{prefix}OrganisationUnitNumber"),
        )
        identifier = details.find(f"{prefix}PartyIdentifier")
        if identifier is not None:
            party.business_id_scheme = identifier.get("SchemeID", "")
        post = details.find(f"{prefix}PostalAddressDetails")
        if post is not None:
            box_tag = "DeliveryPostofficeBoxIdentifier" if prefix == "Delivery" else f"{prefix}PostOfficeBoxIdentifier"
            party.address = Address(
                streets=self.texts(post, f"{prefix}StreetName"),
                town=self.text(post, f"{prefix}TownName"),
                post_code=self.text(post, f"{prefix}PostCodeIdentifier"),
                country_code=self.text(post, "CountryCode"),
                country_name=self.text(post, "CountryName"),
                po_box=self.text(post, box_tag) or self.text(post, f"{prefix}PostOfficeBoxIdentifier"),
            )
        contact = Contact(
            name=self.text(root, f"{prefix}ContactPersonName"),
            phone=self.text(root, f"{prefix}CommunicationDetails/{prefix}PhoneNumberIdentifier"),
            email=self.text(root, f"{prefix}CommunicationDetails/{prefix}EmailaddressIdentifier"),
        )
        if contact.name or contact.phone or contact.email:
            party.contact = contact
        return party

    def bank_accounts(self, root):
        accounts = []
        for node in root.findall("SellerInformationDetails/SellerAccountDetails"):
            account_id = node.find("SellerAccountID")
            iban = self.text(node, "SellerAccountID")
            if not iban:
                continue
            accounts.append(
                BankAccount(
                    iban=iban,
                    bic=self.text(node, "SellerBic"),
                    name=self.text(node, "SellerAccountName"),
                    scheme=account_id.get("IdentificationSchemeName", "IBAN") or "IBAN",
                )
            )
        return accounts

    def vat_line(self, node):
        return VatLine(
            rate=self.decimal(node, "VatRatePercent"),
            base=self.decimal(node, "VatBaseAmount"),
            amount=self.decimal(node, "VatRateAmount"),
            category=self.text(node, "VatCode"),
            exemption_reason_code=self.text(node, "VatExemptionReasonCode"),
            exemption_reason=" ".join(self.texts(node, "VatFreeText")),
        )

    def row(self, node):
        quantity = node.find("InvoicedQuantity")
        if quantity is None or not (quantity.text or "").strip():
            quantity = node.find("DeliveredQuantity")
        price = node.find("UnitPriceAmount")
        row = InvoiceRow(
            name=self.text(node, "ArticleName"),
            article_id=self.text(node, "ArticleIdentifier"),
            description=self.text(node, "ArticleDescription"),
            unit_price=self.decimal(node, "UnitPriceAmount"),
            discount_percent=self.decimal(node, "RowDiscountPercent"),
            discount_amount=self.decimal(node, "RowDiscountAmount"),
            vat_rate=self.decimal(node, "RowVatRatePercent"),
            vat_code=self.text(node, "RowVatCode"),
            vat_amount=self.decimal(node, "RowVatAmount"),
            total_excl_vat=self.decimal(node, "RowVatExcludedAmount"),
            total_incl_vat=self.decimal(node, "RowAmount"),
            position=self.text(node, "RowPositionIdentifier"),
            free_text=self.texts(node, "RowFreeText"),
        )
        if quantity is not None:
            row.quantity = self.decimal(node, quantity.tag)
            row.unit_code = quantity.get("QuantityUnitCode", "")
            row.unit_code_un = quantity.get("QuantityUnitCodeUN", "")
        if price is not None:
            row.unit_code = row.unit_code or price.get("UnitPriceUnitCode", "")
            row.unit_code_un = row.unit_code_un or price.get("QuantityUnitCodeUN", "")
        due = node.find("RowOverDuePaymentDetails")
        if due is not None:
            row.overdue = OverdueDetails(
                original_invoice_number=self.text(due, "RowOriginalInvoiceIdentifier"),
                original_invoice_date=self.date(due, "RowOriginalInvoiceDate"),
                original_due_date=self.date(due, "RowOriginalDueDate"),
                original_amount=self.decimal(due, "RowOriginalInvoiceTotalAmount"),
                original_reference=self.text(due, "RowOriginalEpiRemittanceInfoIdentifier"),
                paid_amount=self.decimal(due, "RowPaidVatIncludedAmount"),
                unpaid_amount=self.decimal(due, "RowUnPaidVatIncludedAmount"),
                collection_charge=self.decimal(due, "RowCollectionChargeAmount"),
                interest_percent=self.decimal(due, "RowInterestRate"),
                interest_start=self.date(due, "RowInterestStartDate"),
                interest_end=self.date(due, "RowInterestEndDate"),
                interest_days=self.text(due, "RowInterestDateNumber"),
                interest_amount=self.decimal(due, "RowInterestChargeAmount"),
            )
        return row

    def payment(self, root):
        epi = root.find("EpiDetails")
        barcode = self.text(root, "VirtualBankBarcode")
        if epi is None:
            return Payment(barcode=barcode) if barcode else None
        beneficiary = epi.find("EpiPartyDetails/EpiBeneficiaryPartyDetails")
        instruction = epi.find("EpiPaymentInstructionDetails")
        account_id = self.find(beneficiary, "EpiAccountID")
        accounts = []
        if account_id is not None and (account_id.text or "").strip():
            accounts.append(
                BankAccount(
                    iban=self.text(beneficiary, "EpiAccountID"),
                    bic=self.text(epi, "EpiPartyDetails/EpiBfiPartyDetails/EpiBfiIdentifier"),
                    scheme=account_id.get("IdentificationSchemeName", "IBAN") or "IBAN",
                )
            )
        charge = self.find(instruction, "EpiCharge")
        return Payment(
            accounts=accounts,
            reference=(
                self.text(instruction, "EpiRemittanceInfoIdentifier")
                or self.text(epi, "EpiIdentificationDetails/EpiReference")
            ),
            due_date=self.date(instruction, "EpiDateOptionDate"),
            amount=self.decimal(instruction, "EpiInstructedAmount"),
            barcode=barcode,
            payment_means_code=self.text(instruction, "EpiPaymentMeansCode"),
            beneficiary_name=self.text(beneficiary, "EpiNameAddressDetails"),
            charge_option=charge.get("ChargeOption", "") if charge is not None else "",
            epi_date=self.date(epi, "EpiIdentificationDetails/EpiDate"),
        )

    def invoice(self, root, rows=None):
        """The invoice of a ``Finvoice`` element; ``rows`` the rows already
        read from it while streaming (else its ``InvoiceRow`` children)."""
        details = root.find("InvoiceDetails")
        if details is None:
            raise MalformedDocument("the Finvoice has no InvoiceDetails", file_name=self.file_name, element="Finvoice")
        total = details.find("InvoiceTotalVatIncludedAmount")
        currency = total.get("AmountCurrencyIdentifier", "") if total is not None else ""
        accounting = details.find("InvoiceTotalVatAccountingAmount")
        other = (
            details.find("OtherCurrencyAmountVatIncludedAmount")
            if details.find("OtherCurrencyAmountVatIncludedAmount") is not None
            else details.find("OtherCurrencyAmountVatExcludedAmount")
        )
        terms = details.find("PaymentTermsDetails")
        inv = FinvoiceInvoice(
            version=root.get("Version", ""),
            number=self.text(details, "InvoiceNumber"),
            date=self.date(details, "InvoiceDate"),
            type_code=self.text(details, "InvoiceTypeCode"),
            type_code_un=self.text(details, "InvoiceTypeCodeUN"),
            type_text=self.text(details, "InvoiceTypeText"),
            origin_code=self.text(details, "OriginCode"),
            seller=self.party(root, "Seller") or Party(),
            buyer=self.party(root, "Buyer") or Party(),
            delivery=self.party(root, "Delivery"),
            delivery_date=self.date(root, "DeliveryDetails/DeliveryDate"),
            language=self.text(root, "InvoiceRecipientLanguageCode"),
            currency=currency or "EUR",
            original_invoice_number=(
                self.text(details, "OriginalInvoiceNumber")
                or self.text(details, "OriginalInvoiceReference/InvoiceNumber")
            ),
            original_invoice_date=(
                self.date(details, "OriginalInvoiceDate") or self.date(details, "OriginalInvoiceReference/InvoiceDate")
            ),
            order_reference=self.text(details, "OrderIdentifier"),
            buyer_reference=self.text(details, "BuyerReferenceIdentifier"),
            period_start=self.date(details, "InvoicingPeriodStartDate"),
            period_end=self.date(details, "InvoicingPeriodEndDate"),
            rows_total_excl_vat=self.decimal(details, "RowsTotalVatExcludedAmount"),
            total_excl_vat=self.decimal(details, "InvoiceTotalVatExcludedAmount"),
            total_vat=self.decimal(details, "InvoiceTotalVatAmount"),
            total_incl_vat=self.decimal(details, "InvoiceTotalVatIncludedAmount"),
            roundoff=self.decimal(details, "InvoiceTotalRoundoffAmount"),
            paid_amount=self.decimal(details, "InvoicePaidAmount"),
            vat_total_accounting=self.decimal(details, "InvoiceTotalVatAccountingAmount"),
            accounting_currency=(accounting.get("AmountCurrencyIdentifier", "") if accounting is not None else ""),
            exchange_rate=self.decimal(details, "ExchangeRate"),
            other_currency=other.get("AmountCurrencyIdentifier", "") if other is not None else "",
            other_currency_total_excl_vat=self.decimal(details, "OtherCurrencyAmountVatExcludedAmount"),
            other_currency_total_incl_vat=self.decimal(details, "OtherCurrencyAmountVatIncludedAmount"),
            vat_breakdown=[self.vat_line(n) for n in details.findall("VatSpecificationDetails")],
            free_text=self.texts(details, "InvoiceFreeText"),
            payment_terms=" ".join(self.texts(terms, "PaymentTermsFreeText")),
            due_date=self.date(terms, "InvoiceDueDate"),
            cash_discount_date=self.date(terms, "CashDiscountDate"),
            cash_discount_percent=self.decimal(terms, "CashDiscountPercent"),
            cash_discount_amount=self.decimal(terms, "CashDiscountAmount"),
            penalty_interest_percent=self.decimal(terms, "PaymentOverDueFineDetails/PaymentOverDueFinePercent"),
            rows=rows if rows is not None else [self.row(n) for n in root.findall("InvoiceRow")],
            payment=self.payment(root),
            transmission=self.transmission(root),
            attachment_message_id=self.text(root, "AttachmentMessageDetails/AttachmentMessageIdentifier"),
        )
        inv.seller.bank_accounts = self.bank_accounts(root)
        trans = inv.transmission
        if trans is not None:
            inv.seller.einvoice_address = trans.sender
            inv.buyer.einvoice_address = trans.receiver
        if inv.seller.einvoice_address is None:
            inv.seller.einvoice_address = self.einvoice_address(
                root.find("SellerInformationDetails/InvoiceRecipientDetails"),
                "InvoiceRecipientAddress",
                "InvoiceRecipientIntermediatorAddress",
            )
        return inv

    def frame(self, envelope):
        def by_role(tag, role):
            for node in envelope.iter(f"{{*}}{tag}"):
                if self.text(node, "{*}Role").lower() == role.lower():
                    return self.text(node, "{*}PartyId")
            return ""

        def party(tag, role):
            address, intermediator = by_role(tag, role), by_role(tag, "Intermediator")
            if not (address or intermediator):
                return None
            return EInvoiceAddress(address=address, intermediator=intermediator)

        def first(tag):
            node = next(envelope.iter(f"{{*}}{tag}"), None)
            return " ".join((node.text or "").split()) if node is not None else ""

        reference = next(envelope.iter("{*}Reference"), None)
        href = ""
        if reference is not None:
            href = next((v for k, v in reference.attrib.items() if xmlsafe.local(k) == "href"), "")
        return SoapFrame(
            sender=party("From", "Sender"),
            receiver=party("To", "Receiver"),
            message_id=first("MessageId"),
            timestamp=first("Timestamp"),
            ref_to_message_id=first("RefToMessageId"),
            cpa_id=first("CPAId"),
            conversation_id=first("ConversationId"),
            service=first("Service"),
            action=first("Action"),
            reference_href=href,
        )


def _blank(match):
    return re.sub(rb"[^\r\n]", b" ", match.group(0))


def split_frame(data):
    """``(frame bytes or None, document bytes, line offset of the document)``.

    The bank channel writes the ebXML SOAP frame and the Finvoice one after
    the other (two XML documents in one file). Text without a frame, or with
    the Finvoice inside the SOAP body, is returned whole.
    """
    start = _ENVELOPE_START.search(data)
    finvoice = _FINVOICE_START.search(data)
    if start is None or (finvoice is not None and finvoice.start() < start.start()):
        return None, data, 0
    end = _ENVELOPE_END.search(data, start.end())
    if end is None:
        return None, data, 0
    rest = data[end.end() :]
    if not rest.strip():
        return None, data, 0
    frame = data[: end.end()]
    stripped = rest.lstrip(b"\r\n\t ")
    offset = data[: len(data) - len(stripped)].count(b"\n")
    if not _XML_DECL.match(stripped):
        declaration = _XML_DECL.match(frame)
        if declaration:
            stripped = declaration.group(0).strip() + stripped
    return frame, stripped, offset


def _shift(exc, offset):
    if offset and exc.line is not None:
        exc.line += offset
        exc.args = (exc.describe(),)
    return exc


def parse(data, file_name=None, *, validate=False):
    """Read an inbound file of one Finvoice (1.x to 3.0), plain or SOAP-framed.

    Returns a :class:`FinvoiceInvoice` (``frame`` holds the SOAP frame when
    there was one). Raises :class:`MalformedDocument` / :class:`UnsafeDocument`
    / :class:`EmptyDocument` for unreadable XML or a file of several invoices
    (read those with :func:`iter_invoices`), :class:`RecordError` for an
    amount or date that is not one, and, with ``validate=True``,
    :class:`SchemaViolation` when a 1.3/2.0/2.01/3.0 invoice does not
    satisfy the Finvoice 3.0 schema (which accepts all four versions).
    """
    invoices = iter_invoices(data, file_name, validate=validate)
    invoice = next(invoices)
    if next(invoices, None) is not None:
        raise MalformedDocument(
            "the file holds more than one invoice",
            file_name=file_name,
            expected="one Finvoice (a file of several is read invoice by invoice)",
        )
    return invoice


def iter_invoices(data, file_name=None, *, validate=False):
    """Yield every invoice of an inbound Finvoice file (see
    :func:`iter_messages`); an attachment message in the file is refused as
    a :class:`MalformedDocument`."""
    return _iter_documents(data, file_name, validate=validate, attachments=False)


def iter_messages(data, file_name=None, *, validate=False):
    """Yield every invoice (:class:`FinvoiceInvoice`) and every attachment
    message (:class:`AttachmentMessage`) of an inbound Finvoice file, in file
    order: operators write an invoice's attachment message, in its own SOAP
    frame or not, after the invoice. Invoices are read as
    :func:`iter_invoices` reads them; errors are those of :func:`parse` and
    :func:`parse_attachment_message`."""
    return _iter_documents(data, file_name, validate=validate, attachments=True)


def _iter_documents(data, file_name=None, *, validate=False, attachments=False):
    """Yield every invoice of an inbound Finvoice file, one at a time.

    A bank's e-invoice file is a series of SOAP frames each followed by its
    Finvoice (or Finvoices one after the other, or a Finvoice inside a SOAP
    body); each invoice is read as a stream of its rows, which are dropped
    from memory once read, so the memory needed is that of one invoice
    without its rows, whatever the size of the file. With ``validate=True``
    each invoice is checked against the schema while it streams and given
    only once it has passed (a Finvoice inside a SOAP body is checked whole
    once read). Errors are those of :func:`parse` and name the file line of
    the invoice at fault.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = data or b""
    if _LEGACY_DOCTYPE.search(data):
        data = _LEGACY_DOCTYPE.sub(_blank, data)
    for frame_bytes, document, offset in _documents(data, file_name):
        if attachments and _ROOT_ATTACHMENTS.match(document, 0, _ROOT_HEAD):
            yield _read_attachment_message(document, file_name, offset)
            continue
        frame = None
        if frame_bytes is not None:
            frame = _Reader(file_name).frame(xmlsafe.parse(frame_bytes, file_name))
        yield from _read_document(document, file_name, offset, frame, validate)


_BLANK_AT = re.compile(rb"[\r\n\t ]*+")


def _documents(data, file_name=None):
    """``(frame bytes or None, document bytes, line offset)`` for each
    document of a Finvoice file, in order (see :func:`split_frame` for one).

    Documents are cut at ``</Finvoice>`` and ``</...:Envelope>``; anything
    else that does not fit (an unclosed frame, text after the last invoice)
    is handed to the XML parser as it is, so that it reports where the file
    goes wrong.
    """
    pos, line, any_document = 0, 0, False

    def advance(to):
        nonlocal pos, line
        line += data.count(b"\n", pos, to)
        pos = to

    while True:
        advance(_BLANK_AT.match(data, pos).end())
        if pos >= len(data):
            if not any_document:
                yield None, data, 0  # nothing but blanks: the parser says so
            return
        finvoice = _DOCUMENT_START.search(data, pos)
        # only a frame before the next Finvoice matters (searching further
        # for each invoice would read the file again and again)
        envelope = _ENVELOPE_START.search(data, pos, finvoice.start() if finvoice else len(data))
        if any_document and envelope is None and finvoice is None:
            raise MalformedDocument(
                "the file goes on after its last invoice",
                file_name=file_name,
                line=line + 1,
                expected="another SOAP frame or Finvoice, or the end of the file",
            )
        any_document = True
        envelope_end = _ENVELOPE_END.search(data, envelope.end()) if envelope is not None else None
        framed = envelope_end is not None and (finvoice is None or envelope.start() < finvoice.start())
        if framed and (finvoice is None or finvoice.start() > envelope_end.start()):
            # a frame written before its invoice
            after = _BLANK_AT.match(data, envelope_end.end()).end()
            if after >= len(data):
                yield None, _rest(data, pos), line  # a lone envelope
                return
            frame = data[pos : envelope_end.end()]
            advance(after)
            stop = _document_end(data, pos)
            document = data[pos:stop] if stop else _rest(data, pos)
            if not _XML_DECL.match(document):
                declaration = _XML_DECL.match(frame)
                if declaration:
                    document = declaration.group(0).strip() + document
            yield frame, document, line
        elif framed:
            # the invoice inside the SOAP body
            stop = envelope_end.end()
            yield None, _rest(data, pos, stop), line
        else:
            stop = _document_end(data, pos)
            yield None, _rest(data, pos, stop), line
        if not stop:
            return
        advance(stop)


def _document_end(data, pos):
    """The end of the Finvoice (or attachment message) document starting at
    ``pos``, or None."""
    start = _DOCUMENT_START.search(data, pos)
    if start is None:
        return None
    end = (_ATTACHMENTS_END if start.group(1) else _FINVOICE_END).search(data, start.end())
    return end.end() if end is not None else None


def _rest(data, pos, stop=None):
    """``data[pos:stop]`` without copying a whole file: a document that is
    the only one of the file is handed over as it is."""
    if stop is None or _BLANK_AT.match(data, stop).end() >= len(data):
        return data if pos == 0 else data[pos:]
    return data[pos:stop]


#: Finvoice versions the Finvoice 3.0 schema accepts (and ``validate`` checks)
_VALIDATED_VERSIONS = ("1.3", "2.0", "2.01", "3.0")
_ROOT_FINVOICE = re.compile(rb"(?:\xef\xbb\xbf)?+(?:\s++|<\?.*?\?>|<!--.*?-->)*+<Finvoice(?=[\s>/])([^>]*)>", re.DOTALL)
# possessive: a long run of blanks that is not followed by the root is given
# up at once (no backtracking through every way of splitting it)
_ROOT_ATTACHMENTS = re.compile(
    rb"(?:\xef\xbb\xbf)?+(?:\s++|<\?.*?\?>|<!--.*?-->)*+<FinvoiceAttachments(?=[\s>/])", re.DOTALL
)
#: how far into a document its root element is looked for
_ROOT_HEAD = 64 * 1024
_VERSION_ATTRIBUTE = re.compile(rb"\sVersion\s*=\s*([\"'])(.*?)\1")


def _root_finvoice_version(document):
    """The ``Version`` of a document whose root is a ``Finvoice`` ('' when
    it has none), None for any other document."""
    match = _ROOT_FINVOICE.match(document)
    if match is None:
        return None
    version = _VERSION_ATTRIBUTE.search(match.group(1))
    return version.group(2).decode("ascii", "replace") if version else ""


def _read_document(document, file_name, offset, frame, validate):
    """Yield the invoices of one XML document: a ``Finvoice`` or a SOAP
    ``Envelope`` carrying Finvoices in its body.

    With ``validate``, a Finvoice document is checked against the schema as
    it streams (its invoice is given only once the check has passed); a
    Finvoice inside a SOAP body is checked whole once read.
    """
    check = None
    if validate:
        version = _root_finvoice_version(document)
        if version is None:
            check = "whole"
        elif version in _VALIDATED_VERSIONS:
            check = "stream"
    reader = _Reader(file_name, offset)
    events = xmlsafe.iterparse(
        document,
        file_name,
        events=("end",),
        tag=("Finvoice", "InvoiceRow"),
        schema=xsd.streaming_schema("finvoice") if check == "stream" else None,
    )
    rows = {}  # Finvoice element -> the rows read from it so far
    found = 0
    held = None  # the invoice of a streamed check, given once the check has passed
    deferred = None  # an error in what a streamed check read, raised if the schema is satisfied
    while True:
        try:
            _event, element = next(events)
        except StopIteration as stop:
            root = stop.value
            break
        except SchemaViolation as exc:
            raise xsd.refused(document, "finvoice", file_name, exc) from None
        except LinkFormatError as exc:
            raise _shift(exc, offset) from None
        parent = element.getparent()
        if element.tag == "InvoiceRow":
            if check != "whole" and parent is not None and parent.tag == "Finvoice":
                if deferred is None:
                    try:
                        rows.setdefault(parent, []).append(reader.row(element))
                    except LinkFormatError as exc:
                        if check != "stream":
                            raise
                        deferred = exc
                element.clear()
                parent.remove(element)
            continue
        own_rows = rows.pop(element, [])
        top = element
        while top.getparent() is not None:
            top = top.getparent()
        invoice_frame = frame
        if top is not element:
            if frame is not None or xmlsafe.local(top.tag) != "Envelope":
                continue  # a Finvoice inside something else: refused below
            invoice_frame = reader.frame(top)
        found += 1
        if check == "stream":
            if deferred is None:
                try:
                    held = _read_invoice(reader, element, own_rows, invoice_frame, False)
                except LinkFormatError as exc:
                    deferred = exc
        else:
            yield _read_invoice(reader, element, own_rows, invoice_frame, check == "whole")
        element.clear()
        if parent is not None:
            parent.remove(element)
    if deferred is not None:
        raise deferred
    if held is not None:
        yield held
    if found:
        return
    if xmlsafe.local(root.tag) == "Envelope" and frame is None:
        raise MalformedDocument(
            "the SOAP envelope carries no Finvoice",
            file_name=file_name,
            element="Envelope",
            expected="a Finvoice after or inside the SOAP frame",
        )
    raise MalformedDocument(
        f"not a Finvoice: the root element is <{xmlsafe.local(root.tag)}>",
        file_name=file_name,
        line=_line(root, offset),
        element=xmlsafe.local(root.tag),
        expected="<Finvoice>",
    )


def _read_invoice(reader, root, rows, frame, validate):
    """The invoice of a ``Finvoice`` element, checked whole against the
    schema first with ``validate`` (its rows then read from the element)."""
    if validate and root.get("Version") in _VALIDATED_VERSIONS:
        violation = xsd.validate(root, "finvoice", reader.file_name)
        if violation is not None:
            raise violation
    invoice = reader.invoice(root, rows=None if validate else rows)
    invoice.frame = frame
    if frame is not None:
        if invoice.seller.einvoice_address is None:
            invoice.seller.einvoice_address = frame.sender
        if invoice.buyer.einvoice_address is None:
            invoice.buyer.einvoice_address = frame.receiver
    return invoice


def _line(element, offset):
    return element.sourceline + offset if element.sourceline else None


def parse_attachment_message(data, file_name=None):
    """Read a ``FinvoiceAttachments`` message (plain or SOAP-framed).

    The content of every attachment is decoded and checked against its
    ``AttachmentSecureHash`` (SHA-1 of the base64 text, or of the decoded
    file, since senders differ); a mismatch is a :class:`RecordError`.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    _frame, document, offset = split_frame(data)
    return _read_attachment_message(document, file_name, offset)


def _read_attachment_message(document, file_name, offset):
    """The :class:`AttachmentMessage` of one XML document (its SOAP frame
    already split off, ``offset`` the file line the document starts on)."""
    try:
        root = xmlsafe.parse(document, file_name)
    except LinkFormatError as exc:
        raise _shift(exc, offset) from None
    if xmlsafe.local(root.tag) == "Envelope":
        inner = next(root.iter("FinvoiceAttachments"), None)
        root = inner if inner is not None else root
    if root.tag != "FinvoiceAttachments":
        raise MalformedDocument(
            f"not a Finvoice attachment message: the root element is <{xmlsafe.local(root.tag)}>",
            file_name=file_name,
            element=xmlsafe.local(root.tag),
            expected="<FinvoiceAttachments>",
        )
    reader = _Reader(file_name, offset)
    details = root.find("MessageTransmissionDetails")
    info = reader.find(details, "MessageDetails")
    message = AttachmentMessage(
        message_id=reader.text(info, "MessageIdentifier"),
        ref_to_message_id=reader.text(info, "RefToMessageIdentifier"),
        timestamp=reader.text(info, "MessageTimeStamp"),
        sender=reader.einvoice_address(
            reader.find(details, "MessageSenderDetails"), "FromIdentifier", "FromIntermediator"
        ),
        receiver=reader.einvoice_address(
            reader.find(details, "MessageReceiverDetails"), "ToIdentifier", "ToIntermediator"
        ),
    )
    for node in root.findall("AttachmentDetails"):
        content_node = node.find("AttachmentContent")
        encoded = "".join((content_node.text or "").split()) if content_node is not None else ""
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise reader.error(
                content_node if content_node is not None else node, "the attachment content is not base64"
            ) from None
        declared = reader.text(node, "AttachmentSecureHash").lower()
        candidates = {hashlib.sha1(encoded.encode("ascii")).hexdigest(), hashlib.sha1(content).hexdigest()}
        if declared and declared not in candidates:
            raise reader.error(
                node.find("AttachmentSecureHash"),
                "the attachment's secure hash does not match its content",
                expected=attachment_hash(content),
            )
        message.attachments.append(
            Attachment(
                name=reader.text(node, "AttachmentName"),
                mime_type=reader.text(node, "AttachmentMimeType"),
                content=content,
                security_class=reader.text(node, "AttachmentSecurityClass"),
                identifier=reader.text(node, "AttachmentIdentifier"),
                secure_hash=declared,
            )
        )
    return message
