"""The payments of a large batch are written after a model payment made by
Odoo's own flow: every row they leave (payment, journal entry, journal
items, reconciliation, the bill and its payable item) must be the row Odoo
itself writes for the same bill, and what comes after (the statement's
debit, a partial payment, the next payment of the journal) must work on
them as on Odoo's own."""

from datetime import date
from unittest.mock import patch

from odoo.addons.heeros_link_bank.models.payment_batch import HeerosLinkPaymentBatch
from odoo.tools import SQL

from .payment_common import PaymentCase

#: Columns that name the row itself, its neighbours or its time: the rest of
#: each row must be equal between Odoo's payment and the Link's.
IDENTITY = {
    "id",
    "move_id",
    "payment_id",
    "origin_payment_id",
    "full_reconcile_id",
    "debit_move_id",
    "credit_move_id",
    "name",
    "move_name",
    "sequence_number",
    "ref",
    "memo",
    "matching_number",
    "create_date",
    "write_date",
}


class TestBulkPayments(PaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo's usual flow: the payments wait in the outstanding payments account
        outstanding = cls.env["account.account"].search(
            [("company_ids", "in", cls.company.id), ("name", "=", "Outstanding Payments")], limit=1
        )
        outstanding.reconcile = True
        methods = cls.journal.outbound_payment_method_line_ids
        methods.filtered(lambda line: not line.payment_account_id).payment_account_id = outstanding
        cls.outstanding = outstanding

    def rows(self, table, ids):
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT * FROM %s WHERE id = ANY(%s) ORDER BY id", SQL.identifier(table), list(ids)))
        return self.env.cr.dictfetchall()

    def comparable(self, row, memo):
        return {
            key: (value.replace(memo, "<memo>") if isinstance(value, str) and memo else value)
            for key, value in row.items()
            if key not in IDENTITY
        }

    def picture(self, line):
        """What one payment line left in the database, without identities."""
        payment = line.payment_id
        memo = line.end_to_end_id
        items = payment.move_id.line_ids
        bill_items = line.move_id.line_ids
        partials = self.env["account.partial.reconcile"].search(
            [("debit_move_id", "in", items.ids), ("credit_move_id", "in", bill_items.ids)]
        )
        self.env.cr.execute("SELECT invoice_id FROM account_move__account_payment WHERE payment_id = %s", [payment.id])
        return {
            "payment": [self.comparable(r, memo) for r in self.rows("account_payment", payment.ids)],
            "entry": [self.comparable(r, memo) for r in self.rows("account_move", payment.move_id.ids)],
            "items": sorted(
                (self.comparable(r, memo) for r in self.rows("account_move_line", items.ids)),
                key=lambda r: r["account_id"],
            ),
            "partial": [self.comparable(r, memo) for r in self.rows("account_partial_reconcile", partials.ids)],
            "full": [bool(r["full_reconcile_id"]) for r in self.rows("account_move_line", bill_items.ids)],
            "bill": [self.comparable(r, memo) for r in self.rows("account_move", line.move_id.ids)],
            "bill_items": sorted(
                (self.comparable(r, memo) for r in self.rows("account_move_line", bill_items.ids)),
                key=lambda r: (r["account_id"], r["balance"]),
            ),
            "invoices": [row[0] == line.move_id.id for row in self.env.cr.fetchall()],
        }

    def bills(self, suffix):
        partners = [self.supplier, self.supplier_de, self.supplier, self.supplier_de]
        return [
            self.bill(partner, amount, ref=self.fi_ref(f"77{n}{suffix}"))
            for n, (partner, amount) in enumerate(zip(partners, [120.0, 75.5, 1.0, 1999.99]))
        ]

    def sent(self, bills, bulk=True):
        batch = self.batch_of(self.env["account.move"].concat(*bills))
        batch.action_approve()
        if bulk:
            batch.action_send()
        else:
            with patch.object(HeerosLinkPaymentBatch, "_heeros_link_bulk_payable", lambda *args: False):
                batch.action_send()
        return batch

    def test_same_rows_as_odoo_writes(self):
        odoo_bills = self.bills(1)
        odoo_batch = self.sent(odoo_bills, bulk=False)
        link_bills = self.bills(2)
        with patch.object(
            HeerosLinkPaymentBatch,
            "_heeros_link_clone_payments",
            autospec=True,
            side_effect=HeerosLinkPaymentBatch._heeros_link_clone_payments,
        ) as clone:
            link_batch = self.sent(link_bills)
        self.assertEqual(clone.call_count, 1, "the payments after the model are written by the Link")
        self.assertEqual(len(clone.call_args.args[2]), 3)
        for odoo_bill, link_bill in zip(odoo_bills, link_bills):
            self.assertEqual(link_bill.payment_state, "in_payment")
            odoo_line = odoo_batch.line_ids.filtered(lambda line, bill=odoo_bill: line.move_id == bill)
            link_line = link_batch.line_ids.filtered(lambda line, bill=link_bill: line.move_id == bill)
            odoo_picture, link_picture = self.picture(odoo_line), self.picture(link_line)
            # the bills differ by their own numbers and references only
            for picture in (odoo_picture, link_picture):
                for row in picture["bill"] + picture["bill_items"]:
                    for key in ("payment_reference", "sequence_prefix", "invoice_date_due"):
                        row.pop(key, None)
                    if "name" in row:
                        row.pop("name")
            differences = [
                (part, n, key, row.get(key), odoo_row.get(key))
                for part in link_picture
                for n, (row, odoo_row) in enumerate(zip(link_picture[part], odoo_picture[part]))
                if isinstance(row, dict)
                for key in row.keys() | odoo_row.keys()
                if row.get(key) != odoo_row.get(key)
            ]
            self.assertEqual(differences, [], f"payment of {link_bill.ref}")
            self.assertEqual(link_picture, odoo_picture, f"payment of {link_bill.ref}")
        # numbered in the journal's sequence, after the model and without gaps
        moves = link_batch.line_ids.payment_id.move_id.sorted("sequence_number")
        numbers = moves.mapped("sequence_number")
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 4)))
        self.assertEqual(len(set(moves.mapped("name"))), 4)
        self.assertTrue(all(move.name == payment.name for move in moves for payment in move.origin_payment_id))
        # the journal's next payment, by Odoo, takes the next number
        extra = self.bill(self.supplier, 10.0)
        register = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=extra.ids)
            .create({"journal_id": self.journal.id, "payment_date": date(2026, 12, 7)})
        )
        payment = register._create_payments()
        self.assertEqual(payment.move_id.sequence_number, numbers[-1] + 1)
        self.assertEqual(payment.move_id.sequence_prefix, moves[0].sequence_prefix)

    def test_payments_usable_afterwards(self):
        """Odoo's own operations on the Link's payments: each is matched to
        its bill, cancelling one reopens its bill, the outstanding items add
        up to the batch."""
        bills = self.bills(3)
        batch = self.sent(bills)
        payments = batch.line_ids.payment_id
        self.assertEqual(len(payments), 4)
        for line in batch.line_ids:
            self.assertEqual(line.payment_id.reconciled_bill_ids, line.move_id)
            self.assertEqual(line.move_id.matched_payment_ids, line.payment_id)
            self.assertEqual(line.payment_id.state, "in_process")
            self.assertEqual(line.payment_id.amount, line.amount)
        open_items = self.env["account.move.line"].search(
            [("account_id", "=", self.outstanding.id), ("reconciled", "=", False), ("payment_id", "in", payments.ids)]
        )
        self.assertAlmostEqual(-sum(open_items.mapped("balance")), sum(batch.line_ids.mapped("amount")))
        last = batch.line_ids.sorted("id")[-1]
        last.payment_id.action_draft()
        last.payment_id.action_cancel()
        self.assertEqual(last.move_id.payment_state, "not_paid")
        self.assertEqual(last.move_id.amount_residual, last.amount)
