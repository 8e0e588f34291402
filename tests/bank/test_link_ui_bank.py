"""Bank traffic on the Link overview, the statement form's balance check,
readable transaction codes, matching an unmatched reference payment by hand
(and OCA's reconciliation view when installed), a bureau's upload landing
under its client."""

from datetime import date

from odoo import Command
from odoo.addons.heeros_link_bank.models.link_overview import banking_days_between
from odoo.addons.heeros_link_bank.models.link_ui import readable_transaction
from odoo.exceptions import UserError
from odoo.tests.common import new_test_user

from .common import IBAN_A, IBAN_B, BankCase, camt, entry, fi_ref, statement


class TestBankUi(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bureau_user = new_test_user(
            cls.env,
            "bank-ui-bureau",
            groups="heeros_link_base.group_link_manager,account.group_account_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )

    def import_unmatched(self, amount=75, ref_base=1004):
        data = camt(
            "camt.053",
            [statement(IBAN_A, [entry(amount, "ARCH-1", ref=fi_ref(ref_base), name="Maksaja Oy")], opening=0)],
            msg_id=f"UI{ref_base}",
        )
        message = self.intake(("stmt.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        return message, self.lines(self.journal_a)[-1]

    def test_banking_days(self):
        self.assertEqual(banking_days_between(date(2024, 3, 1), date(2024, 3, 4)), 1)  # Friday -> Monday
        self.assertEqual(banking_days_between(date(2024, 3, 4), date(2024, 3, 11)), 5)
        self.assertEqual(banking_days_between(date(2024, 3, 4), date(2024, 3, 4)), 0)

    def test_overview_sections(self):
        self.import_unmatched()  # journal_a2 has an account, never a statement
        Overview = self.env["heeros.link.overview"].with_user(self.bureau_user).with_company(self.company_a)
        card = next(c for c in Overview.link_overview_data()["companies"] if c["id"] == self.company_a.id)
        sections = {section["key"]: section for section in card["sections"]}
        stale = {item["label"]: item["detail"] for item in sections["stale_feeds"]["items"]}
        self.assertIn(self.journal_a.display_name, stale, "a statement of 2024 is overdue")
        self.assertIn("2024-03-04", stale[self.journal_a.display_name])
        self.assertEqual(stale[self.journal_a2.display_name], "no statement yet")
        balances = sections["balances"]["items"]
        self.assertEqual([item["label"] for item in balances], [self.journal_a.display_name])
        self.assertIn("75", balances[0]["detail"])
        opened = Overview.link_overview_open(sections["stale_feeds"]["items"][0]["open"])
        self.assertEqual(opened["action"]["res_model"], "account.bank.statement")
        self.assertEqual(opened["company_ids"], self.company_a.ids)

        self.env["ir.config_parameter"].sudo().set_param("heeros_link.stale_banking_days", "100000")
        card = next(c for c in Overview.link_overview_data()["companies"] if c["id"] == self.company_a.id)
        stale = next(s for s in card["sections"] if s["key"] == "stale_feeds")
        self.assertEqual([item["label"] for item in stale["items"]], [self.journal_a2.display_name])

    def test_statement_form_and_readable_codes(self):
        message, line = self.import_unmatched()
        self.assertEqual(readable_transaction("710TILISIIRTO (PMNT/RCDT/ESCT)"), "710 TILISIIRTO (PMNT/RCDT/ESCT)")
        self.assertEqual(readable_transaction("705 VIITESIIRROT"), "705 VIITESIIRROT")
        self.assertTrue(line.heeros_link_transaction_label.startswith("710 TILISIIRTO"), line.transaction_type)
        action = message.action_view_bank_statements()
        form = self.env.ref("heeros_link_bank.heeros_link_bank_statement_view_form")
        self.assertIn((form.id, "form"), [tuple(v) for v in action["views"]])
        statement_ = line.statement_id
        self.assertEqual(statement_.heeros_link_entries_total, 75)
        arch = self.env["account.bank.statement"].get_view(form.id, "form")["arch"]
        for name in ("heeros_link_reference", "heeros_link_archive_id", "heeros_link_match_state", "partner_id"):
            self.assertIn(f'name="{name}"', arch)
        list_arch = self.env.ref("heeros_link_bank.heeros_link_reference_payment_view_form").arch
        self.assertNotIn("heeros_link_import_id", list_arch, "no raw import ids for bookkeepers")

    def test_match_by_hand(self):
        invoice = self.invoice(75, 2001)
        _message, line = self.import_unmatched()
        self.assertEqual(line.heeros_link_match_state, "unmatched")
        action = line.with_user(self.bureau_user).action_heeros_link_match()
        self.assertEqual(action["res_model"], "heeros.link.match.wizard")
        wizard = (
            self.env["heeros.link.match.wizard"]
            .with_user(self.bureau_user)
            .with_context(action["context"])
            .create({"invoice_ids": [Command.set(invoice.ids)]})
        )
        result = wizard.action_match()
        self.assertEqual(result["params"]["type"], "success")
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(line.heeros_link_match_state, "paid")
        self.assertEqual(line.heeros_link_invoice_ids, invoice)
        self.assertEqual(line.partner_id, self.customer)
        with self.assertRaises(UserError):
            line.action_heeros_link_match()

    def test_match_by_hand_partly_and_other_company(self):
        invoice = self.invoice(100, 2002)
        foreign = self.invoice(40, 2003, company=self.company_b)
        _message, line = self.import_unmatched(amount=40, ref_base=1006)
        with self.assertRaises(UserError):
            line._heeros_link_match_invoices(foreign)  # another company's invoice is never touched
        self.assertEqual(foreign.payment_state, "not_paid")
        self.assertEqual(line._heeros_link_match_invoices(invoice), "partial")
        self.assertAlmostEqual(invoice.amount_residual, 60)

    def test_reconciliation_view_when_installed(self):
        _message, line = self.import_unmatched()
        installed = line._heeros_link_reconcile_view_installed()
        self.assertEqual(line.heeros_link_reconcile_view, installed)
        if not installed:
            with self.assertRaises(UserError):
                line.action_heeros_link_reconcile_view()
            return
        action = line.action_heeros_link_reconcile_view()
        self.assertEqual(action["res_model"], "account.bank.statement.line")
        self.assertEqual(action["domain"], [("id", "=", line.id)])
        self.assertEqual(action["context"]["view_ref"], "account_reconcile_oca.bank_statement_line_form_reconcile_view")
        self.assertEqual(self.Line.search(action["domain"]), line)

    def test_bureau_upload_for_a_client_lands_under_the_client(self):
        data = camt("camt.053", [statement(IBAN_B, [entry(10, "B-1")], opening=0)], msg_id="CLIENT-B")
        Upload = self.env["heeros.link.upload"].with_user(self.bureau_user).with_company(self.company_a)

        def upload():
            attachment = (
                self.env["ir.attachment"]
                .with_user(self.bureau_user)
                .create({"name": "client-b.xml", "raw": data, "res_model": "heeros.link.upload"})
            )
            wizard = Upload.create({"attachment_ids": [Command.set(attachment.ids)]})
            self.assertEqual(wizard.company_id, self.company_a, "the dialog's default company is kept")
            action = wizard.action_import()
            return self.Message.browse(action["res_id"])

        first = upload()
        self.assertEqual((first.state, first.company_id), ("processed", self.company_b))
        again = upload()
        self.assertEqual(again.state, "duplicate")
        self.assertEqual(again.company_id, self.company_b, "not under the bureau")
        self.assertEqual(again.attachment_id.company_id, self.company_b)
        self.assertFalse(
            self.Message.search([("company_id", "=", self.company_a.id), ("file_name", "=", "client-b.xml")])
        )
