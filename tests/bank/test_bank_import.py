"""Bank files through the Link into Odoo: detection, routing by IBAN,
statements and lines, duplicates and overlaps, balance checks, latest
balances, forwarding."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests.common import new_test_user
from tests.common import SHARED_DATA

from .common import (
    IBAN_A,
    IBAN_A2,
    IBAN_B,
    IBAN_CUSTOMER,
    IBAN_UNKNOWN,
    BankCase,
    camt,
    entry,
    fi_ref,
    ktl,
    statement,
    tx,
)

SAMPLES = SHARED_DATA / "bank" / "samples"


class TestBankImport(BankCase):
    def test_statement_lines_partners_and_result(self):
        supplier = self.env["res.partner"].create({"name": "Toimittaja Oy", "is_company": True})
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(100, "ARCH0001", iban=IBAN_CUSTOMER, name="Someone Else", text="Lasku 1"),
                        entry(-40.5, "ARCH0002", name="toimittaja oy", text="Vuokra"),
                        entry(25, "ARCH0003", ref=fi_ref(1232), name="Tuntematon"),
                        entry(999, "ARCH0004", status="PDNG", name="Pending"),
                    ],
                    opening=1000,
                    available=2000,
                )
            ],
            msg_id="STMT-1",
        )
        message = self.intake(("stmt.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.document_type, "camt.053")
        self.assertFalse(message.bank_warning)
        lines = self.lines(self.journal_a)
        self.assertEqual(lines.mapped("amount"), [100, -40.5, 25], "the pending entry is not booked")
        first, second, third = lines
        self.assertEqual(first.partner_id, self.customer, "partner found by IBAN")
        self.assertEqual(first.account_number, IBAN_CUSTOMER)
        self.assertEqual(first.partner_name, "Someone Else")
        self.assertEqual(first.payment_ref, "Lasku 1")
        self.assertEqual(second.partner_id, supplier, "partner found by exact name")
        self.assertFalse(third.partner_id)
        self.assertEqual(third.payment_ref, fi_ref(1232), "the structured reference is the label")
        self.assertEqual(third.heeros_link_reference, fi_ref(1232))
        self.assertEqual(third.heeros_link_match_state, "unmatched")
        self.assertEqual(first.heeros_link_archive_id, "ARCH0001")
        self.assertEqual(first.heeros_link_fi_code, "710")
        self.assertEqual(first.heeros_link_iso_code, "PMNT/RCDT/DMCT")
        self.assertIn("710TILISIIRTO", first.transaction_type)
        self.assertEqual(str(first.date), "2024-03-04")
        self.assertTrue(all(lines.mapped("heeros_link_import_id")))
        self.assertEqual(lines.heeros_link_bank_message_id, message)
        # journal entries: posted, numbered in the journal's sequence, bank and suspense items
        self.assertEqual(set(lines.move_id.mapped("state")), {"posted"})
        self.assertEqual(
            sorted(lines.move_id.mapped("name")), [f"{self.journal_a.code}/2024/0000{i}" for i in (1, 2, 3)]
        )
        for line in lines:
            self.assertEqual(line.move_id.statement_line_id, line)
            self.assertEqual(line.move_id.line_ids.statement_line_id, line)
            self.assertEqual(len(line.move_id.line_ids), 2)
            self.assertFalse(line.is_reconciled)
            self.assertAlmostEqual(line.amount_residual, -line.amount)
        self.assertEqual(first.move_id.partner_id, self.customer)
        st = lines.statement_id
        self.assertEqual(len(st), 1)
        self.assertEqual((st.balance_start, st.balance_end_real, st.balance_end), (1000, 1084.5, 1084.5))
        self.assertTrue(st.is_complete)
        self.assertEqual(st.heeros_link_bank_message_id, message)
        self.assertEqual(lines.move_id.line_ids.statement_id, st)
        self.assertEqual(str(st.date), "2024-03-04")
        # the statement's own fields are what Odoo computes for them
        fnames = ["journal_id", "company_id", "date", "first_line_index", "balance_end", "is_complete"]
        stored = st.read(fnames)[0]
        for name in fnames:
            self.env.add_to_compute(st._fields[name], st)
        st.flush_recordset()
        self.assertEqual(st.read(fnames)[0], stored)
        self.assertEqual(st.first_line_index, lines[0].internal_index)
        self.assertEqual(st.company_id, self.company_a)
        self.assertEqual(message.external_ref, "STMT-1")
        self.assertEqual(st.journal_id, self.journal_a)
        result = message._link_result()[0]
        self.assertEqual(result["type"], "camt.053")
        models = {r["model"] for r in result["records"]}
        self.assertEqual(models, {"account.bank.statement", "account.bank.statement.line", "heeros.link.bank.balance"})
        self.assertEqual(message._linked("account.bank.statement.line"), lines)
        # a line created the standard way continues the same numbering
        manual = self.Line.create(
            {"journal_id": self.journal_a.id, "date": "2024-03-05", "amount": 1, "payment_ref": "manual"}
        )
        self.assertEqual(manual.move_id.name, f"{self.journal_a.code}/2024/00004")

    def test_every_type_is_detected_and_handled(self):
        self.journal_a.bank_acc_number = IBAN_A
        files = [
            ("camt053.xml", (SAMPLES / "finnish_camt" / "corporatejs_camt053_1.xml").read_bytes(), "camt.053"),
            ("camt052.xml", (SAMPLES / "finnish_camt" / "corporatejs_camt052_1.xml").read_bytes(), "camt.052"),
            ("tito.txt", (SAMPLES / "finnish_legacy" / "corporatejs_tito_1.txt").read_bytes(), "tito"),
            ("camt054.xml", (SAMPLES / "finnish_camt" / "corporatejs_camt054_1.xml").read_bytes(), "camt.054"),
            ("ref.ktl", ktl("19503000000010", [("KTLARCHIVE000001", fi_ref(555), "MAKSAJA", 12)]), "ktl"),
        ]
        messages = self.intake(*[(name, data) for name, data, _code in files], connection=self.connection)
        for message, (name, _data, code) in zip(messages, files):
            self.assertEqual(message.state, "processed", f"{name}: {message.error}")
            self.assertEqual(message._link_result()[0]["type"], code)
        camt053, camt052, tito_msg, camt054, ktl_msg = messages
        self.assertEqual(camt053._linked("account.bank.statement").journal_id, self.journal_a2)
        self.assertEqual(len(camt053._linked("account.bank.statement.line")), 2)
        self.assertFalse(camt052._linked("account.bank.statement.line"), "an account report books nothing")
        self.assertTrue(camt052._linked("heeros.link.bank.balance"))
        # TITO: the sample holds the same statement twice; its entries are booked once
        tito_lines = tito_msg._linked("account.bank.statement.line")
        self.assertEqual(sorted(tito_lines.mapped("amount")), [-100.0, 15503.0])
        self.assertEqual(len(tito_msg._linked("account.bank.statement")), 1)
        self.assertIn("plus the entries", tito_msg.bank_warning, "the sample's balances do not add up")
        # camt.054 of company B's account, fetched through the bureau's shared agreement
        self.assertEqual(camt054.company_id, self.company_b)
        self.assertEqual(sorted(camt054._linked("account.bank.statement.line").mapped("amount")), [10.0, 36.0, 147.0])
        self.assertEqual(ktl_msg._linked("account.bank.statement.line").mapped("amount"), [12.0])

    def test_foreign_payment_and_charges_in_line_details(self):
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(
                            -95.5,
                            "FX0001",
                            code="770ULKOMAANMAKSU",
                            txs=[tx(-95.5, name="Norsk AS", instructed=("1100.00", "NOK", "0.0868"), charges="2.50")],
                        ),
                        entry(20, "FX0002", name="Kotimainen"),
                    ],
                    opening=100,
                )
            ],
            msg_id="FX",
        )
        message = self.intake(("fx.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        foreign, domestic = self.lines(self.journal_a)
        self.assertEqual(foreign.amount, -95.5, "the booked amount is the euro one")
        details = foreign.transaction_details
        self.assertEqual(details["instructed_amount"], "1100.00 NOK")
        self.assertEqual(details["exchange_rate"], "0.0868 (NOK → EUR)")
        self.assertEqual(details["charges"], "2.50 EUR")
        self.assertFalse({"instructed_amount", "exchange_rate", "charges"} & set(domestic.transaction_details))
        self.assertIn("Instructed amount: 1100.00 NOK", foreign.heeros_link_details_text)
        self.assertIn("Bank charges: 2.50 EUR", foreign.heeros_link_details_text)
        self.assertIn("Archive ID: FX0001", foreign.heeros_link_details_text)
        self.assertNotIn("charges", domestic.heeros_link_details_text.lower())

    def test_tito_statement_and_balances(self):
        data = (SAMPLES / "finnish_legacy" / "corporatejs_tito_1.txt").read_bytes()
        message = self.intake(("tito.txt", data))
        self.assertEqual((message.state, message.document_type), ("processed", "tito"), message.error)
        lines = self.lines(self.journal_a)
        self.assertEqual(lines.mapped("amount"), [15503.0, -100.0])
        incoming, outgoing = lines
        self.assertEqual(incoming.partner_name, "JOKOHAMA LTD")
        self.assertEqual(incoming.heeros_link_archive_id, "0303A2584SM0700249")
        self.assertEqual(incoming.heeros_link_fi_code, "710")
        self.assertEqual(outgoing.partner_name, "MERISINI OYJ", "position 108 is the delivery method (A)")
        self.assertEqual(str(incoming.date), "2006-03-06")
        st = lines.statement_id
        self.assertEqual(st.balance_end_real, 17050.24, "the closing balance is the last T40's")
        self.assertIn("plus the entries", st.heeros_link_balance_warning)
        balance = message._linked("heeros.link.bank.balance")
        self.assertEqual((balance.booked_amount, balance.available_amount), (17050.24, 0.0))
        self.assertEqual(str(balance.booked_date), "2006-03-06")
        self.assertEqual(balance.source, "tito")

    def test_standard_line_creation_gives_the_same_result(self):
        self.env["ir.config_parameter"].set_param("heeros_link_bank.standard_create", "1")
        data = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(100, "STD0001", iban=IBAN_CUSTOMER, name="X", text="Lasku 1"),
                        entry(-40, "STD0002", name="Y", text="Vuokra"),
                    ],
                    opening=0,
                )
            ],
            msg_id="STD",
        )
        message = self.intake(("std.xml", data))
        self.assertEqual(message.state, "processed", message.error)
        lines = self.lines(self.journal_a)
        self.assertEqual(lines.mapped("amount"), [100, -40])
        self.assertEqual(
            lines.mapped("heeros_link_import_id"), message._linked(self.Line._name).mapped("heeros_link_import_id")
        )
        self.assertEqual(lines[0].partner_id, self.customer)
        self.assertEqual(lines.move_id.mapped("state"), ["posted", "posted"])
        self.assertEqual(lines.statement_id.balance_end_real, 60)

    def test_routing_by_iban(self):
        data = camt("camt.053", [statement(IBAN_B, [entry(10, "B0001", name="X")], opening=0)])
        message = self.intake(("b.xml", data), connection=self.connection)
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.company_id, self.company_b)
        self.assertEqual(message.attachment_id.company_id, self.company_b)
        self.assertEqual(self.lines(self.journal_b).mapped("amount"), [10.0])
        self.assertEqual(self.lines(self.journal_b).company_id, self.company_b)

        unknown = self.intake(
            ("u.xml", camt("camt.053", [statement(IBAN_UNKNOWN, [entry(10, "U0001", name="X")], opening=0)])),
            connection=self.connection,
        )
        self.assertEqual(unknown.state, "error")
        self.assertIn(IBAN_UNKNOWN, unknown.error)
        self.assertIn("no bank journal", unknown.error)
        # once the account is added to a journal, reprocessing imports the file
        added = self.env["account.journal"].create(
            {
                "name": "Uusi tili",
                "code": "BNK8",
                "type": "bank",
                "company_id": self.company_b.id,
                "bank_acc_number": IBAN_UNKNOWN,
            }
        )
        unknown.action_reprocess()
        self.assertEqual(unknown.state, "processed", unknown.error)
        self.assertEqual(unknown.company_id, self.company_b)
        self.assertEqual(self.lines(added).mapped("amount"), [10.0])

        # a connection that does not serve company B cannot bring its files
        own = self.connection.copy({"name": "A only", "company_ids": [Command.set(self.company_a.ids)]})
        refused = self.intake(
            ("b2.xml", camt("camt.053", [statement(IBAN_B, [entry(11, "B0002", name="X")], opening=10)])),
            connection=own,
        )
        self.assertEqual(refused.state, "error")
        self.assertIn(IBAN_B, refused.error)

        # several accounts of one company: every statement is imported
        both = self.intake(
            (
                "two.xml",
                camt(
                    "camt.053",
                    [
                        statement(IBAN_A, [entry(1, "A0001", name="X")], opening=0),
                        statement(IBAN_A2, [entry(2, "A0002", name="X")], opening=0),
                    ],
                    msg_id="TWO",
                ),
            ),
            connection=self.connection,
        )
        self.assertEqual(both.state, "processed", both.error)
        self.assertEqual(both._linked("account.bank.statement").journal_id, self.journal_a | self.journal_a2)

        # accounts of different companies in one file: refused, naming both
        mixed = self.intake(
            (
                "mixed.xml",
                camt(
                    "camt.053",
                    [
                        statement(IBAN_A, [entry(3, "A0003", name="X")], opening=1),
                        statement(IBAN_B, [entry(4, "B0004", name="X")], opening=10),
                    ],
                    msg_id="MIXED",
                ),
            ),
            connection=self.connection,
        )
        self.assertEqual(mixed.state, "error")
        self.assertIn(IBAN_A, mixed.error)
        self.assertIn(IBAN_B, mixed.error)
        self.assertIn("different companies", mixed.error)
        self.assertFalse(
            self.Line.search([("heeros_link_import_id", "!=", False), ("heeros_link_bank_message_id", "=", mixed.id)]),
            "nothing of a refused file stays",
        )

    def test_duplicate_and_overlapping_files(self):
        day1 = [entry(100, "D0001", day="2024-03-04", name="A"), entry(50, "D0002", day="2024-03-04", name="B")]
        first = self.intake(("d1.xml", camt("camt.053", [statement(IBAN_A, day1, opening=0)], msg_id="D1")))
        self.assertEqual(first.state, "processed", first.error)
        same = self.intake(("d1-again.xml", camt("camt.053", [statement(IBAN_A, day1, opening=0)], msg_id="D1")))
        self.assertEqual(same.state, "duplicate")
        self.assertEqual(same.duplicate_of_id, first)
        # the same entries in another file (new message id): nothing new either
        resent = self.intake(
            ("d1-resent.xml", camt("camt.053", [statement(IBAN_A, day1, opening=0)], msg_id="D1-RESENT"))
        )
        self.assertEqual(resent.state, "duplicate")
        self.assertIn("already imported", resent.error)
        self.assertEqual(len(self.lines(self.journal_a)), 2)
        # an overlapping file: the second half of day 1 and day 2
        overlap = [
            day1[1],
            entry(-30, "D0003", day="2024-03-05", name="C"),
            entry(70, "D0004", day="2024-03-05", name="D"),
        ]
        second = self.intake(
            ("d2.xml", camt("camt.053", [statement(IBAN_A, overlap, opening=100, day="2024-03-05")], msg_id="D2"))
        )
        self.assertEqual(second.state, "processed", second.error)
        self.assertFalse(second.bank_warning, "the overlap continues the previous statement")
        lines = self.lines(self.journal_a)
        self.assertEqual(lines.mapped("amount"), [100, 50, -30, 70])
        self.assertEqual(second._linked("account.bank.statement.line").mapped("amount"), [-30, 70])
        new_statement = second._linked("account.bank.statement")
        self.assertEqual((new_statement.balance_start, new_statement.balance_end_real), (150, 190))
        self.assertTrue(new_statement.is_valid)
        self.assertTrue(new_statement.is_complete)

    def test_balance_mismatches_are_reported(self):
        ok = self.intake(
            (
                "m1.xml",
                camt(
                    "camt.053",
                    [statement(IBAN_A, [entry(100, "M0001", day="2024-03-04", name="A")], opening=0)],
                    msg_id="M1",
                ),
            )
        )
        self.assertFalse(ok.bank_warning)
        # the next statement does not start where the previous one ended
        gap = self.intake(
            (
                "m2.xml",
                camt(
                    "camt.053",
                    [
                        statement(
                            IBAN_A, [entry(10, "M0002", day="2024-03-05", name="B")], opening=500, day="2024-03-05"
                        )
                    ],
                    msg_id="M2",
                ),
            )
        )
        self.assertEqual(gap.state, "processed", "the file is imported; a person must look at it")
        self.assertTrue(gap.bank_has_warning)
        self.assertIn("does not continue the closing balance", gap.bank_warning)
        st = gap._linked("account.bank.statement")
        self.assertIn("does not continue", st.heeros_link_balance_warning)
        self.assertTrue(st.heeros_link_has_warning)
        self.assertIn("does not continue", gap.message_ids[:1].body)
        # opening + entries != closing
        wrong = self.intake(
            (
                "m3.xml",
                camt(
                    "camt.053",
                    [
                        statement(
                            IBAN_A,
                            [entry(5, "M0003", day="2024-03-06", name="C")],
                            opening=510,
                            closing=600,
                            day="2024-03-06",
                        )
                    ],
                    msg_id="M3",
                ),
            )
        )
        self.assertEqual(wrong.state, "processed")
        self.assertIn("plus the entries", wrong.bank_warning)
        self.assertIn(
            "does not continue",
            wrong.bank_warning,
            "the lines give 595 as the start, the previous statement ended at 510",
        )
        warned = self.Message.search([("bank_has_warning", "=", True), ("id", "in", (ok | gap | wrong).ids)])
        self.assertEqual(warned, gap | wrong)

    def test_latest_balances_and_company_isolation(self):
        data = (SAMPLES / "finnish_camt" / "corporatejs_camt052_1.xml").read_bytes()
        report = self.intake(("r.xml", data))
        balance = report._linked("heeros.link.bank.balance")
        self.assertEqual(balance.journal_id, self.journal_a)
        self.assertEqual((balance.booked_amount, balance.available_amount), (12345.6, 2234.56))
        self.assertEqual(str(balance.booked_date), "2013-12-29")
        self.assertEqual(balance.iban, IBAN_A)
        self.assertEqual(self.journal_a.heeros_link_booked_balance, 12345.6)
        self.assertEqual(self.journal_a.heeros_link_available_balance, 2234.56)
        # a statement of a later day replaces it
        self.intake(
            ("s.xml", camt("camt.053", [statement(IBAN_A, [entry(100, "L0001", name="X")], opening=0, available=150)]))
        )
        self.assertEqual((balance.booked_amount, balance.available_amount), (100, 150))
        self.assertEqual(str(balance.booked_date), "2024-03-04")
        # an intraday report older than what is known changes nothing
        self.intake(
            (
                "old.xml",
                camt(
                    "camt.052",
                    [
                        {
                            "iban": IBAN_A,
                            "entries": [],
                            "balances": [("ITBD", 1, "2024-03-01"), ("ITAV", 2, "2024-03-01")],
                        }
                    ],
                    msg_id="OLD",
                ),
            )
        )
        self.assertEqual(balance.booked_amount, 100)
        # an intraday report of a later day is the latest news
        self.intake(
            (
                "new.xml",
                camt(
                    "camt.052",
                    [
                        {
                            "iban": IBAN_A,
                            "entries": [],
                            "balances": [("ITBD", 7, "2024-03-05"), ("ITAV", 8, "2024-03-05")],
                        }
                    ],
                    msg_id="NEW",
                ),
            )
        )
        self.assertEqual((balance.booked_amount, balance.available_amount), (7, 8))
        self.assertEqual(self.env["heeros.link.bank.balance"].search_count([("journal_id", "=", self.journal_a.id)]), 1)

        self.intake(
            (
                "b.xml",
                camt(
                    "camt.053", [statement(IBAN_B, [entry(5, "LB001", name="X")], opening=0, available=5)], msg_id="B"
                ),
            ),
            connection=self.connection,
        )
        user_b = new_test_user(
            self.env,
            "bank-b",
            groups="heeros_link_base.group_link_user",
            company_id=self.company_b.id,
            company_ids=[Command.set(self.company_b.ids)],
        )
        Balance = self.env["heeros.link.bank.balance"]
        seen = Balance.with_user(user_b).search([])
        self.assertEqual(seen.company_id, self.company_b)
        with self.assertRaises(AccessError):
            balance.with_user(user_b).read(["booked_amount"])
        with self.assertRaises(AccessError):
            seen.with_user(user_b).write({"booked_amount": 1})
        bureau = new_test_user(
            self.env,
            "bank-bureau",
            groups="heeros_link_base.group_link_user",
            company_id=self.company_a.id,
            company_ids=[Command.set((self.company_a | self.company_b).ids)],
        )
        both = (
            Balance.with_user(bureau).with_context(allowed_company_ids=(self.company_a | self.company_b).ids).search([])
        )
        self.assertEqual(both.company_id, self.company_a | self.company_b)

    def test_forwarding_queues_copies(self):
        forward = self.env["heeros.link.connection"].create(
            {
                "name": "Cash management system",
                "protocol": "local",
                "local_root": self.tmp,
                "direction": "out",
                "company_id": self.company_a.id,
                "company_ids": [Command.set(self.company_a.ids)],
                "forward_bank_files": True,
            }
        )
        only_ktl = forward.copy(
            {
                "name": "KTL reader",
                "forward_type_ids": [Command.set(self.env.ref("heeros_link_bank.forward_type_ktl").ids)],
            }
        )
        data = camt("camt.053", [statement(IBAN_A, [entry(100, "F0001", name="X")], opening=0)], msg_id="FWD")
        message = self.intake(("fwd.xml", data), connection=self.connection)
        self.assertEqual(message.state, "processed", message.error)
        copies = message.child_ids
        self.assertEqual(len(copies), 1)
        self.assertEqual(copies.connection_id, forward)
        self.assertEqual((copies.direction, copies.state, copies.document_type), ("out", "queued", "camt.053"))
        self.assertEqual(copies.company_id, self.company_a)
        self.assertEqual(copies.attachment_id.raw, data)
        ref = self.intake(("r.ktl", ktl("19503000000010", [("KTLFWD0000000001", fi_ref(777), "X", 5)])))
        self.assertEqual(ref.child_ids.connection_id, forward | only_ktl)
        # nothing for another company, nothing for a duplicate
        other = self.intake(
            ("b.xml", camt("camt.053", [statement(IBAN_B, [entry(1, "FB001", name="X")], opening=0)], msg_id="FB")),
            connection=self.connection,
        )
        self.assertEqual(other.company_id, self.company_b)
        self.assertFalse(other.child_ids)
        again = self.intake(("fwd2.xml", data.replace(b"FWD", b"FWD2")))
        self.assertEqual(again.state, "duplicate")
        self.assertFalse(again.child_ids)

    def test_unknown_account_in_ktl_names_the_iban(self):
        data = ktl("19503000000010", [("KTLOK00000000001", fi_ref(555), "X", 5)])
        data += ktl("56121120011066", [("KTLUNKNOWN000001", fi_ref(556), "Y", 6)])
        message = self.intake(("two-accounts.ktl", data))
        self.assertEqual(message.document_type, "ktl")
        self.assertEqual(message.state, "error")
        self.assertIn("FI4556121120011066", message.error)
        self.assertIn("no bank journal", message.error)
        self.assertFalse(self.lines(self.journal_a), "a refused file leaves nothing behind")
