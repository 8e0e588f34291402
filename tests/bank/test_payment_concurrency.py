"""Two people building payment batches of the same bill at the same moment,
in two real database transactions: the second is refused with the batch
that holds the bill, never a bill paid twice.

The test commits its bill (a transaction cannot see another's uncommitted
rows) in the database's main company and removes everything afterwards."""

import threading
from datetime import date

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import ValidationError
from odoo.tests.common import BaseCase

IBAN = "FI2112345600000785"


class TestConcurrentWizards(BaseCase):
    def setUp(self):
        super().setUp()
        from odoo.modules.registry import Registry
        from odoo.tools import config

        self.registry = Registry(config["db_name"])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            company = env.ref("base.main_company")
            self.journal_id = (
                env["account.journal"].search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1).id
            )
            if not self.journal_id or not env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "purchase")], limit=1
            ):
                self.skipTest("the main company has no chart of accounts")
            partner = env["res.partner"].create(
                {"name": "Concurrency Supplier Oy", "bank_ids": [Command.create({"acc_number": IBAN})]}
            )
            bill = env["account.move"].create(
                {
                    "move_type": "in_invoice",
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "invoice_date": date(2026, 11, 1),
                    "invoice_date_due": date(2026, 12, 1),
                    "invoice_line_ids": [
                        Command.create({"name": "x", "quantity": 1, "price_unit": 10, "tax_ids": [Command.clear()]})
                    ],
                }
            )
            bill.action_post()
            self.company_id, self.partner_id, self.bill_id = company.id, partner.id, bill.id
            self.bill_name = bill.name
        self.addCleanup(self.cleanup)

    def cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            lines = env["heeros.link.payment.line"].search([("move_id", "=", self.bill_id)])
            batches = lines.batch_id
            lines.unlink()
            batches.unlink()
            bill = env["account.move"].browse(self.bill_id)
            bill.button_draft()
            bill.with_context(force_delete=True).unlink()
            env["res.partner"].browse(self.partner_id).unlink()

    def create_batch(self, cr):
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "allowed_company_ids": [self.company_id]})
        wizard = env["heeros.link.payment.batch.wizard"].create(
            {"company_id": self.company_id, "journal_id": self.journal_id, "move_ids": [Command.set([self.bill_id])]}
        )
        batch = env["heeros.link.payment.batch"].browse(wizard.action_create_batch()["res_id"])
        env.flush_all()
        return batch.name

    def test_second_concurrent_batch_refused(self):
        first = self.registry.cursor()
        second = self.registry.cursor()
        outcome = {}
        try:
            first_name = self.create_batch(first)  # holds the bill, not committed yet

            def other_user():
                try:
                    outcome["name"] = self.create_batch(second)
                except ValidationError as exc:
                    outcome["error"] = str(exc)
                except Exception as exc:  # reported by the assertion below
                    outcome["unexpected"] = repr(exc)

            thread = threading.Thread(target=other_user)
            thread.start()
            thread.join(2)
            self.assertTrue(thread.is_alive(), "the second transaction waits for the first")
            first.commit()
            thread.join(60)
            self.assertFalse(thread.is_alive())
        finally:
            second.rollback()
            second.close()
            first.close()
        self.assertNotIn("unexpected", outcome, outcome.get("unexpected"))
        self.assertNotIn("name", outcome, "the bill went into two batches")
        self.assertIn(f"Bill {self.bill_name} was just put in another payment batch", outcome["error"])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            lines = env["heeros.link.payment.line"].search([("move_id", "=", self.bill_id)])
            self.assertEqual(lines.batch_id.mapped("name"), [first_name])
