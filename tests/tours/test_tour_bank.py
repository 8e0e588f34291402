"""Bank and archive tours in a real browser: importing files through the
wizard, reprocessing a fixed message, matching an unmatched reference
payment by hand, the archive's verify and export."""

from datetime import date

from odoo import Command
from odoo.addons.heeros_link_base.formats import reference
from tests.bank.common import camt, entry, statement

from .common import TourCase

IBAN_TOUR = "FI4819503000000010"  # the statement inside the import tour
MESSAGES = "/odoo/action-heeros_link_base.heeros_link_message_action"


class BankTourCase(TourCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.chart.template"].try_loading("fi", cls.client_a, install_demo=False)
        cls.journal = cls.env["account.journal"].search(
            [("company_id", "=", cls.client_a.id), ("type", "=", "bank")], limit=1
        )

    def set_iban(self):
        self.journal.bank_acc_number = IBAN_TOUR


class TestBankTours(BankTourCase):
    def test_import_files_through_the_wizard(self):
        self.set_iban()
        self.start_tour(MESSAGES, "heeros_link_import_tour", login="tour-bureau", timeout=180)
        message = self.Message.search([("file_name", "=", "tour-statement.xml")])
        self.assertEqual((message.state, message.company_id), ("processed", self.client_a))

    def test_reprocess_a_fixed_message(self):
        data = camt("camt.053", [statement(IBAN_TOUR, [entry(15, "FIX-1", text="x")], opening=0)], msg_id="FIX")
        message = self.Message._link_intake([("fix-me.xml", data)], company=self.client_a)
        self.assertEqual(message.state, "error")
        self.set_iban()  # the fix: the account is now known
        self.start_tour(f"{MESSAGES}/{message.id}", "heeros_link_reprocess_tour", login="tour-bureau", timeout=180)
        self.assertEqual(message.state, "processed")

    def test_match_an_unmatched_reference_payment(self):
        self.set_iban()
        customer = self.env["res.partner"].create({"name": "Tour Asiakas Oy", "is_company": True})
        invoice = (
            self.env["account.move"]
            .with_company(self.client_a)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": customer.id,
                    "invoice_date": date(2024, 3, 1),
                    "payment_reference": reference.format(reference.fi_make("4242")),
                    "invoice_line_ids": [
                        Command.create({"name": "Palvelu", "quantity": 1, "price_unit": 120, "tax_ids": []})
                    ],
                }
            )
        )
        invoice.action_post()
        wrong_ref = reference.fi_make("9999")
        data = camt(
            "camt.053",
            [statement(IBAN_TOUR, [entry(120, "M-1", ref=wrong_ref, name="Tour Maksaja Oy")], opening=0)],
            msg_id="MATCH",
        )
        message = self.Message._link_intake([("match.xml", data)], company=self.client_a)
        self.assertEqual(message.state, "processed", message.error)
        line = self.env["account.bank.statement.line"].search([("heeros_link_archive_id", "=", "M-1")])
        self.assertEqual(line.heeros_link_match_state, "unmatched")
        self.bureau_user.company_id = self.client_a  # the bookkeeper works in the client's books
        self.start_tour(MESSAGES, "heeros_link_match_tour", login="tour-bureau", timeout=180)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "paid")

    def test_archive_verify_and_export(self):
        self.set_iban()
        data = camt("camt.053", [statement(IBAN_TOUR, [entry(5, "AR-1", text="x")], opening=0)], msg_id="ARCH")
        message = self.Message._link_intake([("archived.xml", data)], company=self.client_a)
        self.assertEqual(message.state, "processed", message.error)
        self.assertTrue(self.env["heeros.link.archive.entry"].search_count([("company_id", "=", self.client_a.id)]))
        self.bureau_user.write(
            {
                "company_id": self.client_a.id,
                "groups_id": [Command.link(self.env.ref("heeros_link_archive.group_archive_manager").id)],
            }
        )
        self.start_tour(
            "/odoo/action-heeros_link_archive.heeros_link_archive_entry_action",
            "heeros_link_archive_tour",
            login="tour-bureau",
            timeout=180,
        )
        self.assertEqual(
            self.env["heeros.link.archive.verification"].search_count([("user_id", "=", self.bureau_user.id)]), 2
        )
