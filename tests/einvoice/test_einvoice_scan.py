"""Scanned paper invoices into draft vendor bills: PDFs written by the test,
read for real (pypdf, zbar), through the Link's inbound message flow."""

import io
import zipfile
from datetime import date
from email.message import EmailMessage

from odoo import Command

from . import scan_pdfs
from .common import EinvoiceCase

SUPPLIER_ID = "2077474-0"
FINVOICE = """<?xml version="1.0" encoding="UTF-8"?>
<Finvoice Version="3.0">
  <SellerPartyDetails><SellerPartyIdentifier>2077474-0</SellerPartyIdentifier>
    <SellerOrganisationName>Acme Paperi Oy</SellerOrganisationName></SellerPartyDetails>
  <BuyerPartyDetails><BuyerPartyIdentifier>2345678-0</BuyerPartyIdentifier>
    <BuyerOrganisationName>Myyjä Oy</BuyerOrganisationName></BuyerPartyDetails>
  <InvoiceDetails><InvoiceTypeCode>INV01</InvoiceTypeCode><InvoiceNumber>{number}</InvoiceNumber>
    <InvoiceDate Format="CCYYMMDD">20261120</InvoiceDate></InvoiceDetails>
  {extra}
</Finvoice>"""


def _zip(files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


class ScanCase(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.supplier = env["res.partner"].create(
            {
                "name": "Acme Paperi Oy",
                "is_company": True,
                "company_registry": SUPPLIER_ID,
                "vat": "FI20774740",
                "country_id": env.ref("base.fi").id,
            }
        )
        cls.iban_supplier = env["res.partner"].create({"name": "Pankkitili Oy", "is_company": True})
        env["res.partner.bank"].create({"acc_number": scan_pdfs.GUIDE_IBAN, "partner_id": cls.iban_supplier.id})
        cls.inbox = env["heeros.link.connection"].create(
            {
                "name": "Scanning service",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "in",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.Message = env["heeros.link.message"]

    def intake(self, name, data, connection=None):
        message = self.Message._link_intake([(name, data)], connection=connection or self.inbox)
        return message

    def bill_of(self, message):
        self.assertEqual(message.state, "processed", message.error)
        bill = message._linked("account.move")
        self.assertEqual(len(bill), 1)
        return bill

    def attachments(self, bill):
        return self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])


class TestScanImport(ScanCase):
    def test_text_pdf_becomes_draft_bill_for_review(self):
        lines = scan_pdfs.invoice_lines(business_id=SUPPLIER_ID)
        data = scan_pdfs.invoice_pdf(lines)
        message = self.intake("lasku-2026-1042.pdf", data)
        self.assertEqual(message.document_type, "scan")
        bill = self.bill_of(message)
        self.assertEqual((bill.move_type, bill.state, bill.company_id), ("in_invoice", "draft", self.company))
        self.assertEqual(bill.partner_id, self.supplier)
        self.assertEqual(bill.ref, "2026-1042")
        self.assertEqual(bill.invoice_date_due, date(2010, 6, 12))
        self.assertEqual(bill.payment_reference, "86851 62596 19897")
        self.assertEqual(bill.amount_total, 4883.15)
        self.assertTrue(bill.heeros_link_scan_review)
        for shown in ("FI7944052020036082", "4883.15", "2010-06-12", SUPPLIER_ID, "2026-1042"):
            self.assertIn(shown, bill.heeros_link_scan_data)
        [attachment] = self.attachments(bill)
        self.assertEqual((attachment.mimetype, attachment.raw), ("application/pdf", data))
        self.assertEqual(bill.message_main_attachment_id, attachment)

    def test_scanned_image_with_code128_barcode(self):
        data = scan_pdfs.image_only_pdf(scan_pdfs.GUIDE_CODE)
        bill = self.bill_of(self.intake("skannattu.pdf", data))
        self.assertEqual(bill.partner_id, self.iban_supplier)  # found by the bar code's IBAN
        self.assertEqual(bill.amount_total, 4883.15)
        self.assertEqual(bill.invoice_date_due, date(2010, 6, 12))
        self.assertEqual(bill.partner_bank_id.sanitized_acc_number, scan_pdfs.GUIDE_IBAN)
        self.assertIn(f"{scan_pdfs.GUIDE_CODE} (image)", bill.heeros_link_scan_data)

    def test_barcode_as_text(self):
        data = scan_pdfs.invoice_pdf(["Lasku", "Virtuaaliviivakoodi: " + scan_pdfs.GUIDE_CODE])
        bill = self.bill_of(self.intake("virtuaali.pdf", data))
        self.assertIn(f"{scan_pdfs.GUIDE_CODE} (text)", bill.heeros_link_scan_data)
        self.assertEqual(bill.payment_reference, "86851 62596 19897")

    def test_pdf_with_nothing_readable_still_becomes_a_bill(self):
        data = scan_pdfs.image_only_pdf()
        bill = self.bill_of(self.intake("tyhja.pdf", data))
        self.assertFalse(bill.partner_id)
        self.assertEqual(bill.amount_total, 0)
        self.assertTrue(bill.heeros_link_scan_review)
        self.assertIn("Nothing could be read", bill.heeros_link_scan_data)
        self.assertEqual(self.attachments(bill).raw, data)

    def test_broken_pdf_kept_on_a_bill_with_the_reason(self):
        data = b"%PDF-1.4\nthis is no PDF body\n%%EOF"
        bill = self.bill_of(self.intake("rikki.pdf", data))
        self.assertIn("rikki.pdf", bill.heeros_link_scan_data)
        self.assertIn("could not be read", bill.heeros_link_scan_data)
        self.assertEqual(self.attachments(bill).raw, data)

    def test_same_pdf_twice_is_a_duplicate(self):
        data = scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines(business_id=SUPPLIER_ID))
        first = self.intake("a.pdf", data)
        second = self.intake("b.pdf", data)
        self.assertEqual(second.state, "duplicate")
        self.assertEqual(second.duplicate_of_id, first)

    def test_same_invoice_scanned_again_is_a_duplicate(self):
        lines = scan_pdfs.invoice_lines(business_id=SUPPLIER_ID)
        first = self.intake("eka.pdf", scan_pdfs.invoice_pdf(lines))
        bill = self.bill_of(first)
        again = self.intake("toka.pdf", scan_pdfs.invoice_pdf([*lines, "Kopio"]))
        self.assertEqual(again.state, "duplicate")
        self.assertIn(bill.display_name, again.error)
        self.assertFalse(again._linked("account.move"))

    def _einvoice_with_bill(self, name, xml):
        """An inbound e-invoice imported into a bill by the e-invoice import."""
        message = self.intake(name, xml)
        self.assertEqual(message.document_type, "finvoice")
        return self.bill_of(message)

    def test_pair_by_base_name_attaches_to_the_einvoice_bill(self):
        bill = self._einvoice_with_bill("SCAN-1001.xml", FINVOICE.format(number="1001", extra="").encode())
        pdf = scan_pdfs.invoice_pdf(["Lasku 1001"])
        message = self.intake("SCAN-1001_page1.pdf", pdf)
        self.assertEqual(self.bill_of(message), bill)
        self.assertIn(pdf, self.attachments(bill).mapped("raw"))
        self.assertEqual(bill.message_main_attachment_id.raw, pdf)
        self.assertEqual(self.env["account.move"].search_count([("heeros_link_scan_review", "=", True)]), 0)

    def test_image_before_its_einvoice_moves_to_the_einvoice_bill(self):
        pdf = scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines(number="1003", business_id=SUPPLIER_ID))
        scanned = self.intake("1003.pdf", pdf)
        draft = self.bill_of(scanned)
        bill = self._einvoice_with_bill("1003.xml", FINVOICE.format(number="1003", extra="").encode())
        self.assertFalse(draft.exists())
        self.assertIn(pdf, self.attachments(bill).mapped("raw"))
        self.assertEqual(scanned._linked("account.move"), bill)
        self.assertIn("1003.pdf", " ".join(bill.message_ids.mapped("body")))

    def test_pair_by_attachment_reference(self):
        extra = "<AttachmentMessageDetails><AttachmentMessageIdentifier>img-77</AttachmentMessageIdentifier></AttachmentMessageDetails>"
        xml = FINVOICE.format(number="1002", extra=extra).encode()
        bill = self._einvoice_with_bill("1002.xml", xml)
        message = self.intake("img-77.pdf", scan_pdfs.invoice_pdf(["Lasku"]))
        self.assertEqual(self.bill_of(message), bill)

    def test_delivery_zip_unpacks_einvoices_as_messages(self):
        xml = FINVOICE.format(number="1001", extra="").encode()
        pdf = scan_pdfs.invoice_pdf(["Lasku"])
        data = _zip({"1001.xml": xml, "1001.pdf": pdf})
        message = self.intake("toimitus.zip", data)
        self.assertEqual(message.document_type, "scan.delivery")
        self.assertEqual(message.state, "processed", message.error)
        [part] = message.child_ids
        self.assertEqual((part.file_name, part.attachment_id.raw), ("1001.xml", xml))
        bill = self.bill_of(part)
        self.assertEqual((bill.ref, bill.partner_id, bill.company_id), ("1001", self.supplier, self.company))
        self.assertEqual(sorted(self.attachments(bill).mapped("name")), ["1001.pdf", "1001.xml"])
        self.assertEqual(bill.message_main_attachment_id.raw, pdf)
        self.assertEqual(message._linked("account.move"), bill)

    def test_bad_delivery_zip_is_an_error(self):
        message = self.intake("vain-kuvia.zip", _zip({"a.pdf": b"%PDF-1.4"}))
        self.assertEqual(message.state, "error")
        self.assertIn("no e-invoice", message.error)
        self.assertIn("vain-kuvia.zip", message.error)


class TestScanByMail(ScanCase):
    """A PDF e-mailed to the connection's alias."""

    def test_pdf_mailed_to_the_alias(self):
        env = self.env
        domain = env["mail.alias.domain"].create({"name": "link.example"})
        env["mail.alias"].create(
            {
                "alias_name": "laskut",
                "alias_domain_id": domain.id,
                "alias_contact": "everyone",
                "alias_model_id": env["ir.model"]._get_id("heeros.link.message"),
                "alias_defaults": repr({"connection_id": self.inbox.id}),
            }
        )
        pdf = scan_pdfs.invoice_pdf(scan_pdfs.invoice_lines(business_id=SUPPLIER_ID))
        mail = EmailMessage()
        mail["From"] = "toimittaja@acme.example"
        mail["To"] = "laskut@link.example"
        mail["Subject"] = "Lasku 2026-1042"
        mail["Message-Id"] = "<lasku-2026-1042@acme.example>"
        mail.set_content("Liitteenä lasku.")
        mail.add_attachment(pdf, maintype="application", subtype="pdf", filename="lasku-2026-1042.pdf")
        env["mail.thread"].message_process(False, mail.as_bytes())
        message = self.Message.search([("file_name", "=", "lasku-2026-1042.pdf")])
        self.assertEqual((message.connection_id, message.state), (self.inbox, "received"))
        self.assertEqual(message.attachment_id.raw, pdf)
        message._link_process()
        bill = self.bill_of(message)
        self.assertEqual((bill.partner_id, bill.ref), (self.supplier, "2026-1042"))

    def test_mail_without_invoice_is_kept(self):
        env = self.env
        domain = env["mail.alias.domain"].create({"name": "link.example"})
        env["mail.alias"].create(
            {
                "alias_name": "laskut",
                "alias_domain_id": domain.id,
                "alias_contact": "everyone",
                "alias_model_id": env["ir.model"]._get_id("heeros.link.message"),
                "alias_defaults": repr({"connection_id": self.inbox.id}),
            }
        )
        mail = EmailMessage()
        mail["From"] = "joku@example.com"
        mail["To"] = "laskut@link.example"
        mail["Subject"] = "Hei"
        mail["Message-Id"] = "<hei@example.com>"
        mail.set_content("Ei liitettä.")
        env["mail.thread"].message_process(False, mail.as_bytes())
        message = self.Message.search([("connection_id", "=", self.inbox.id)])
        self.assertEqual(len(message), 1)
        message._link_process()
        self.assertEqual(message.state, "error")


class TestScanRouting(EinvoiceCase):
    """A bureau's connection serving two companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.other = env["res.company"].create(
            {
                "name": "Asiakas Kaksi Oy",
                "country_id": env.ref("base.fi").id,
                "currency_id": env.ref("base.EUR").id,
                "company_registry": "0737546-2",
                "vat": "FI07375462",
            }
        )
        env.user.company_ids |= cls.other
        cls.env = env = env(context=dict(env.context, allowed_company_ids=[cls.company.id, cls.other.id]))
        env["account.chart.template"].try_loading("fi", cls.other, install_demo=False)
        cls.bureau = env["heeros.link.connection"].create(
            {
                "name": "Bureau inbox",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "in",
                "company_id": cls.company.id,
                "company_ids": [Command.set((cls.company | cls.other).ids)],
            }
        )

    def test_business_id_on_the_scan_picks_the_company(self):
        lines = scan_pdfs.invoice_lines(business_id=SUPPLIER_ID) + ["Ostaja: Asiakas Kaksi Oy, Y-tunnus 0737546-2"]
        message = self.env["heeros.link.message"]._link_intake(
            [("k.pdf", scan_pdfs.invoice_pdf(lines))], connection=self.bureau
        )
        bill = message._linked("account.move")
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual((bill.company_id, message.company_id), (self.other, self.other))
        self.assertEqual(bill.journal_id.company_id, self.other)

    def test_no_business_id_stays_with_the_connection_company(self):
        message = self.env["heeros.link.message"]._link_intake(
            [("n.pdf", scan_pdfs.image_only_pdf())], connection=self.bureau
        )
        self.assertEqual(message._linked("account.move").company_id, self.company)
