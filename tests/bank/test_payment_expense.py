"""Travel expenses paid to employees: expense reports (Odoo's Expenses app,
when it is installed in the database) and vendor bills of persons (board and
lecture fees) in a batch of kind "travel expenses and fees".

The Link does not depend on the Expenses app: without it these tests are
skipped and the batch takes the fee bills only."""

import unittest
from datetime import date

from odoo import Command
from odoo.addons.heeros_link_bank.formats import pain001
from tests.bank.payment_common import IBAN_FI, PaymentCase

EMPLOYEE_IBAN = "FI5810171000000122"


class TestExpenseBatch(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "hr.expense.sheet" not in cls.env:
            raise unittest.SkipTest("the Expenses app (hr_expense) is not installed in this database")
        contact = cls.env["res.partner"].create({"name": "Maija Matkustaja", "country_id": cls.env.ref("base.fi").id})
        cls.employee = cls.env["hr.employee"].create(
            {
                "name": "Maija Matkustaja",
                "company_id": cls.company.id,
                "work_contact_id": contact.id,
                "bank_account_id": cls.env["res.partner.bank"]
                .create({"acc_number": EMPLOYEE_IBAN, "partner_id": contact.id, "allow_out_payment": True})
                .id,
            }
        )

    def expense_report(self, amount):
        expense = self.env["hr.expense"].create(
            {
                "name": "Matka Tampereelle",
                "employee_id": self.employee.id,
                "company_id": self.company.id,
                "total_amount_currency": amount,
                "payment_mode": "own_account",
                "tax_ids": [Command.clear()],
                "date": date(2026, 11, 20),
            }
        )
        sheet = self.env["hr.expense.sheet"].create(
            {
                "name": "Marraskuu",
                "employee_id": self.employee.id,
                "company_id": self.company.id,
                "expense_line_ids": [Command.set(expense.ids)],
            }
        )
        sheet.action_submit_sheet()
        sheet.action_approve_expense_sheets()
        sheet.action_sheet_move_post()
        self.assertEqual(sheet.state, "post")
        return sheet

    def test_expense_reports_and_fees_paid_to_persons(self):
        sheet = self.expense_report(86.4)
        lecturer = self.partner("Luennoitsija Leena", "fi", IBAN_FI, self.bank_fi)
        lecturer.is_company = False
        fee = self.bill(lecturer, 300.0)
        # supplier batches leave expense reports alone
        self.assertNotIn(sheet.account_move_ids, self.wizard()._heeros_link_bills())
        wizard = self.wizard(kind="expense", partner_ids=[Command.set(lecturer.ids)])
        self.assertEqual(wizard._heeros_link_bills(), sheet.account_move_ids | fee)
        batch = self.env["heeros.link.payment.batch"].browse(wizard.action_create_batch()["res_id"])
        self.assertEqual(batch.kind, "expense")
        line = batch.line_ids.filtered(lambda l: l.move_id == sheet.account_move_ids)
        self.assertEqual((line.iban, line.amount, line.creditor_name), (EMPLOYEE_IBAN, 86.4, "Maija Matkustaja"))
        batch.action_approve()
        batch.action_send()
        data = batch.heeros_link_message_ids._payload()
        self.assertEqual(pain001.validate(data, "x.xml"), "09")
        self.assertEqual(sorted(str(p.amount) for p in pain001.read(data, "x.xml").payments), ["300.00", "86.40"])
        self.assertEqual(sheet.account_move_ids.payment_state, "in_payment")
        self.assertEqual(fee.payment_state, "in_payment")
