"""Sending from Odoo's Send & Print by Heeros Link: one invoice, a batch
(through Odoo's sending cron), fallbacks to e-mail, the status on the
invoice, failures (no connection, rejected or failed message) with the
salesperson's activity, resending, and the bank bar code on the PDF."""

from datetime import date

from odoo.addons.heeros_link_einvoice.formats import barcode
from odoo.addons.heeros_link_einvoice.formats import finvoice as fv
from odoo.exceptions import UserError
from tests.einvoice.common import SELLER_IBAN, EinvoiceCase, tree, xp

GUIDE_EXAMPLE = "437159030000007760000122500000000000000000011112161221"


class TestSendByHeerosLink(EinvoiceCase):
    def send_one(self, move):
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertEqual(wizard.sending_methods, ["heeros_link"])
        return wizard.action_send_and_print()

    def activities(self, move):
        todo = self.env.ref("mail.mail_activity_data_todo")
        return move.activity_ids.filtered(lambda a: a.activity_type_id == todo)

    # ------------------------------------------------------------------
    def test_one_invoice_from_send_and_print(self):
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        self.send_one(move)
        message = move.heeros_link_message_id
        self.assertEqual((message.state, message.document_type, message.direction), ("queued", "finvoice", "out"))
        self.assertEqual(message.connection_id, self.connection)
        self.assertEqual(message.external_ref, move.name)
        self.assertEqual(message._linked("account.move", "source"), move)
        self.assertEqual(move.heeros_link_state, "queued")
        self.assertTrue(move.is_move_sent)
        self.assertTrue(move.invoice_pdf_report_id)
        self.assertEqual(move.heeros_link_message_count, 2)
        root = tree(message._payload())
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceNumber"), move.name)
        attachments = fv.parse_attachment_message(move.heeros_link_attachment_message_id._payload())
        self.assertEqual(attachments.attachments[0].content, move.invoice_pdf_report_id.raw)
        self.assertIn(message.name, move.message_ids[0].body)
        types = dict(self.env["heeros.link.message"]._selection_document_type())
        self.assertEqual(types["finvoice"], "Finvoice e-invoice")
        self.assertIn("peppol-bis3", types)
        self.assertIn("finvoice.attachments", types)
        # the remote side's verdicts show on the invoice
        message._set_state("sending")
        message._set_state("sent")
        self.assertEqual(move.heeros_link_state, "sent")
        message._link_set_feedback(True)
        self.assertEqual(move.heeros_link_state, "delivered")
        self.assertFalse(self.activities(move))

    def test_salesperson_without_link_rights_can_send(self):
        self.assertFalse(self.salesperson.has_group("heeros_link_base.group_link_user"))
        move = self.make_invoice().with_user(self.salesperson)
        self.send_one(move)
        self.assertEqual(move.heeros_link_state, "queued")
        self.assertIn("queued for sending", move.message_ids[0].body)
        late = self.env["res.partner"].create(
            {
                "name": "Myöhäinen Oy",
                "is_company": True,
                "country_id": self.env.ref("base.fi").id,
                "street": "Tie 5",
                "zip": "00200",
                "city": "Helsinki",
                "invoice_sending_method": "heeros_link",
            }
        )
        later = self.make_invoice(partner=late).with_user(self.salesperson)
        self.assertFalse(later.heeros_link_einvoice_address_id)
        # the address arrives after the invoice: it is used when sending
        self.env["heeros.link.einvoice.address"].create(
            {"partner_id": late.id, "address": "003701120389", "operator_id": self.nordea.id}
        )
        self.send_one(later)
        self.assertEqual(later.heeros_link_state, "queued")

    def test_batch_through_the_sending_cron(self):
        no_address = self.env["res.partner"].create(
            {
                "name": "Osoitteeton Oy",
                "is_company": True,
                "country_id": self.env.ref("base.fi").id,
                "street": "Tie 1",
                "zip": "00200",
                "city": "Helsinki",
                "invoice_sending_method": "heeros_link",
            }
        )
        by_email = self.env["res.partner"].create(
            {
                "name": "Sähköposti Oy",
                "is_company": True,
                "country_id": self.env.ref("base.fi").id,
                "street": "Tie 2",
                "zip": "00200",
                "city": "Helsinki",
                "email": "laskut@sahkoposti.example",
                "invoice_sending_method": "heeros_link",
            }
        )
        self.env["heeros.link.einvoice.address"].create({"partner_id": by_email.id, "delivery": "email"})
        finvoices = (
            self.make_invoice()
            | self.make_invoice(lines=self.four_rate_lines())
            | self.make_invoice(move_type="out_invoice", lines=[("Lounas", 3, 12.0, self.tax_14, 0.0)])
        )
        peppol = self.make_invoice(partner=self.peppol_buyer)
        failing = self.make_invoice(partner=no_address)
        emailed = self.make_invoice(partner=by_email)
        moves = finvoices | peppol | failing | emailed

        wizard = (
            self.env["account.move.send.batch.wizard"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({})
        )
        self.assertEqual(wizard.summary_data["heeros_link"]["count"], 5)
        self.assertEqual(wizard.summary_data["email"]["count"], 1)
        self.assertIn("heeros_link_missing_address", wizard.alerts)
        wizard.action_send_and_print()
        self.env.ref("account.ir_cron_account_move_send").method_direct_trigger()

        self.assertEqual(set(finvoices.heeros_link_message_id.mapped("document_type")), {"finvoice"})
        self.assertEqual(len(finvoices.heeros_link_message_id), 3)
        self.assertEqual(set(finvoices.mapped("heeros_link_state")), {"queued"})
        self.assertEqual(peppol.heeros_link_message_id.document_type, "peppol-bis3")
        self.assertEqual(peppol.heeros_link_state, "queued")
        # the failing invoice says why, and did not stop the others
        self.assertFalse(failing.heeros_link_message_id)
        self.assertEqual(failing.heeros_link_state, "failed")
        self.assertIn("Osoitteeton Oy has no e-invoice address", failing.heeros_link_error)
        self.assertIn("Osoitteeton Oy has no e-invoice address", failing.message_ids[0].body)
        # the customer who wants PDF by e-mail got Odoo's own e-mail
        self.assertFalse(emailed.heeros_link_message_id)
        self.assertFalse(emailed.heeros_link_state)
        mail = emailed.message_ids.filtered(lambda m: m.message_type == "comment")[:1]
        self.assertTrue(mail)
        self.assertIn(by_email, mail.partner_ids)
        self.assertTrue(emailed.is_move_sent)

    def test_no_connection_shows_on_the_invoice(self):
        self.connection.active = False
        move = self.make_invoice()
        self.send_one(move)
        message = move.heeros_link_message_id
        self.assertEqual(message.state, "error")
        self.assertEqual(move.heeros_link_state, "failed")
        self.assertIn("No outbound Link connection serves Myyjä Oy", move.heeros_link_error)
        activity = self.activities(move)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertEqual(activity.summary, "E-invoice not delivered")
        # fixed: resend queues a new message and clears the error
        self.connection.active = True
        move.action_heeros_link_resend()
        self.assertNotEqual(move.heeros_link_message_id, message)
        self.assertEqual(move.heeros_link_message_id.state, "queued")
        self.assertEqual(move.heeros_link_state, "queued")
        self.assertFalse(move.heeros_link_error)
        # never twice by accident
        with self.assertRaises(UserError):
            move.action_heeros_link_resend()
        queued = move.heeros_link_message_id
        self.send_one(move)
        self.assertEqual(move.heeros_link_message_id, queued)
        self.assertIn("not sent again", move.message_ids[0].body)

    def test_build_error_then_fix_and_resend(self):
        move = self.make_invoice()
        move.payment_reference = "12345"
        self.send_one(move)
        self.assertFalse(move.heeros_link_message_id)
        self.assertEqual(move.heeros_link_state, "failed")
        self.assertIn("Payment reference 12345", move.heeros_link_error)
        move.payment_reference = "12344"
        move.action_heeros_link_resend()
        self.assertEqual(move.heeros_link_state, "queued")
        self.assertEqual(
            xp(tree(move.heeros_link_message_id._payload()), "EpiDetails/EpiIdentificationDetails/EpiReference"),
            "12344",
        )

    def test_rejected_or_failed_message_asks_the_salesperson(self):
        rejected = self.make_invoice()
        failed = self.make_invoice()
        self.send_one(rejected)
        self.send_one(failed)
        message = rejected.heeros_link_message_id
        message._set_state("sending")
        message._set_state("sent")
        message._link_set_feedback(False, "Vastaanottajaa ei löydy / unknown receiver")
        self.assertEqual(rejected.heeros_link_state, "failed")
        self.assertIn("unknown receiver", rejected.heeros_link_error)
        activity = self.activities(rejected)
        self.assertEqual((len(activity), activity.user_id), (1, self.salesperson))
        self.assertIn("unknown receiver", str(activity.note))

        other = failed.heeros_link_message_id
        other._set_state("error", error="Operator refused the file")
        self.assertEqual(failed.heeros_link_state, "failed")
        self.assertIn("Operator refused the file", failed.heeros_link_error)
        self.assertEqual(len(self.activities(failed)), 1)
        # a second failure does not pile up activities
        other._set_state("queued")
        other._set_state("error", error="Operator refused the file again")
        self.assertEqual(len(self.activities(failed)), 1)
        # an attachment message that fails is reported as well
        attachments = failed.heeros_link_attachment_message_id
        attachments._set_state("error", error="Attachment too large")
        self.assertIn("Attachment too large", failed.message_ids[0].body)

    # ------------------------------------------------------------------
    def render(self, move):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", move.ids)
        return html.decode()

    def test_bank_barcode_on_the_pdf(self):
        move = self.make_invoice(lines=self.four_rate_lines(), invoice_date_due=date(2026, 3, 16))
        html = self.render(move)
        expected = barcode.virtual_barcode(SELLER_IBAN, "1312.59", move.payment_reference, date(2026, 3, 16))
        self.assertEqual(expected[:17], "4" + SELLER_IBAN[2:])
        self.assertEqual(expected[17:25], "00131259")
        self.assertIn(expected, html)
        self.assertIn("Viitenumero / Reference", html)
        self.assertIn("data:image/svg+xml;base64,", html)

    def test_guide_example_barcode(self):
        bank = self.env["res.partner.bank"].create(
            {"acc_number": "FI37 1590 3000 0007 76", "partner_id": self.company.partner_id.id}
        )
        move = self.make_invoice(
            lines=[("Tuote", 1, 12.25, self.tax_0, 0.0)],
            invoice_date=date(2016, 12, 1),
            invoice_date_due=date(2016, 12, 21),
            partner_bank_id=bank.id,
        )
        move.payment_reference = "11112"
        html = self.render(move)
        self.assertIn(GUIDE_EXAMPLE, html)
        self.assertIn("Viitenumero / Reference", html)

    def test_no_barcode_without_finnish_iban_or_open_amount(self):
        foreign = self.env["res.partner.bank"].create(
            {"acc_number": "DE89370400440532013000", "partner_id": self.company.partner_id.id}
        )
        move = self.make_invoice(partner_bank_id=foreign.id)
        self.assertNotIn("heeros_link_virtual_barcode", self.render(move))
        paid = self.make_invoice()
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {}
        )._create_payments()
        self.assertEqual(paid.payment_state in ("paid", "in_payment"), True)
        self.assertNotIn("heeros_link_virtual_barcode", self.render(paid))
