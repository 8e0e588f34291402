"""Inbound purchase invoices as one neutral shape, whatever their format.

:func:`from_finvoice` maps a :class:`~.finvoice.FinvoiceInvoice` (as read
by :func:`.finvoice.iter_invoices`) and :func:`read_ubl` reads a UBL 2.1
Invoice or CreditNote (Peppol BIS 3, EN 16931, EHF, XRechnung-UBL) into an
:class:`InboundInvoice`. The Odoo side builds a vendor bill from that one
shape. Pure Python: no Odoo.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import MalformedDocument, RecordError

from . import finvoice as fv

UBL_NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
#: UNTDID 1001 document type codes of a credit note.
CREDIT_NOTE_CODES = {"381", "396", "532", "81", "83"}


@dataclass
class InboundParty:
    """Seller or buyer: every identifier the document gave."""

    name: str = ""
    business_id: str = ""  # Finnish Y-tunnus or another registry number
    vat_number: str = ""
    ovt: str = ""  # Finnish OVT / e-invoice address
    peppol_scheme: str = ""  # ISO 6523 ICD of the Peppol endpoint (0216, 0037, 0007, ...)
    peppol_endpoint: str = ""
    ibans: list = field(default_factory=list)
    bics: list = field(default_factory=list)
    country_code: str = ""

    def identifiers(self):
        """``(label, value)`` of what the party is known by, for texts."""
        pairs = (
            ("OVT", self.ovt),
            ("Peppol", f"{self.peppol_scheme}:{self.peppol_endpoint}" if self.peppol_endpoint else ""),
            ("business id", self.business_id),
            ("VAT", self.vat_number),
        )
        return [(label, value) for label, value in pairs if value]


@dataclass
class InboundTax:
    """One VAT rate of the document (or of a line): UNTDID 5305 category."""

    rate: Decimal = Decimal(0)
    category: str = "S"
    base: Decimal = None
    amount: Decimal = None


@dataclass
class InboundLine:
    name: str = ""
    quantity: Decimal = Decimal(1)
    unit_code: str = ""  # UN/ECE rec. 20
    unit_price: Decimal = None  # net, per unit of quantity
    discount_percent: Decimal = None
    total_excl_vat: Decimal = None
    seller_code: str = ""
    buyer_code: str = ""
    tax: InboundTax = field(default_factory=InboundTax)


@dataclass
class InboundAttachment:
    name: str = ""
    mime_type: str = ""
    content: bytes = b""


@dataclass
class InboundInvoice:
    """A purchase invoice or credit note as the document states it."""

    format: str = ""  # finvoice or ubl
    version: str = ""
    number: str = ""
    document_id: str = ""  # the transport's unique id (Peppol / Finvoice message id)
    is_credit_note: bool = False
    date: date = None
    due_date: date = None
    currency: str = "EUR"
    seller: InboundParty = field(default_factory=InboundParty)
    buyer: InboundParty = field(default_factory=InboundParty)
    payment_reference: str = ""
    order_reference: str = ""
    buyer_reference: str = ""
    original_invoice_number: str = ""
    lines: list = field(default_factory=list)
    taxes: list = field(default_factory=list)  # InboundTax per rate and category
    total_excl_vat: Decimal = None
    total_vat: Decimal = None
    total_incl_vat: Decimal = None
    payable: Decimal = None
    attachments: list = field(default_factory=list)
    attachment_message_id: str = ""
    sender_address: str = ""  # the e-invoice address the message came from (Finvoice)
    notes: list = field(default_factory=list)


# --------------------------------------------------------------------------
# Finvoice
# --------------------------------------------------------------------------
def _abs(value):
    return abs(value) if value is not None else None


def _finvoice_party(party, address=None):
    result = InboundParty(
        name=party.name or "",
        business_id=party.business_id or "",
        vat_number=party.vat_number or "",
        ovt=party.organisation_unit_number or "",
    )
    einvoice = party.einvoice_address or address
    if einvoice and einvoice.address and not result.ovt:
        result.ovt = einvoice.address
    if party.address:
        result.country_code = party.address.country_code or ""
    for account in party.bank_accounts or ():
        if account.iban:
            result.ibans.append(account.iban.replace(" ", "").upper())
            result.bics.append(account.bic or "")
    return result


def from_finvoice(invoice):
    """An :class:`InboundInvoice` of a Finvoice read by :mod:`.finvoice`
    (rows read here if they are still a stream). Credit notes (``INV02`` or
    negative totals) are given with positive amounts."""
    rows = list(invoice.rows or ())
    credit = invoice.type_code == fv.TYPE_CREDIT_NOTE or (
        invoice.total_incl_vat is not None and invoice.total_incl_vat < 0
    )
    sign = Decimal(-1) if credit and (invoice.total_incl_vat or 0) < 0 else Decimal(1)
    frame = invoice.frame
    transmission = invoice.transmission
    seller = _finvoice_party(invoice.seller, frame.sender if frame else None)
    buyer = _finvoice_party(
        invoice.buyer, (transmission.receiver if transmission else None) or (frame.receiver if frame else None)
    )
    payment = invoice.payment
    if payment:
        for account in payment.accounts or ():
            iban = (account.iban or "").replace(" ", "").upper()
            if iban and iban not in seller.ibans:
                seller.ibans.append(iban)
                seller.bics.append(account.bic or "")
    result = InboundInvoice(
        format="finvoice",
        version=invoice.version,
        number=invoice.number or "",
        document_id=(transmission.message_id if transmission else "") or (frame.message_id if frame else ""),
        is_credit_note=credit,
        date=invoice.date,
        due_date=invoice.due_date or (payment.due_date if payment else None),
        currency=invoice.currency or "EUR",
        seller=seller,
        buyer=buyer,
        payment_reference=(payment.reference if payment else "") or "",
        order_reference=invoice.order_reference or "",
        buyer_reference=invoice.buyer_reference or "",
        original_invoice_number=invoice.original_invoice_number or "",
        total_excl_vat=_times(invoice.total_excl_vat, sign),
        total_vat=_times(invoice.total_vat, sign),
        total_incl_vat=_times(invoice.total_incl_vat, sign),
        attachment_message_id=invoice.attachment_message_id or "",
        sender_address=_sender_address(invoice),
        notes=list(invoice.free_text or ()),
    )
    result.payable = result.total_incl_vat
    if invoice.paid_amount is not None and result.total_incl_vat is not None:
        result.payable = result.total_incl_vat - abs(invoice.paid_amount)
    for vat in invoice.vat_breakdown:
        result.taxes.append(
            InboundTax(
                rate=vat.rate or Decimal(0),
                category=vat.category or "S",
                base=_times(vat.base, sign),
                amount=_times(vat.amount, sign),
            )
        )
    for row in rows:
        if row.total_excl_vat is None and row.unit_price is None:
            continue  # a text row
        result.lines.append(_finvoice_line(row, sign, result.taxes))
    _balance_by_rate(result, "Charges and allowances of the invoice")
    return result


def _sender_address(invoice):
    """The e-invoice address the Finvoice was sent from: its transmission
    details, else its SOAP frame, else the seller's own address."""
    for source in (invoice.transmission, invoice.frame):
        sender = source.sender if source is not None else None
        if sender is not None and sender.address:
            return sender.address
    address = invoice.seller.einvoice_address
    return (address.address or "") if address is not None else ""


def _balance_by_rate(result, label):
    """Add a line per VAT rate for the document-level charges and
    allowances: the difference between the breakdown's base of a rate and
    the lines of that rate (Finvoice ``ChargeDetails`` and the like)."""
    lines = {}
    for line in result.lines:
        key = (line.tax.rate, line.tax.category)
        lines[key] = lines.get(key, Decimal(0)) + (line.total_excl_vat or Decimal(0))
    for tax in result.taxes:
        if tax.base is None:
            return
    for tax in result.taxes:
        difference = tax.base - lines.pop((tax.rate, tax.category), Decimal(0))
        if difference:
            result.lines.append(
                InboundLine(
                    name=label,
                    quantity=Decimal(1),
                    unit_price=difference,
                    total_excl_vat=difference,
                    tax=InboundTax(rate=tax.rate, category=tax.category),
                )
            )


def _times(value, sign):
    return value * sign if value is not None else None


def _finvoice_line(row, sign, taxes):
    quantity = row.quantity if row.quantity is not None else Decimal(1)
    total = row.total_excl_vat
    if total is None and row.total_incl_vat is not None and row.vat_amount is not None:
        total = row.total_incl_vat - row.vat_amount
    if total is None:
        total = quantity * row.unit_price
    rate = row.vat_rate
    category = row.vat_code or ""
    if rate is None and len(taxes) == 1:
        # an old file states the rate only in its VAT breakdown
        rate, category = taxes[0].rate, category or taxes[0].category
    rate = rate if rate is not None else Decimal(0)
    if not category:
        matching = [t.category for t in taxes if t.rate == rate]
        category = matching[0] if matching else ("S" if rate else "Z")
    return InboundLine(
        name=row.name or row.description or row.article_id or "-",
        quantity=abs(quantity) if quantity else Decimal(1),
        unit_code=row.unit_code_un or "",
        unit_price=row.unit_price,
        discount_percent=row.discount_percent,
        total_excl_vat=total * sign if sign < 0 else total,
        seller_code=row.article_id or "",
        tax=InboundTax(rate=rate, category=category),
    )


# --------------------------------------------------------------------------
# UBL 2.1
# --------------------------------------------------------------------------
def _text(node, path):
    found = node.find(path, UBL_NS)
    return (found.text or "").strip() if found is not None and found.text else ""


def _amount(node, path, file_name, required=False):
    found = node.find(path, UBL_NS)
    if found is None or not (found.text or "").strip():
        if required:
            raise RecordError(f"{path} is missing", file_name=file_name, element=path, expected="an amount")
        return None
    try:
        return Decimal(found.text.strip())
    except InvalidOperation:
        raise RecordError(
            f"{path} is not an amount: {found.text.strip()!r}",
            file_name=file_name,
            element=path,
            line=found.sourceline,
            expected="a decimal number",
        ) from None


def _date(node, path, file_name):
    value = _text(node, path)
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise RecordError(
            f"{path} is not a date: {value!r}", file_name=file_name, element=path, expected="YYYY-MM-DD"
        ) from None


def _ubl_party(party):
    result = InboundParty()
    if party is None:
        return result
    endpoint = party.find("cbc:EndpointID", UBL_NS)
    if endpoint is not None and endpoint.text:
        result.peppol_scheme = endpoint.get("schemeID", "")
        result.peppol_endpoint = endpoint.text.strip()
        if result.peppol_scheme == "0037":
            result.ovt = result.peppol_endpoint
    result.name = _text(party, "cac:PartyLegalEntity/cbc:RegistrationName") or _text(party, "cac:PartyName/cbc:Name")
    for tax_scheme in party.findall("cac:PartyTaxScheme", UBL_NS):
        if _text(tax_scheme, "cac:TaxScheme/cbc:ID").upper() in ("VAT", "") and not result.vat_number:
            result.vat_number = _text(tax_scheme, "cbc:CompanyID")
    legal = party.find("cac:PartyLegalEntity/cbc:CompanyID", UBL_NS)
    ids = [legal] if legal is not None else []
    ids += party.findall("cac:PartyIdentification/cbc:ID", UBL_NS)
    for node in ids:
        value = (node.text or "").strip()
        scheme = node.get("schemeID", "")
        if not value:
            continue
        if scheme == "0037" and not result.ovt:
            result.ovt = value
        elif (not result.business_id and scheme in ("0212", "")) or (
            scheme == "0216" and not result.business_id and not value.startswith("0037")
        ):
            result.business_id = value
    result.country_code = _text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode")
    return result


def read_ubl(data, file_name=None):
    """An :class:`InboundInvoice` of a UBL 2.1 Invoice or CreditNote.

    Raises the typed errors of :mod:`xmlsafe` for unsafe or malformed XML,
    :class:`RecordError` for an amount or date that is not one."""
    root = xmlsafe.parse(data, file_name)
    kind = xmlsafe.local(root.tag)
    if kind not in ("Invoice", "CreditNote"):
        raise MalformedDocument(
            f"root element is {kind}", file_name=file_name, element=kind, expected="a UBL Invoice or CreditNote"
        )
    type_code = _text(root, f"cbc:{kind}TypeCode")
    credit = kind == "CreditNote" or type_code in CREDIT_NOTE_CODES
    payable_node = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS)
    negative = kind == "Invoice" and payable_node is not None and (payable_node.text or "").strip().startswith("-")
    credit = credit or negative
    result = InboundInvoice(
        format="ubl",
        version=_text(root, "cbc:CustomizationID"),
        number=_text(root, "cbc:ID"),
        document_id=_text(root, "cbc:UUID"),
        is_credit_note=credit,
        date=_date(root, "cbc:IssueDate", file_name),
        due_date=(
            _date(root, "cbc:DueDate", file_name) or _date(root, "cac:PaymentMeans/cbc:PaymentDueDate", file_name)
        ),
        currency=_text(root, "cbc:DocumentCurrencyCode") or "EUR",
        seller=_ubl_party(root.find("cac:AccountingSupplierParty/cac:Party", UBL_NS)),
        buyer=_ubl_party(root.find("cac:AccountingCustomerParty/cac:Party", UBL_NS)),
        payment_reference=_text(root, "cac:PaymentMeans/cbc:PaymentID"),
        order_reference=_text(root, "cac:OrderReference/cbc:ID"),
        buyer_reference=_text(root, "cbc:BuyerReference"),
        original_invoice_number=_text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"),
        notes=[n.text.strip() for n in root.findall("cbc:Note", UBL_NS) if n.text and n.text.strip()],
    )
    for means in root.findall("cac:PaymentMeans", UBL_NS):
        iban = _text(means, "cac:PayeeFinancialAccount/cbc:ID").replace(" ", "").upper()
        if iban and iban not in result.seller.ibans:
            result.seller.ibans.append(iban)
            result.seller.bics.append(_text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"))
    totals = root.find("cac:LegalMonetaryTotal", UBL_NS)
    if totals is None:
        raise RecordError(
            "cac:LegalMonetaryTotal is missing",
            file_name=file_name,
            element="LegalMonetaryTotal",
            expected="the document totals (BG-22)",
        )
    result.total_excl_vat = _amount(totals, "cbc:TaxExclusiveAmount", file_name, required=True)
    result.total_incl_vat = _amount(totals, "cbc:TaxInclusiveAmount", file_name, required=True)
    result.payable = _amount(totals, "cbc:PayableAmount", file_name, required=True)
    vat = Decimal(0)
    for tax_total in root.findall("cac:TaxTotal", UBL_NS):
        amount_node = tax_total.find("cbc:TaxAmount", UBL_NS)
        if amount_node is not None and amount_node.get("currencyID", result.currency) != result.currency:
            continue  # the VAT in the accounting currency (BT-111)
        vat += _amount(tax_total, "cbc:TaxAmount", file_name) or Decimal(0)
        for sub in tax_total.findall("cac:TaxSubtotal", UBL_NS):
            result.taxes.append(
                InboundTax(
                    rate=_amount(sub, "cac:TaxCategory/cbc:Percent", file_name) or Decimal(0),
                    category=_text(sub, "cac:TaxCategory/cbc:ID") or "S",
                    base=_amount(sub, "cbc:TaxableAmount", file_name),
                    amount=_amount(sub, "cbc:TaxAmount", file_name),
                )
            )
    result.total_vat = vat
    line_tag = "cac:CreditNoteLine" if kind == "CreditNote" else "cac:InvoiceLine"
    quantity_tag = "cbc:CreditedQuantity" if kind == "CreditNote" else "cbc:InvoicedQuantity"
    for node in root.findall(line_tag, UBL_NS):
        result.lines.append(_ubl_line(node, quantity_tag, file_name))
    for charge in root.findall("cac:AllowanceCharge", UBL_NS):
        is_charge = _text(charge, "cbc:ChargeIndicator").lower() == "true"
        amount = _amount(charge, "cbc:Amount", file_name, required=True)
        reason = _text(charge, "cbc:AllowanceChargeReason") or ("Charge" if is_charge else "Allowance")
        result.lines.append(
            InboundLine(
                name=reason,
                quantity=Decimal(1),
                unit_price=amount if is_charge else -amount,
                total_excl_vat=amount if is_charge else -amount,
                tax=InboundTax(
                    rate=_amount(charge, "cac:TaxCategory/cbc:Percent", file_name) or Decimal(0),
                    category=_text(charge, "cac:TaxCategory/cbc:ID") or "S",
                ),
            )
        )
    for ref in root.findall("cac:AdditionalDocumentReference", UBL_NS):
        binary = ref.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", UBL_NS)
        if binary is None or not (binary.text or "").strip():
            continue
        try:
            content = base64.b64decode("".join(binary.text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise RecordError(
                "an embedded attachment is not base64",
                file_name=file_name,
                element="EmbeddedDocumentBinaryObject",
                line=binary.sourceline,
                expected="base64 content",
            ) from None
        result.attachments.append(
            InboundAttachment(
                name=binary.get("filename") or _text(ref, "cbc:ID") or "attachment",
                mime_type=binary.get("mimeCode", "application/octet-stream"),
                content=content,
            )
        )
    if negative:
        _negate(result)
    return result


def _negate(result):
    for name in ("total_excl_vat", "total_vat", "total_incl_vat", "payable"):
        value = getattr(result, name)
        if value is not None:
            setattr(result, name, -value)
    for tax in result.taxes:
        tax.base = -tax.base if tax.base is not None else None
        tax.amount = -tax.amount if tax.amount is not None else None
    for line in result.lines:
        line.total_excl_vat = -line.total_excl_vat
        if line.unit_price is not None:
            line.unit_price = -line.unit_price


def _ubl_line(node, quantity_tag, file_name):
    quantity_node = node.find(quantity_tag, UBL_NS)
    quantity = _amount(node, quantity_tag, file_name)
    if quantity is None:
        quantity = Decimal(1)
    price = _amount(node, "cac:Price/cbc:PriceAmount", file_name)
    base_quantity = _amount(node, "cac:Price/cbc:BaseQuantity", file_name)
    if price is not None and base_quantity:
        price = price / base_quantity
    item = node.find("cac:Item", UBL_NS)
    name = ""
    if item is not None:
        name = _text(item, "cbc:Name") or _text(item, "cbc:Description")
    return InboundLine(
        name=name or _text(node, "cbc:ID") or "-",
        quantity=quantity,
        unit_code=quantity_node.get("unitCode", "") if quantity_node is not None else "",
        unit_price=price,
        total_excl_vat=_amount(node, "cbc:LineExtensionAmount", file_name, required=True),
        seller_code=_text(node, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
        buyer_code=_text(node, "cac:Item/cac:BuyersItemIdentification/cbc:ID"),
        tax=InboundTax(
            rate=_amount(node, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", file_name) or Decimal(0),
            category=_text(node, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") or "S",
        ),
    )
