"""The debit of a sent payment batch arriving on a TITO statement (the
Finnish fixed-width statement): one entry for the batch naming its payment
file in the message, one entry itemised per payment by end-to-end id, one
entry per payment; the outstanding payments reconciled without the user
doing anything, and nothing reconciled when the amount differs."""

from decimal import Decimal

from odoo.addons.heeros_link_bank.formats import tito

from . import tito_builder as tb
from .test_payment_feedback import FeedbackCase


class TestTitoBuilder(FeedbackCase):
    def test_builder_reads_back(self):
        """The builder's file is what the TITO reader expects: the debits,
        their itemisation and SEPA end-to-end ids, the balances."""
        data = tb.statement(
            [
                tb.Debit(
                    Decimal("30.50"),
                    "TB-1",
                    message="Maksuerä PAY-X-1",
                    payments=[
                        tb.Payment(Decimal("10.25"), "A Oy", end_to_end_id="E2E-1"),
                        tb.Payment(Decimal("20.25"), "B Oy", end_to_end_id="E2E-2"),
                    ],
                    itemised=True,
                ),
                tb.Debit(Decimal("5"), "TB-2", payments=[tb.Payment(Decimal("5"), end_to_end_id="E2E-3")]),
            ],
            opening=Decimal("100"),
        )
        (statement,) = tito.parse(data, "tb.txt").statements
        self.assertEqual(statement.account_iban, "FI4819503000000010")
        first, second = statement.entries
        self.assertEqual(first.amount, Decimal("-30.50"))
        self.assertEqual([d.end_to_end_id for d in first.details], ["E2E-1", "E2E-2"])
        self.assertEqual([d.amount for d in first.details], [Decimal("-10.25"), Decimal("-20.25")])
        self.assertEqual(second.details[0].end_to_end_id, "E2E-3")
        closing = next(b for b in statement.balances if b.code == "CLBD")
        self.assertEqual(closing.amount, Decimal("64.50"))
        self.assertEqual((statement.debit_count, statement.debit_sum), (2, Decimal("35.50")))


class TestTitoBatchReconciliation(FeedbackCase):
    def assert_paid(self, batch, lines):
        for line in lines:
            self.assertEqual(line.state, "done")
            self.assertTrue(line.payment_id.is_matched, "reconciled with the statement")
            self.assertEqual(line.move_id.payment_state, "paid")
        self.assertEqual(batch.state, "done")

    def import_tito(self, name, data):
        message = self.intake((name, data))
        self.assertEqual(message.document_type, "tito")
        self.assertEqual(message.state, "processed", message.error)
        return message

    def test_batch_entry_named_in_the_message(self):
        """One debit for the whole batch; its T11 message names the payment
        file (the pain.001 message id)."""
        batch, lines = self.sent_batch("PAYTITO-1", [("PAYTITO-1-1", [None, None, None])])
        total = sum(lines.mapped("amount"))
        self.import_tito("tito1.txt", tb.statement([tb.Debit(total, "TITO-A-1", message="PAYTITO-1")]))
        statement_line = self.lines(self.journal_a)
        self.assertEqual(len(statement_line), 1)
        self.assertTrue(statement_line.is_reconciled)
        self.assert_paid(batch, lines)

    def test_batch_entry_itemised_by_end_to_end_ids(self):
        batch, lines = self.sent_batch("PAYTITO-2", [("PAYTITO-2-1", [None, None])])
        debit = tb.Debit(
            sum(lines.mapped("amount")),
            "TITO-A-2",
            name="Maksuerä",
            payments=[tb.Payment(line.amount, "Toimittaja Oy", line.iban, line.end_to_end_id) for line in lines],
            itemised=True,
        )
        self.import_tito("tito2.txt", tb.statement([debit], number=2))
        self.assertTrue(all(self.lines(self.journal_a).mapped("is_reconciled")))
        self.assert_paid(batch, lines)

    def test_entry_per_payment_by_end_to_end_id(self):
        batch, lines = self.sent_batch("PAYTITO-3", [("PAYTITO-3-1", [None, None])])
        first, second = lines
        self.import_tito(
            "tito3.txt",
            tb.statement(
                [
                    tb.Debit(
                        first.amount,
                        "TITO-A-3",
                        name="Toimittaja Oy",
                        payments=[tb.Payment(first.amount, "Toimittaja Oy", first.iban, first.end_to_end_id)],
                    )
                ],
                number=3,
            ),
        )
        self.assertEqual(first.state, "done")
        self.assertTrue(first.payment_id.is_matched)
        self.assertEqual(second.state, "sent")
        self.assertFalse(second.payment_id.is_matched)
        self.assertEqual(batch.state, "sent")
        self.assertEqual(self.lines(self.journal_a).partner_id, self.supplier)
        self.import_tito(
            "tito4.txt",
            tb.statement(
                [
                    tb.Debit(
                        second.amount,
                        "TITO-A-4",
                        payments=[tb.Payment(second.amount, "Toimittaja Oy", second.iban, second.end_to_end_id)],
                    )
                ],
                number=4,
                opening=Decimal(10000) - Decimal(str(first.amount)),
            ),
        )
        self.assert_paid(batch, lines)

    def test_amount_that_differs_is_not_reconciled(self):
        batch, lines = self.sent_batch("PAYTITO-5", [("PAYTITO-5-1", [None, None])])
        message = self.import_tito(
            "tito5.txt",
            tb.statement([tb.Debit(sum(lines.mapped("amount")) + 1, "TITO-A-5", message="PAYTITO-5")], number=5),
        )
        self.assertFalse(self.lines(self.journal_a).is_reconciled)
        self.assertIn(batch.name, message.bank_warning or "")
        self.assertEqual(batch.state, "sent")
        self.assertEqual(set(lines.mapped("state")), {"sent"})
