"""Finvoice 3.0 from Odoo invoices: VAT rates, discounts, credit notes,
foreign currency, reverse charge, the SOAP frame, the attachment message and
the clear errors of invoices that cannot be sent.

Every document is validated again here against the official Finvoice 3.0
schema loaded with plain lxml; expected amounts are written by hand."""

import base64
from datetime import date
from decimal import Decimal

from odoo import Command
from odoo.addons.heeros_link_base.formats import reference
from odoo.addons.heeros_link_einvoice.formats import barcode
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from tests.common import SHARED_DATA
from tests.einvoice.common import (
    OFFICIAL_FINVOICE_XSD,
    SELLER_IBAN,
    EinvoiceCase,
    official_schema,
    tree,
    xp,
)

OFFICIAL_ATTACHMENTS_XSD = (
    SHARED_DATA / "einvoice" / "samples" / "finvoice-legacy" / "py-finvoice-xsd" / "FinvoiceAttachments.xsd"
)
D = Decimal


class TestFinvoiceFromInvoices(EinvoiceCase):
    def document(self, move):
        document = move._heeros_link_documents()[move]
        self.assertNotIn("errors", document, document.get("errors"))
        self.assertEqual(document["format"], "finvoice")
        return document

    def assertOfficiallyValid(self, data, schema=OFFICIAL_FINVOICE_XSD):
        xsd = official_schema(schema)
        root = tree(data)
        self.assertTrue(xsd.validate(root), str(xsd.error_log))
        return root

    # ------------------------------------------------------------------
    def test_invoice_with_four_vat_rates_and_a_discount(self):
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16), ref="PROJ-42")
        self.assertEqual(move.journal_id.invoice_reference_model, "fi")
        self.assertEqual(reference.kind(move.payment_reference), "fi")
        root = self.assertOfficiallyValid(self.document(move)["data"])

        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTypeCode"), "INV01")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceNumber"), move.name)
        self.assertEqual(xp(root, "InvoiceDetails/BuyerReferenceIdentifier"), "PROJ-42")
        self.assertEqual(xp(root, "SellerPartyDetails/SellerPartyIdentifier"), "2345678-0")
        self.assertEqual(xp(root, "BuyerPartyDetails/BuyerPartyIdentifier"), "0112038-9")
        self.assertEqual(xp(root, "BuyerPartyDetails/BuyerOrganisationTaxCode"), "FI01120389")
        self.assertEqual(xp(root, "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier"), "003723456780")
        self.assertEqual(xp(root, "MessageTransmissionDetails/MessageSenderDetails/FromIntermediator"), "003721291126")
        self.assertEqual(xp(root, "MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier"), "003701120389")
        self.assertEqual(xp(root, "MessageTransmissionDetails/MessageReceiverDetails/ToIntermediator"), "NDEAFIHH")
        # 10 h x 90,00 - 10 % = 810,00 (25,5 %), 2 x 25 (10 %), 3 x 12 (14 %), 200 exempt
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatExcludedAmount"), "1096,00")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatAmount"), "216,59")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatIncludedAmount"), "1312,59")
        breakdown = {
            node.findtext("VatRatePercent"): (
                node.findtext("VatCode"),
                node.findtext("VatBaseAmount"),
                node.findtext("VatRateAmount"),
                node.findtext("VatExemptionReasonCode"),
            )
            for node in root.iterfind("InvoiceDetails/VatSpecificationDetails")
        }
        self.assertEqual(
            breakdown,
            {
                "25,5": ("S", "810,00", "206,55", None),
                "14": ("S", "36,00", "5,04", None),
                "10": ("S", "50,00", "5,00", None),
                "0": ("E", "200,00", "0,00", "VATEX-EU-132-1C"),
            },
        )
        first = root.find("InvoiceRow")
        self.assertEqual(first.findtext("ArticleIdentifier"), "K-1")
        self.assertEqual(first.find("InvoicedQuantity").get("QuantityUnitCodeUN"), "HUR")
        self.assertEqual(first.findtext("UnitPriceAmount"), "90,00")
        self.assertEqual(first.findtext("RowDiscountPercent"), "10")
        self.assertEqual(first.findtext("RowDiscountAmount"), "90,00")
        self.assertEqual(first.findtext("RowVatAmount"), "206,55")
        self.assertEqual(first.findtext("RowAmount"), "1016,55")
        # payment: the Finnish reference, the bar code and the Interest Act rate (2,5 + 8)
        self.assertEqual(
            xp(root, "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"), move.payment_reference
        )
        self.assertEqual(
            root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier").get(
                "IdentificationSchemeName"
            ),
            "SPY",
        )
        self.assertEqual(xp(root, "EpiDetails/EpiPartyDetails/EpiBeneficiaryPartyDetails/EpiAccountID"), SELLER_IBAN)
        self.assertEqual(
            xp(root, "VirtualBankBarcode"),
            barcode.virtual_barcode(SELLER_IBAN, "1312.59", move.payment_reference, date(2026, 3, 16)),
        )
        self.assertEqual(
            xp(root, "InvoiceDetails/PaymentTermsDetails/PaymentOverDueFineDetails/PaymentOverDueFinePercent"), "10,5"
        )
        self.assertEqual(xp(root, "InvoiceDetails/PaymentTermsDetails/InvoiceDueDate"), "20260316")

    def test_round_trip_preserves_totals(self):
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        parsed = fv.parse(self.document(move)["data"], validate=True)
        self.assertEqual(
            (parsed.total_excl_vat, parsed.total_vat, parsed.total_incl_vat), (D("1096.00"), D("216.59"), D("1312.59"))
        )
        self.assertEqual(sum(line.amount for line in parsed.vat_breakdown), D("216.59"))
        self.assertEqual(sum(row.total_incl_vat for row in parsed.rows), D("1312.59"))
        self.assertEqual(parsed.payment.reference, move.payment_reference)
        self.assertEqual(parsed.buyer.einvoice_address.address, "003701120389")

    def test_credit_note_names_the_original_invoice(self):
        invoice = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        refund = invoice._reverse_moves([{"invoice_date": date(2026, 3, 10), "ref": "Palautus"}])
        refund.invoice_line_ids.filtered(lambda line: line.name != "Käsikirja").unlink()
        refund.action_post()
        self.assertEqual(refund.heeros_link_einvoice_address_id, self.buyer_address)
        root = self.assertOfficiallyValid(self.document(refund)["data"])
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTypeCode"), "INV02")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTypeCodeUN"), "381")
        self.assertEqual(xp(root, "InvoiceDetails/OriginalInvoiceNumber"), invoice.name)
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatExcludedAmount"), "-50,00")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatAmount"), "-5,00")
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatIncludedAmount"), "-55,00")
        self.assertEqual(xp(root, "InvoiceRow/InvoicedQuantity"), "-2")
        self.assertEqual(xp(root, "VirtualBankBarcode"), "")  # nothing to pay

    def test_foreign_currency(self):
        # 1 EUR = 1,08 USD
        move = self.make_invoice(
            lines=[("Licence", 4, 250.0, self.tax_25_5, 0.0)], currency=self.usd, invoice_date_due=date(2026, 4, 1)
        )
        root = self.assertOfficiallyValid(self.document(move)["data"])
        amounts = root.find("InvoiceDetails/InvoiceTotalVatIncludedAmount")
        self.assertEqual((amounts.text, amounts.get("AmountCurrencyIdentifier")), ("1255,00", "USD"))
        accounting = root.find("InvoiceDetails/InvoiceTotalVatAccountingAmount")
        # 255 USD / 1,08 = 236,11 EUR of VAT
        self.assertEqual((accounting.text, accounting.get("AmountCurrencyIdentifier")), ("236,11", "EUR"))
        self.assertEqual(xp(root, "InvoiceDetails/ExchangeRate"), "1,08")
        other = root.find("InvoiceDetails/OtherCurrencyAmountVatIncludedAmount")
        self.assertEqual((other.text, other.get("AmountCurrencyIdentifier")), ("1162,04", "EUR"))
        self.assertEqual(xp(root, "VirtualBankBarcode"), "")  # euro only
        self.assertEqual(
            root.find("EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount").get("AmountCurrencyIdentifier"),
            "USD",
        )

    def test_reverse_charge_to_an_eu_company(self):
        move = self.make_invoice(
            partner=self.german,
            lines=[("Asennuspalvelu", 3, 200.0, self.tax_eu_service_0, 4.0)],
            invoice_date_due=date(2026, 6, 3),
        )
        root = self.assertOfficiallyValid(self.document(move)["data"])
        vat = root.find("InvoiceDetails/VatSpecificationDetails")
        self.assertEqual(vat.findtext("VatCode"), "AE")
        self.assertEqual(vat.findtext("VatExemptionReasonCode"), "VATEX-EU-AE")
        self.assertEqual(vat.findtext("VatBaseAmount"), "576,00")
        self.assertEqual(vat.findtext("VatRateAmount"), "0,00")
        self.assertEqual(xp(root, "BuyerPartyDetails/BuyerOrganisationTaxCode"), "DE111111125")
        self.assertEqual(xp(root, "BuyerPartyDetails/BuyerPartyIdentifier"), "")
        self.assertEqual(xp(root, "InvoiceRow/RowVatCode"), "AE")
        self.assertEqual(xp(root, "InvoiceRow/RowDiscountAmount"), "24,00")

    def test_reverse_charge_needs_the_buyer_vat_number(self):
        self.german.vat = False
        move = self.make_invoice(partner=self.german, lines=[("Asennuspalvelu", 1, 100.0, self.tax_eu_service_0, 0.0)])
        errors = move._heeros_link_documents()[move]["errors"]
        self.assertTrue(any("reverse charge (AE) needs the buyer's VAT number" in e for e in errors), errors)

    # ------------------------------------------------------------------
    def test_soap_frame_and_attachment_message(self):
        self.connection.finvoice_soap_frame = True
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        png = base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
        self.env["ir.attachment"].create(
            {
                "name": "tuntilista.png",
                "raw": png,
                "mimetype": "image/png",
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        pdf = b"%PDF-1.4 invoice"
        documents = move._heeros_link_documents()
        message = move._heeros_link_queue(documents, {move: pdf})[move]

        self.assertEqual(message.state, "queued")
        self.assertEqual(message.document_type, "finvoice")
        self.assertEqual(message.connection_id, self.connection)
        self.assertEqual(message._linked("account.move"), move)
        frame, document, _offset = fv.split_frame(message._payload())
        self.assertIsNotNone(frame)
        root = self.assertOfficiallyValid(document)
        invoice_id = xp(root, "MessageTransmissionDetails/MessageDetails/MessageIdentifier")
        frame_root = tree(frame)
        ns = {"eb": fv.EB_NS}
        self.assertEqual(frame_root.xpath("string(//eb:MessageData/eb:MessageId)", namespaces=ns), invoice_id)
        self.assertEqual(
            frame_root.xpath("//eb:From/eb:PartyId/text()", namespaces=ns), ["003723456780", "003721291126"]
        )
        self.assertEqual(frame_root.xpath("//eb:To/eb:PartyId/text()", namespaces=ns), ["003701120389", "NDEAFIHH"])
        # the attachment message: referred to by the invoice, second message of the invoice
        attachments = move.heeros_link_attachment_message_id
        self.assertEqual(attachments.document_type, "finvoice.attachments")
        self.assertEqual(attachments.parent_id, message)
        self.assertEqual(attachments._linked("account.move"), move)
        a_frame, a_document, _offset = fv.split_frame(attachments._payload())
        self.assertIsNotNone(a_frame)
        self.assertOfficiallyValid(a_document, OFFICIAL_ATTACHMENTS_XSD)
        parsed = fv.parse_attachment_message(attachments._payload())
        self.assertEqual(parsed.message_id, xp(root, "AttachmentMessageDetails/AttachmentMessageIdentifier"))
        self.assertEqual(parsed.message_id, f"{invoice_id}::attachments")
        self.assertEqual(parsed.ref_to_message_id, invoice_id)
        self.assertEqual(
            [(a.mime_type, a.content) for a in parsed.attachments], [("application/pdf", pdf), ("image/png", png)]
        )
        self.assertEqual(parsed.receiver.address, "003701120389")
        self.assertEqual(move.heeros_link_state, "queued")
        self.assertFalse(move.heeros_link_error)

    def test_without_soap_frame_and_without_attachments(self):
        self.company.heeros_link_send_attachments = False
        move = self.make_invoice(invoice_date_due=date(2026, 3, 16))
        message = move._heeros_link_queue(move._heeros_link_documents(), {move: b"%PDF"})[move]
        frame, _document, _offset = fv.split_frame(message._payload())
        self.assertIsNone(frame)
        self.assertFalse(move.heeros_link_attachment_message_id)
        self.assertEqual(xp(tree(message._payload()), "AttachmentMessageDetails/AttachmentMessageIdentifier"), "")

    # ------------------------------------------------------------------
    def test_invoice_address_defaults_and_can_be_chosen(self):
        contact = self.env["res.partner"].create(
            {"name": "Olli Ostaja", "parent_id": self.buyer.id, "email": "olli@ostaja.example"}
        )
        move = self.make_invoice(partner=contact, post=False)
        self.assertEqual(move.heeros_link_einvoice_address_id, self.buyer_address)
        unit = self.env["heeros.link.einvoice.address"].create(
            {
                "partner_id": self.buyer.id,
                "address": "00370112038900100",
                "label": "Varasto",
                "operator_id": self.nordea.id,
            }
        )
        move.heeros_link_einvoice_address_id = unit
        move.action_post()
        root = tree(self.document(move)["data"])
        self.assertEqual(
            xp(root, "MessageTransmissionDetails/MessageReceiverDetails/ToIdentifier"), "00370112038900100"
        )
        self.assertEqual(xp(root, "BuyerContactPersonName"), "Olli Ostaja")

    def test_missing_buyer_einvoice_address(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Osoitteeton Oy",
                "is_company": True,
                "country_id": self.env.ref("base.fi").id,
                "street": "Tie 1",
                "zip": "00200",
                "city": "Helsinki",
            }
        )
        move = self.make_invoice(partner=partner)
        document = move._heeros_link_documents()[move]
        self.assertIn("cannot be built", document["title"])
        self.assertTrue(
            any("Osoitteeton Oy has no e-invoice address" in e for e in document["errors"]), document["errors"]
        )

    def test_missing_postal_address_and_invalid_reference(self):
        self.buyer.write({"street": False, "zip": False})
        move = self.make_invoice()
        move.payment_reference = "12345"
        errors = move._heeros_link_documents()[move]["errors"]
        self.assertTrue(any("has no street, post code in its address" in e for e in errors), errors)
        self.assertTrue(
            any("Payment reference 12345 is neither a valid Finnish reference" in e for e in errors), errors
        )

    def test_rf_reference_journal(self):
        self.journal.invoice_reference_model = "fi_rf"
        move = self.make_invoice(invoice_date_due=date(2026, 3, 16))
        self.assertEqual(reference.kind(move.payment_reference), "rf")
        root = tree(self.document(move)["data"])
        node = root.find("EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier")
        self.assertEqual((node.text, node.get("IdentificationSchemeName")), (move.payment_reference, "ISO"))
        self.assertTrue(xp(root, "VirtualBankBarcode").startswith("5"))

    def test_row_with_two_taxes_is_refused(self):
        move = self.make_invoice(post=False)
        move.invoice_line_ids.tax_ids = [Command.set((self.tax_25_5 | self.tax_10).ids)]
        move.action_post()
        errors = move._heeros_link_documents()[move]["errors"]
        self.assertTrue(any("exactly one VAT rate" in e for e in errors), errors)
