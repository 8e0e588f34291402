"""Finvoice attachment messages received: their files land on the bill of
their invoice, whichever arrives first, in one file or two; never on a bill
of another sender or of a company the connection does not serve.

The invoice and its attachment message are our own outbound Finvoice (the
builder validates both against the Finvoice schemas; the attachment message
is checked here against the official FinvoiceAttachments XSD too), received
by the buyer's company of the same database. Expected files are read from
the XML with XPath."""

import base64
from datetime import date

from lxml import etree

from odoo import Command
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from tests.einvoice.common import EinvoiceCase, official_schema, tree, xp
from tests.einvoice.test_einvoice_finvoice import OFFICIAL_ATTACHMENTS_XSD

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4 laskun kuva"


def attachment_files(data):
    """``[(name, mime type, content)]`` of an attachment message, by XPath."""
    _frame, document, _offset = fv.split_frame(data)
    root = tree(document)
    return [
        (
            node.findtext("AttachmentName"),
            node.findtext("AttachmentMimeType"),
            base64.b64decode("".join(node.findtext("AttachmentContent").split())),
        )
        for node in root.xpath("/FinvoiceAttachments/AttachmentDetails")
    ]


class TestInboundAttachments(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.receiver = env["res.company"].create(
            {
                "name": "Ostaja Oy (books)",
                "country_id": env.ref("base.fi").id,
                "vat": cls.buyer.vat,
                "company_registry": cls.buyer.company_registry,
                "currency_id": env.ref("base.EUR").id,
            }
        )
        cls.other = env["res.company"].create(
            {"name": "Muu Oy", "country_id": env.ref("base.fi").id, "currency_id": env.ref("base.EUR").id}
        )
        env.user.company_ids |= cls.receiver | cls.other
        for company in cls.receiver | cls.other:
            env["account.chart.template"].try_loading("fi", company, install_demo=False)
        cls.env = cls.env(
            context=dict(cls.env.context, allowed_company_ids=(cls.company | cls.receiver | cls.other).ids)
        )
        cls.inbox = cls.env["heeros.link.connection"].create(
            {
                "name": "Operator inbox",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "in",
                "company_id": cls.receiver.id,
                "company_ids": [Command.set((cls.receiver | cls.other).ids)],
            }
        )

    def sent(self, frame=True):
        """``(invoice payload, attachment message payload)`` of an invoice
        sent with a PDF and a PNG."""
        self.connection.finvoice_soap_frame = frame
        move = self.make_invoice(invoice_date_due=date(2026, 3, 16))
        self.env["ir.attachment"].create(
            {
                "name": "tuntilista.png",
                "raw": PNG,
                "mimetype": "image/png",
                "res_model": "account.move",
                "res_id": move.id,
            }
        )
        message = move._heeros_link_queue(move._heeros_link_documents(), {move: PDF})[move]
        attachments = move.heeros_link_attachment_message_id
        _frame, document, _offset = fv.split_frame(attachments._payload())
        official_schema(OFFICIAL_ATTACHMENTS_XSD).assertValid(tree(document))
        return message._payload(), attachments._payload()

    def intake(self, name, data, connection=None, company=None):
        if company:
            return self.env["heeros.link.message"]._link_intake([(name, data)], company=company)
        return self.env["heeros.link.message"]._link_intake([(name, data)], connection=connection or self.inbox)

    def bill_files(self, bill):
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", bill.id)], order="id"
        )
        return [(a.name, a.mimetype, a.raw) for a in attachments]

    def invoice_number(self, data):
        _frame, document, _offset = fv.split_frame(data)
        return xp(tree(document), "InvoiceDetails/InvoiceNumber")

    def assertHasFiles(self, bill, invoice_data, attachments_data):
        expected = attachment_files(attachments_data)
        self.assertEqual(len(expected), 2)
        files = self.bill_files(bill)
        self.assertEqual(files[0][2], invoice_data)  # the original file first
        self.assertEqual(sorted(files[1:]), sorted(expected))
        self.assertEqual(bill.message_main_attachment_id.mimetype, "application/pdf")
        self.assertEqual(bill.message_main_attachment_id.raw, PDF)

    # ------------------------------------------------------------------
    def test_invoice_first_then_its_attachment_message(self):
        invoice, attachments = self.sent()
        first = self.intake("lasku.xml", invoice)
        self.assertEqual(first.state, "processed", first.error)
        bill = first._linked("account.move")
        self.assertEqual(bill.ref, self.invoice_number(invoice))
        self.assertEqual(len(self.bill_files(bill)), 1)
        _frame, document, _offset = fv.split_frame(attachments)
        self.assertEqual(
            bill.heeros_link_in_attachment_ref,
            xp(tree(document), "MessageTransmissionDetails/MessageDetails/MessageIdentifier"),
        )
        second = self.intake("liitteet.xml", attachments)
        self.assertEqual(second.document_type, "finvoice.attachments")
        self.assertEqual(second.state, "processed", second.error)
        self.assertEqual(second._linked("account.move"), bill)
        self.assertHasFiles(bill, invoice, attachments)
        self.assertIn("tuntilista.png", "\n".join(bill.message_ids.mapped("body")))

    def test_attachment_message_first_waits_for_its_invoice(self):
        invoice, attachments = self.sent(frame=False)
        first = self.intake("liitteet.xml", attachments)
        self.assertEqual(first.state, "processed", first.error)
        self.assertFalse(first._linked("account.move"))
        self.assertIn("waits for its invoice", "\n".join(first.message_ids.mapped("body")))
        second = self.intake("lasku.xml", invoice)
        self.assertEqual(second.state, "processed", second.error)
        bill = second._linked("account.move")
        self.assertEqual(first._linked("account.move"), bill)
        self.assertHasFiles(bill, invoice, attachments)
        # received once more (other bytes): nothing new
        again = self.intake(
            "liitteet-2.xml", attachments.replace(b"</FinvoiceAttachments>", b"<!-- 2 --></FinvoiceAttachments>")
        )
        self.assertEqual(again.state, "duplicate", again.error)
        self.assertEqual(len(self.bill_files(bill)), 3)

    def test_invoice_and_attachment_message_in_one_file(self):
        invoice, attachments = self.sent()
        both = invoice + b"\n" + attachments
        message = self.intake("aineisto.xml", both)
        self.assertEqual(message.document_type, "finvoice")
        self.assertEqual(message.state, "processed", message.error)
        bill = message._linked("account.move")
        self.assertEqual(len(bill), 1)
        files = self.bill_files(bill)
        self.assertEqual(files[0][2], both)
        self.assertEqual(sorted(files[1:]), sorted(attachment_files(attachments)))

    def test_iter_messages_reads_invoices_and_attachment_messages(self):
        invoice, attachments = self.sent()
        documents = list(fv.iter_messages(invoice + attachments + invoice, "aineisto.xml"))
        self.assertEqual(
            [type(d).__name__ for d in documents], ["FinvoiceInvoice", "AttachmentMessage", "FinvoiceInvoice"]
        )
        self.assertEqual(documents[1].message_id, documents[0].attachment_message_id)
        self.assertEqual(
            [(a.name, a.mime_type, a.content) for a in documents[1].attachments], attachment_files(attachments)
        )
        with self.assertRaises(fv.MalformedDocument):
            list(fv.iter_invoices(invoice + attachments, "aineisto.xml"))

    def test_attachment_message_of_another_sender_is_refused(self):
        invoice, attachments = self.sent()
        bill = self.intake("lasku.xml", invoice)._linked("account.move")
        _frame, document, _offset = fv.split_frame(attachments)
        sender = xp(tree(document), "MessageTransmissionDetails/MessageSenderDetails/FromIdentifier")
        forged = attachments.replace(
            f"<FromIdentifier>{sender}</FromIdentifier>".encode(), b"<FromIdentifier>003799999999</FromIdentifier>"
        )
        self.assertNotEqual(forged, attachments)
        message = self.intake("vieras.xml", forged)
        self.assertEqual(message.state, "error")
        self.assertIn("003799999999", message.error)
        self.assertIn("vieras.xml", message.error)
        self.assertEqual(len(self.bill_files(bill)), 1)
        # the genuine one still pairs
        genuine = self.intake("liitteet.xml", attachments)
        self.assertEqual(genuine.state, "processed", genuine.error)
        self.assertHasFiles(bill, invoice, attachments)

    def test_no_pairing_across_companies_a_connection_does_not_serve(self):
        invoice, attachments = self.sent()
        bill = self.intake("lasku.xml", invoice)._linked("account.move")
        self.assertEqual(bill.company_id, self.receiver)
        # received for another company only: the bill of the receiver is out of its reach
        stranger = self.intake("liitteet.xml", attachments, company=self.other)
        self.assertEqual(stranger.state, "processed", stranger.error)
        self.assertFalse(stranger._linked("account.move"))
        self.assertEqual(len(self.bill_files(bill)), 1)
        # and an invoice received later for the receiver does not take them either
        self.assertEqual(stranger.company_id, self.other)

    def test_tampered_attachment_is_an_error_naming_the_element(self):
        _invoice, attachments = self.sent(frame=False)
        root = tree(attachments)
        node = root.find("AttachmentDetails/AttachmentContent")
        node.text = base64.b64encode(b"something else").decode()
        tampered = etree.tostring(root, xml_declaration=True, encoding="ISO-8859-15")
        message = self.intake("liitteet.xml", tampered)
        self.assertEqual(message.state, "error")
        self.assertIn("AttachmentSecureHash", message.error)
