"""Payment reminders: levels in order with their fees, penalty interest of
the Interest Act (hand-computed: principal x rate x days / 365, per
half-year), agreed rates, exclusions, the Finvoice reminder (INV08), e-mail
and paper reminders, and the reminder run wizard."""

import hashlib
import io
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from odoo import Command
from odoo.exceptions import UserError
from tests.einvoice.common import OFFICIAL_FINVOICE_XSD, EinvoiceCase, official_schema, tree, xp

D = Decimal


def extract_text(pdf):
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


class TestPaymentReminders(EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.heeros_link_reminder_level_ids = [
            Command.create(
                {
                    "sequence": 1,
                    "name": "1. muistutus",
                    "days_overdue": 14,
                    "fee": 5.0,
                    "charge_interest": True,
                    "text": "Lasku on erääntynyt.",
                }
            ),
            Command.create(
                {"sequence": 2, "name": "2. muistutus", "days_overdue": 28, "fee": 10.0, "charge_interest": True}
            ),
            Command.create(
                {
                    "sequence": 3,
                    "name": "Viimeinen muistutus",
                    "days_overdue": 42,
                    "fee": 15.0,
                    "charge_interest": False,
                }
            ),
        ]
        cls.level1, cls.level2, cls.level3 = cls.company.heeros_link_reminder_level_ids.sorted("sequence")
        fi = cls.env.ref("base.fi")
        cls.mailed = cls.env["res.partner"].create(
            {
                "name": "Sähköposti Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": "Tie 2",
                "zip": "00200",
                "city": "Helsinki",
                "email": "laskut@sahkoposti.example",
            }
        )
        cls.paper = cls.env["res.partner"].create(
            {
                "name": "Paperi Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": "Tie 3",
                "zip": "00200",
                "city": "Helsinki",
            }
        )
        cls.blocked = cls.env["res.partner"].create(
            {
                "name": "Maksusuunnitelma Oy",
                "is_company": True,
                "country_id": fi.id,
                "street": "Tie 4",
                "zip": "00200",
                "city": "Helsinki",
                "heeros_link_no_reminders": True,
            }
        )

    def overdue(self, partner=None, due=date(2026, 1, 15), **values):
        # 1 000,00 + 25,5 % = 1 255,00
        return self.make_invoice(
            partner=partner,
            lines=[("Työ", 1, 1000.0, self.tax_25_5, 0.0)],
            invoice_date=date(2026, 1, 1),
            invoice_date_due=due,
            **values,
        )

    def plan(self, day):
        return {
            entry["move"]: entry for entry in self.env["account.move"]._heeros_link_reminder_plan(self.company, day)
        }

    def send(self, day):
        plan = self.env["account.move"]._heeros_link_reminder_plan(self.company, day)
        return self.env["account.move"]._heeros_link_send_reminders(plan, day)

    # ------------------------------------------------------------------
    def test_levels_fees_and_interest(self):
        move = self.overdue()
        self.assertEqual(move.amount_residual, 1255.0)
        self.assertNotIn(move, self.plan(date(2026, 1, 28)))  # 13 days: not yet

        # 17 days: 1 255,00 x 10,5 % (2,5 + 8) x 17 / 365 = 6,1375 -> 6,14
        first = self.send(date(2026, 2, 1))
        self.assertEqual(first.move_id, move)
        self.assertEqual(
            (first.level_id, first.fee, first.interest_rate, first.interest_days), (self.level1, 5.0, 10.5, 17)
        )
        self.assertAlmostEqual(first.interest, 6.14)
        self.assertAlmostEqual(first.total, 1266.14)
        self.assertEqual((first.interest_from, first.interest_to), (date(2026, 1, 16), date(2026, 2, 1)))
        self.assertEqual(first.due_date, date(2026, 2, 15))
        self.assertIn("x 10,5 % x 17 / 365", first.computation)
        self.assertEqual(first.channel, "finvoice")
        self.assertNotIn(move, self.plan(date(2026, 2, 1)))  # not twice the same day
        self.assertNotIn(move, self.plan(date(2026, 2, 10)))  # level 2 waits for 28 days

        # 31 days: 1 255,00 x 10,5 % x 31 / 365 = 11,1918 -> 11,19
        second = self.send(date(2026, 2, 15))
        self.assertEqual((second.level_id, second.fee, second.interest_days), (self.level2, 10.0, 31))
        self.assertAlmostEqual(second.interest, 11.19)

        # 45 days: the last level charges no interest
        third = self.send(date(2026, 3, 1))
        self.assertEqual((third.level_id, third.fee, third.interest), (self.level3, 15.0, 0.0))
        self.assertNotIn(move, self.plan(date(2026, 3, 20)))  # every level sent
        self.assertEqual(move.heeros_link_reminder_ids, first | second | third)
        self.assertEqual(move.heeros_link_reminder_count, 3)

    def test_levels_are_sent_in_order(self):
        move = self.overdue()
        entry = self.plan(date(2026, 3, 1))[move]  # 45 days late, never reminded
        self.assertEqual(entry["level"], self.level1)

    def test_interest_across_two_half_years(self):
        self.env["heeros.link.reference.rate"].create(
            {"date_from": "2025-07-01", "rate": 3.0, "company_id": self.company.id}
        )
        move = self.overdue(due=date(2025, 12, 20))
        result = move._heeros_link_interest(date(2026, 1, 10))
        # 1 255,00 x 11,0 % x 11 / 365 = 4,16041 and 1 255,00 x 10,5 % x 10 / 365 = 3,61027
        self.assertEqual(result["amount"], D("7.77"))
        self.assertEqual(result["days"], 21)
        self.assertEqual(result["rate"], 10.5)
        self.assertEqual(len(result["text"].splitlines()), 2)

    def test_agreed_rate_wins(self):
        self.buyer.heeros_link_penalty_rate = 15.0
        move = self.overdue()
        self.assertEqual(move.heeros_link_penalty_rate, 15.0)
        # 1 255,00 x 15 % x 17 / 365 = 8,7678 -> 8,77
        self.assertEqual(move._heeros_link_interest(date(2026, 2, 1))["amount"], D("8.77"))

    def test_partial_payment_lowers_the_principal(self):
        move = self.overdue()
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create(
            {"amount": 255.0}
        )._create_payments()
        entry = self.plan(date(2026, 2, 1))[move]
        self.assertEqual(entry["principal"], 1000.0)
        # 1 000,00 x 10,5 % x 17 / 365 = 4,8904 -> 4,89
        self.assertAlmostEqual(entry["interest"], 4.89)

    def test_exclusions(self):
        paid = self.overdue()
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {}
        )._create_payments()
        disputed = self.overdue()
        disputed.heeros_link_disputed = True
        blocked = self.overdue(partner=self.blocked)
        not_due = self.overdue(due=date(2026, 2, 28))
        reminded = self.overdue()
        plan = self.plan(date(2026, 2, 1))
        self.assertIn(reminded, plan)
        for move in (paid, disputed, blocked, not_due):
            self.assertNotIn(move, plan)

    # ------------------------------------------------------------------
    def test_finvoice_reminder(self):
        move = self.overdue()
        reminder = self.send(date(2026, 2, 1))
        message = reminder.message_link_id
        self.assertEqual((message.document_type, message.state), ("finvoice", "queued"))
        self.assertEqual(message._linked("heeros.link.reminder"), reminder)
        self.assertEqual(message._linked("account.move"), move)
        root = tree(message._payload())
        xsd = official_schema(OFFICIAL_FINVOICE_XSD)
        self.assertTrue(xsd.validate(root), str(xsd.error_log))
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTypeCode"), "INV08")
        self.assertEqual(xp(root, "InvoiceDetails/OriginalInvoiceNumber"), move.name)
        self.assertEqual(xp(root, "InvoiceDetails/InvoiceTotalVatIncludedAmount"), "1266,14")
        self.assertEqual(xp(root, "InvoiceDetails/PaymentTermsDetails/InvoiceDueDate"), "20260215")
        overdue = root.find("InvoiceRow/RowOverDuePaymentDetails")
        self.assertEqual(overdue.findtext("RowOriginalInvoiceIdentifier"), move.name)
        self.assertEqual(overdue.findtext("RowOriginalDueDate"), "20260115")
        self.assertEqual(overdue.findtext("RowUnPaidVatIncludedAmount"), "1255,00")
        self.assertEqual(overdue.findtext("RowOriginalEpiRemittanceInfoIdentifier"), move.payment_reference)
        self.assertEqual(xp(root, "InvoiceRow/RowOverDuePaymentDetails/RowCollectionChargeAmount"), "5,00")
        self.assertEqual(xp(root, "InvoiceRow/RowOverDuePaymentDetails/RowInterestChargeAmount"), "6,14")
        self.assertEqual(xp(root, "InvoiceRow/RowOverDuePaymentDetails/RowInterestRate"), "10,5")
        self.assertEqual(xp(root, "InvoiceRow/RowOverDuePaymentDetails/RowInterestDateNumber"), "17")
        self.assertEqual(
            xp(root, "EpiDetails/EpiPaymentInstructionDetails/EpiRemittanceInfoIdentifier"), move.payment_reference
        )
        self.assertEqual(xp(root, "EpiDetails/EpiPaymentInstructionDetails/EpiInstructedAmount"), "1266,14")
        logged = move.message_ids[0].body
        self.assertIn("Payment reminder", logged)
        self.assertIn(message.name, logged)

    def test_email_and_paper_reminders(self):
        mailed = self.overdue(partner=self.mailed)
        paper = self.overdue(partner=self.paper)
        reminders = self.send(date(2026, 2, 1))
        by_move = {r.move_id: r for r in reminders}
        self.assertEqual(by_move[mailed].channel, "email")
        self.assertEqual(by_move[paper].channel, "print")
        self.assertFalse(by_move[mailed].message_link_id)
        mail = self.env["mail.mail"].search(
            [("model", "=", "heeros.link.reminder"), ("res_id", "=", by_move[mailed].id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertIn(self.mailed, mail.recipient_ids)
        self.assertTrue(mail.attachment_ids)
        self.assertIn("1,266.14", mail.body_html.replace("\xa0", " "))
        self.assertIn("Payment reminder", paper.message_ids[0].body)

    def test_sent_reminders_pdf_is_archived(self):
        """The reminder's own PDF is archived when it is sent, by every
        channel: with its number, date, customer and amount to pay, and the
        Link message of a Finvoice reminder."""
        if "heeros.link.archive.entry" not in self.env:
            self.skipTest("the electronic archive (heeros_link_archive) is not installed")
        finvoice = self.overdue()
        paper = self.overdue(partner=self.paper)
        reminders = self.send(date(2026, 2, 1))
        Entry = self.env["heeros.link.archive.entry"]
        for move in (finvoice, paper):
            reminder = reminders.filtered(lambda r, move=move: r.move_id == move)
            entry = Entry.search([("res_model", "=", reminder._name), ("res_id", "=", reminder.id)])
            self.assertEqual(len(entry), 1, reminder.channel)
            data = entry.attachment_id.raw
            self.assertTrue(data.startswith(b"%PDF-"), data[:20])
            self.assertEqual(entry.sha256, hashlib.sha256(data).hexdigest())
            self.assertEqual(
                (entry.kind, entry.document_type, entry.direction, entry.mimetype),
                ("pdf", "reminder", "out", "application/pdf"),
            )
            self.assertEqual(entry.document_number, reminder.name)
            self.assertEqual(entry.document_date, date(2026, 2, 1))
            self.assertEqual(entry.partner_id, move.commercial_partner_id)
            self.assertAlmostEqual(entry.amount, reminder.total)
            self.assertEqual(entry.message_id, reminder.message_link_id)
            self.assertEqual(entry.company_id, self.company)
        self.assertTrue(reminders.filtered(lambda r: r.move_id == finvoice).message_link_id)
        text = extract_text(entry.attachment_id.raw)
        self.assertIn(paper.name, text)

    def test_reminder_run_wizard(self):
        move = self.overdue()
        wizard = self.env["heeros.link.reminder.wizard"].create(
            {"company_id": self.company.id, "date": date(2026, 2, 1)}
        )
        wizard.action_preview()
        line = wizard.line_ids.filtered(lambda line: line.move_id == move)
        self.assertEqual((line.level_id, line.fee, line.interest_days), (self.level1, 5.0, 17))
        self.assertAlmostEqual(line.interest, 6.14)
        self.assertAlmostEqual(line.total, 1266.14)
        self.assertIn("17 / 365", line.computation)
        action = wizard.action_send()
        reminders = self.env["heeros.link.reminder"].search(action["domain"])
        self.assertIn(move, reminders.move_id)

    def test_missing_reference_rate_is_explained(self):
        move = self.make_invoice(
            lines=[("Työ", 1, 1000.0, self.tax_25_5, 0.0)],
            invoice_date=date(2031, 6, 1),
            invoice_date_due=date(2031, 7, 1),
        )
        with self.assertRaises(UserError) as caught:
            move._heeros_link_interest(date(2031, 8, 1))
        self.assertIn("half-year starting 01.07.2031 is missing", str(caught.exception))

    def test_no_levels_is_explained(self):
        self.company.heeros_link_reminder_level_ids.unlink()
        with self.assertRaises(UserError) as caught:
            self.plan(date(2026, 2, 1))
        self.assertIn("no payment reminder levels", str(caught.exception))
