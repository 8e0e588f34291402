"""Reference payments: automatic reconciliation with open customer invoices,
and lump sums of a statement replaced by their itemisation (camt.054, KTL)
whichever file arrives first."""

from odoo.addons.heeros_link_base.formats import reference

from .common import IBAN_A, BankCase, camt, entry, fi_ref, ktl, statement, tx

LUMP = "705 VIITESIIRROT"


class TestReferencePayments(BankCase):
    def receivable(self, line):
        return line.move_id.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")

    def test_reconciliation_by_reference(self):
        exact = self.invoice(100, 1001)
        partial = self.invoice(200, 1002, rf=True)
        over = self.invoice(300, 1003)
        other_company = self.invoice(50, 1005, company=self.company_b)
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(100, "R0001", ref=fi_ref(1001), name="Asiakas Oy"),
                        entry(150, "R0002", ref=fi_ref(1002), name="Asiakas Oy"),  # national pays RF invoice
                        entry(350, "R0003", ref=reference.rf_make(fi_ref(1003)), name="X"),  # RF pays national invoice
                        entry(75, "R0004", ref=fi_ref(1004), name="Nobody"),
                        entry(50, "R0005", ref=fi_ref(1005), name="Asiakas Oy"),
                        entry(-20, "R0006", ref=fi_ref(1001), name="Asiakas Oy"),
                        entry(10, "R0007", text="no reference", name="Asiakas Oy"),
                    ],
                    opening=0,
                )
            ],
            msg_id="REC",
        )
        message = self.intake(("rec.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        full_line, partial_line, over_line, none_line, other_line, debit_line, plain_line = self.lines(self.journal_a)

        self.assertEqual(exact.payment_state, "paid")
        self.assertEqual(full_line.heeros_link_match_state, "paid")
        self.assertTrue(full_line.is_reconciled)
        self.assertEqual(full_line.heeros_link_invoice_ids, exact)
        self.assertEqual(full_line.partner_id, self.customer)

        self.assertEqual(partial.payment_state, "partial")
        self.assertAlmostEqual(partial.amount_residual, 50)
        self.assertEqual(partial_line.heeros_link_match_state, "partial")
        self.assertTrue(partial_line.is_reconciled)

        self.assertEqual(over.payment_state, "paid")
        self.assertEqual(over_line.heeros_link_match_state, "overpaid")
        self.assertEqual(over_line.partner_id, self.customer, "the invoice names the partner")
        rest = self.receivable(over_line)
        self.assertEqual(rest.partner_id, self.customer)
        self.assertAlmostEqual(rest.amount_residual, -50, msg="the extra 50 stays open on the partner")

        for line in (none_line, other_line):
            self.assertEqual(line.heeros_link_match_state, "unmatched")
            self.assertFalse(line.is_reconciled)
        self.assertEqual(other_company.payment_state, "not_paid", "another company's invoice is not touched")
        self.assertEqual(debit_line.heeros_link_match_state, "none", "outgoing payments are not matched")
        self.assertEqual(plain_line.heeros_link_match_state, "none")
        self.assertFalse(plain_line.is_reconciled)

        action = self.env.ref("heeros_link_bank.heeros_link_unmatched_reference_action")
        unmatched = self.Line.search(eval(action.domain) + [("journal_id", "=", self.journal_a.id)])
        self.assertEqual(unmatched, none_line | other_line)
        self.assertIn("found no open invoice", message.message_ids[:1].body)

        # a second payment for the partly paid invoice finishes it
        self.intake(
            (
                "rec2.xml",
                camt(
                    "camt.053",
                    [
                        statement(
                            IBAN_A,
                            [entry(50, "R0008", day="2024-03-05", ref=fi_ref(1002), name="X")],
                            opening=585,
                            day="2024-03-05",
                        )
                    ],
                    msg_id="REC2",
                ),
            )
        )
        self.assertEqual(partial.payment_state, "paid")

    def test_two_payments_of_one_invoice_in_one_file(self):
        invoice = self.invoice(100, 1011)
        also = self.invoice(30, 1012)
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(40, "T0001", ref=fi_ref(1011), name="Asiakas Oy"),
                        entry(30, "T0002", ref=fi_ref(1012), name="Asiakas Oy"),
                        entry(80, "T0003", ref=fi_ref(1011), name="Asiakas Oy"),
                    ],
                    opening=0,
                )
            ],
            msg_id="TWICE",
        )
        message = self.intake(("twice.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        first, other, second = self.lines(self.journal_a)
        self.assertEqual(
            (first.heeros_link_match_state, other.heeros_link_match_state, second.heeros_link_match_state),
            ("partial", "paid", "overpaid"),
        )
        self.assertEqual((invoice.payment_state, also.payment_state), ("paid", "paid"))
        self.assertTrue(first.is_reconciled and second.is_reconciled)
        self.assertAlmostEqual(
            self.receivable(second).amount_residual, -20, msg="the second payment's extra 20 stays open on the partner"
        )
        self.assertIn("1 paid an invoice, 1 paid part of one, 1 paid more", message.message_ids[:1].body)

    # ------------------------------------------------------------------
    # lump sums
    # ------------------------------------------------------------------
    def files(self):
        """A day's statement with a lump sum of two reference payments and
        its itemisation, as camt.054 and as KTL."""
        self.inv1 = self.invoice(120, 2001)
        self.inv2 = self.invoice(180, 2002)
        payments = [
            tx(120, ref=fi_ref(2001), archive="TX0001", name="Maksaja Yksi"),
            tx(180, ref=fi_ref(2002), archive="TX0002", name="Maksaja Kaksi"),
        ]
        stmt = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(100, "N0001", name="Tavallinen"),
                        entry(300, "LUMP0001", code=LUMP, txs=[], batch=2),
                        entry(-25, "N0002", name="Kulu"),
                    ],
                    opening=1000,
                )
            ],
            msg_id="LUMP-STMT",
        )
        notification = camt(
            "camt.054",
            [{"iban": IBAN_A, "entries": [entry(300, "LUMP0001", code=LUMP, txs=payments, batch=2)]}],
            msg_id="LUMP-NTF",
        )
        ktl_file = ktl(
            "19503000000010",
            [
                ("KTL0000000000001", fi_ref(2001), "MAKSAJA YKSI", 120),
                ("KTL0000000000002", fi_ref(2002), "MAKSAJA KAKSI", 180),
            ],
        )
        return stmt, notification, ktl_file

    def assert_each_payment_once(self):
        lines = self.lines(self.journal_a)
        self.assertEqual(sorted(lines.mapped("amount")), [-25, 100, 120, 180], "the lump sum is gone")
        self.assertFalse(lines.filtered("heeros_link_lump_sum"))
        st = lines.statement_id
        self.assertEqual(len(st), 1, "every line is in the day's statement")
        self.assertEqual((st.balance_start, st.balance_end, st.balance_end_real), (1000, 1375, 1375))
        self.assertTrue(st.is_complete)
        self.assertFalse(st.heeros_link_balance_warning)
        self.assertEqual((self.inv1.payment_state, self.inv2.payment_state), ("paid", "paid"))
        return lines

    def test_statement_first_then_itemisation(self):
        stmt, notification, _ktl = self.files()
        first = self.intake(("stmt.xml", stmt))
        self.assertEqual(first.state, "processed", first.error)
        lump = self.lines(self.journal_a).filtered("heeros_link_lump_sum")
        self.assertEqual(lump.amount, 300)
        self.assertEqual(lump.heeros_link_match_state, "none")
        second = self.intake(("ntf.xml", notification))
        self.assertEqual(second.state, "processed", second.error)
        self.assertFalse(lump.exists())
        lines = self.assert_each_payment_once()
        items = lines.filtered(lambda l: l.amount in (120, 180))
        self.assertEqual(items.mapped("heeros_link_batch_key"), ["a:LUMP0001"] * 2)
        self.assertEqual(items.mapped("heeros_link_match_state"), ["paid", "paid"])
        self.assertEqual(sorted(items.mapped("heeros_link_archive_id")), ["TX0001", "TX0002"])
        self.assertIn("replaced by its 2 payments", second.message_ids[:1].body)
        # both files again: nothing new
        again = self.intake(
            ("ntf2.xml", notification.replace(b"LUMP-NTF", b"LUMP-NTF2")),
            ("stmt2.xml", stmt.replace(b"LUMP-STMT", b"LUMP-STMT2")),
        )
        self.assertEqual(again.mapped("state"), ["duplicate", "duplicate"])
        self.assert_each_payment_once()

    def test_itemisation_first_then_statement(self):
        stmt, notification, _ktl = self.files()
        first = self.intake(("ntf.xml", notification))
        self.assertEqual(first.state, "processed", first.error)
        items = self.lines(self.journal_a)
        self.assertEqual(sorted(items.mapped("amount")), [120, 180])
        self.assertFalse(items.statement_id, "no statement yet")
        self.assertEqual((self.inv1.payment_state, self.inv2.payment_state), ("paid", "paid"))
        second = self.intake(("stmt.xml", stmt))
        self.assertEqual(second.state, "processed", second.error)
        self.assert_each_payment_once()
        self.assertEqual(len(second._linked("account.bank.statement.line")), 2, "only the two others are new")
        again = self.intake(("stmt2.xml", stmt.replace(b"LUMP-STMT", b"LUMP-STMT2")))
        self.assertEqual(again.state, "duplicate")

    def test_ktl_first_then_statement(self):
        stmt, _notification, ktl_file = self.files()
        first = self.intake(("ref.ktl", ktl_file))
        self.assertEqual(first.state, "processed", first.error)
        self.assertEqual(first.document_type, "ktl")
        self.assertEqual(self.lines(self.journal_a).mapped("heeros_link_batch_key"), ["d:2024-03-04"] * 2)
        second = self.intake(("stmt.xml", stmt))
        self.assertEqual(second.state, "processed", second.error)
        self.assert_each_payment_once()
        again = self.intake(("stmt2.xml", stmt.replace(b"LUMP-STMT", b"LUMP-STMT2")))
        self.assertEqual(again.state, "duplicate", "the lump sum is not created by a second copy")
        self.assert_each_payment_once()

    def test_statement_first_then_ktl(self):
        stmt, _notification, ktl_file = self.files()
        self.intake(("stmt.xml", stmt))
        second = self.intake(("ref.ktl", ktl_file))
        self.assertEqual(second.state, "processed", second.error)
        self.assert_each_payment_once()
        again = self.intake(
            ("ref2.ktl", ktl_file.replace(b"2200", b"2300", 1)),
            ("stmt2.xml", stmt.replace(b"LUMP-STMT", b"LUMP-STMT2")),
        )
        self.assertEqual(again.mapped("state"), ["duplicate", "duplicate"])
        self.assert_each_payment_once()

    def test_statement_itemising_its_own_lump_sum(self):
        inv = self.invoice(40, 3001)
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(
                            100,
                            "OWN0001",
                            code=LUMP,
                            batch=2,
                            txs=[
                                tx(40, ref=fi_ref(3001), archive="OWNTX1"),
                                tx(60, ref=fi_ref(3002), archive="OWNTX2"),
                            ],
                        )
                    ],
                    opening=0,
                )
            ],
            msg_id="OWN",
        )
        message = self.intake(("own.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        lines = self.lines(self.journal_a)
        self.assertEqual(lines.mapped("amount"), [40, 60])
        self.assertEqual(lines.mapped("heeros_link_match_state"), ["paid", "unmatched"])
        self.assertEqual(inv.payment_state, "paid")
        self.assertEqual(lines.statement_id.balance_end_real, 100)

    def test_reconciled_lump_sum_is_kept(self):
        stmt, notification, _ktl = self.files()
        self.intake(("stmt.xml", stmt))
        lump = self.lines(self.journal_a).filtered("heeros_link_lump_sum")
        # a person reconciled the lump sum with both invoices by hand
        _liquidity, suspense, _other = lump._seek_for_lines()
        receivables = (self.inv1 | self.inv2).line_ids.filtered(
            lambda l: l.account_id.account_type == "asset_receivable"
        )
        suspense.write({"account_id": receivables[0].account_id.id, "partner_id": self.customer.id})
        (suspense | receivables).reconcile()
        self.assertTrue(lump.is_reconciled)
        message = self.intake(("ntf.xml", notification))
        self.assertEqual(message.state, "processed", message.error)
        self.assertIn("already reconciled", message.bank_warning)
        self.assertTrue(lump.exists())
        self.assertEqual(
            sorted(self.lines(self.journal_a).mapped("amount")),
            [-25, 100, 300],
            "the payments are not added next to their reconciled lump sum",
        )

    def test_notification_of_a_payment_already_booked(self):
        inv = self.invoice(80, 4001)
        stmt = camt(
            "camt.053",
            [statement(IBAN_A, [entry(80, "SINGLE01", ref=fi_ref(4001), name="X")], opening=0)],
            msg_id="SINGLE-STMT",
        )
        ntf = camt(
            "camt.054",
            [
                {
                    "iban": IBAN_A,
                    "entries": [entry(80, "SINGLE01", txs=[tx(80, ref=fi_ref(4001), archive="SINGLETX1", name="X")])],
                }
            ],
            msg_id="SINGLE-NTF",
        )
        first = self.intake(("stmt.xml", stmt))
        self.assertEqual(inv.payment_state, "paid")
        second = self.intake(("ntf.xml", ntf))
        self.assertEqual(second.state, "duplicate", "the statement already holds that payment")
        self.assertFalse(second.bank_warning)
        self.assertEqual(self.lines(self.journal_a), first._linked(self.Line._name))

    def test_itemisation_not_adding_up_keeps_the_lump_sum(self):
        stmt, _notification, _ktl = self.files()
        self.intake(("stmt.xml", stmt))
        wrong = camt(
            "camt.054",
            [
                {
                    "iban": IBAN_A,
                    "entries": [
                        entry(
                            300,
                            "LUMP0001",
                            code=LUMP,
                            batch=2,
                            txs=[
                                tx(120, ref=fi_ref(2001), archive="TX0001"),
                                tx(170, ref=fi_ref(2002), archive="TX0002"),
                            ],
                        )
                    ],
                }
            ],
            msg_id="WRONG",
        )
        message = self.intake(("wrong.xml", wrong))
        self.assertEqual(message.state, "processed", message.error)
        self.assertIn("payments total 290", message.bank_warning)
        self.assertEqual(sorted(self.lines(self.journal_a).mapped("amount")), [-25, 100, 300])
        self.assertEqual(self.inv1.payment_state, "not_paid")
