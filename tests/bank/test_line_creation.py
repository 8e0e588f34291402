"""The batched creation of bank statement lines gives, column by column,
what Odoo's own ``account.bank.statement.line.create`` gives: the same
journal entries, journal items and statement lines, for lines with and
without partners (companies, contacts, partners with bank accounts, a
fiscal position, a payment method), of any sign and amount, over a change
of year."""

from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests.common import new_test_user

from .common import BankCase


class _Rollback(Exception):
    pass


class TestLineCreation(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        company = cls.company_a
        Partner = env["res.partner"]
        cls.firm = Partner.create({"name": "Emoyhtiö Oy", "is_company": True})
        cls.contact = Partner.create({"name": "Liisa Yhteyshenkilö", "parent_id": cls.firm.id})
        sweden = env.ref("base.se")
        cls.position = env["account.fiscal.position"].create(
            {"name": "Ruotsi", "company_id": company.id, "auto_apply": True, "country_id": sweden.id}
        )
        cls.swede = Partner.create({"name": "Svensk AB", "is_company": True, "country_id": sweden.id})
        cls.payee = Partner.create(
            {
                "name": "Maksunsaaja Oy",
                "is_company": True,
                "bank_ids": [Command.create({"acc_number": "FI2112345600000785"})],
            }
        )
        method = cls.journal_a.outbound_payment_method_line_ids[:1]
        cls.payee.with_company(company).property_outbound_payment_method_line_id = method
        cls.accountant = new_test_user(
            env,
            login="kirjanpitaja",
            groups="base.group_user",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    def vals_list(self):
        partners = [False, self.customer, self.contact, self.swede, self.payee, self.firm, self.accountant.partner_id]
        amounts = [100.5, -40.0, 0.0, 1234567.89, -0.01, 12.3, 7.0, -999.99]
        dates = [date(2024, 3, 4), date(2024, 3, 4), date(2024, 3, 5), date(2024, 12, 31), date(2025, 1, 2)]
        result = []
        for number in range(15):
            partner = partners[number % len(partners)]
            result.append(
                {
                    "date": dates[number * len(dates) // 15],
                    "amount": amounts[number % len(amounts)],
                    "payment_ref": f"Maksu {number}" if number % 4 else "/",
                    "partner_id": partner.id if partner else False,
                    "partner_name": partner.name if partner else f"Tuntematon {number}",
                    "account_number": "FI5810171000000122" if number % 3 == 0 else False,
                    "heeros_link_import_id": f"TEST-LINE-{number}",
                    "heeros_link_archive_id": f"ARCH{number:04d}",
                    "heeros_link_fi_code": "710",
                    "heeros_link_reference": "1232" if number % 5 == 0 else False,
                    "transaction_details": {"file": "test.xml", "number": number},
                }
            )
        return result

    def snapshot(self, lines):
        """The rows of ``lines``, their entries and items, without the ids
        the database gives them."""
        cr = self.env.cr
        self.env.flush_all()
        order = {line_id: index for index, line_id in enumerate(lines.ids)}

        def rows(query, ids):
            cr.execute(query, [ids])
            names = [column.name for column in cr.description]
            return [dict(zip(names, row)) for row in cr.fetchall()]

        st_rows = sorted(
            rows("SELECT * FROM account_bank_statement_line WHERE id = ANY(%s)", lines.ids),
            key=lambda row: order[row["id"]],
        )
        move_order = {row["move_id"]: order[row["id"]] for row in st_rows}
        moves = sorted(
            rows("SELECT * FROM account_move WHERE id = ANY(%s)", list(move_order)),
            key=lambda row: move_order[row["id"]],
        )
        bank = self.journal_a.default_account_id.id
        items = sorted(
            rows("SELECT * FROM account_move_line WHERE move_id = ANY(%s)", list(move_order)),
            key=lambda row: (move_order[row["move_id"]], row["account_id"] != bank),
        )
        for row in st_rows:
            self.assertTrue(row["internal_index"].endswith(f"{row['id']:0>10}"))
            row["internal_index"] = row["internal_index"][:-10]
            del row["id"], row["move_id"]
        for row in moves:
            del row["id"], row["statement_line_id"]
        for row in items:
            del row["id"], row["move_id"], row["statement_line_id"]
        cr.execute(
            "SELECT count(*) FROM mail_message WHERE model = 'account.move' AND res_id = ANY(%s)", [list(move_order)]
        )
        messages = cr.fetchone()[0]
        cr.execute(
            """SELECT f.res_id, f.partner_id, array_agg(r.mail_message_subtype_id ORDER BY 1)
                        FROM mail_followers f
                   LEFT JOIN mail_followers_mail_message_subtype_rel r ON r.mail_followers_id = f.id
                       WHERE f.res_model = 'account.move' AND f.res_id = ANY(%s)
                    GROUP BY f.id""",
            [list(move_order)],
        )
        followers = sorted((move_order[move_id], partner, subtypes) for move_id, partner, subtypes in cr.fetchall())
        # every column of the statements, first_line_index included
        statements = rows(
            """SELECT * FROM account_bank_statement WHERE id IN (
                                 SELECT statement_id FROM account_bank_statement_line WHERE id = ANY(%s))
                          ORDER BY id""",
            lines.ids,
        )
        for row in statements:
            if row["first_line_index"]:
                self.assertTrue(
                    row["first_line_index"].endswith(f"{min(lines.ids):0>10}") or len(row["first_line_index"]) == 26
                )
                row["first_line_index"] = row["first_line_index"][:-10]
        return {
            "lines": st_rows,
            "moves": moves,
            "items": items,
            "messages": messages,
            "followers": followers,
            "statements": statements,
        }

    def both(self, vals_list, journal=None, into=None):
        """The snapshot of ``vals_list`` created by Odoo's ``create`` and by
        the batch, each from the same starting point, and whether the batch
        inserted lines by SQL. With ``into`` (a statement), Odoo's lines are
        created in it and the batch's are put in it as an import does: the
        batch inserts into it, then the statement takes them all."""
        journal = journal or self.journal_a
        Line = self.Line.with_context(tracking_disable=True)
        standard = None
        try:
            with self.env.cr.savepoint():
                extra = {"statement_id": into.id} if into else {}
                created = Line.create([dict(vals, journal_id=journal.id, **extra) for vals in vals_list])
                standard = self.snapshot(created)
                raise _Rollback
        except _Rollback:
            self.env.invalidate_all(flush=False)
        LineClass = type(self.Line)
        with patch.object(
            LineClass, "_heeros_link_create_sql", autospec=True, side_effect=LineClass._heeros_link_create_sql
        ) as by_sql:
            batch = Line._heeros_link_create_batch(journal, vals_list, into=into)
            if into:
                into._heeros_link_attach(batch.ids)
        self.assertEqual(len(batch), len(vals_list))
        return standard, self.snapshot(batch), by_sql.called

    def assert_same(self, standard, batch):
        for part in ("lines", "moves", "items"):
            self.assertEqual(len(standard[part]), len(batch[part]), part)
            for index, (expected, got) in enumerate(zip(standard[part], batch[part])):
                differing = {key: (expected[key], got.get(key)) for key in expected if expected[key] != got.get(key)}
                self.assertFalse(differing, f"{part} row {index}: column: (create, batch)")
        for part in ("messages", "followers", "statements"):
            self.assertEqual(standard[part], batch[part], part)

    def test_batch_equals_create(self):
        standard, batch, by_sql = self.both(self.vals_list())
        self.assertTrue(by_sql, "the batch inserted the lines after the first by SQL")
        self.assertEqual(
            {row["fiscal_position_id"] for row in standard["moves"]},
            {None, self.position.id},
            "the data covers a fiscal position",
        )
        self.assertIn(self.payee.bank_ids.id, {row["partner_bank_id"] for row in standard["moves"]})
        self.assertIn(
            self.firm.id,
            {row["commercial_partner_id"] for row in standard["moves"] if row["partner_id"] == self.contact.id},
        )
        self.assertEqual({row["sequence_prefix"] for row in standard["moves"]}, {"BNK1/2024/", "BNK1/2025/"})
        self.assertTrue(standard["followers"], "posting makes the partners followers")
        self.assertIn(
            self.accountant.partner_id.id,
            {partner for _index, partner, _st in standard["followers"]},
            "a user's partner follows too",
        )
        self.assert_same(standard, batch)

    def test_batch_continues_the_journal_numbering(self):
        first = self.Line._heeros_link_create_batch(self.journal_a, self.vals_list()[:3])
        more = [dict(vals, heeros_link_import_id=vals["heeros_link_import_id"] + "-B") for vals in self.vals_list()[:4]]
        standard, batch, by_sql = self.both(more)
        self.assertTrue(by_sql)
        self.assert_same(standard, batch)
        self.assertEqual(first.move_id.mapped("name"), ["BNK1/2024/00001", "BNK1/2024/00002", "BNK1/2024/00003"])
        self.assertEqual(batch["moves"][0]["name"], "BNK1/2024/00004")

    def test_locked_period_uses_create(self):
        self.company_a.fiscalyear_lock_date = date(2024, 6, 30)
        standard, batch, by_sql = self.both(self.vals_list())
        self.assertFalse(by_sql, "posting in a locked period moves the date: left to Odoo")
        self.assertGreater(standard["moves"][0]["date"], date(2024, 6, 30))
        self.assert_same(standard, batch)

    def test_batch_equals_create_in_a_statement(self):
        statement = self.env["account.bank.statement"].create({"name": "Ote 1", "balance_start": 0})
        vals_list = [dict(vals, statement_id=statement.id, sequence=7) for vals in self.vals_list()[:6]]
        standard, batch, by_sql = self.both(vals_list)
        self.assertTrue(by_sql)
        self.assertEqual({row["statement_id"] for row in standard["lines"] + standard["items"]}, {statement.id})
        self.assertEqual({row["sequence"] for row in standard["lines"]}, {7})
        self.assertEqual(standard["statements"][0]["balance_end"], sum(vals["amount"] for vals in vals_list))
        self.assert_same(standard, batch)

    def test_partner_of_another_company_is_refused(self):
        other = self.env["res.partner"].create({"name": "B:n asiakas", "company_id": self.company_b.id})
        vals_list = self.vals_list()[:4]
        vals_list[2]["partner_id"] = other.id
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            self.Line._heeros_link_create_batch(self.journal_a, vals_list)

    def test_analytic_distribution_models_use_create(self):
        plan = self.env["account.analytic.plan"].create({"name": "Kustannuspaikat"})
        analytic = self.env["account.analytic.account"].create(
            {"name": "Myymälä", "plan_id": plan.id, "company_id": self.company_a.id}
        )
        self.env["account.analytic.distribution.model"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company_a.id,
                "analytic_distribution": {str(analytic.id): 100},
            }
        )
        standard, batch, by_sql = self.both(self.vals_list())
        self.assertFalse(by_sql, "a distribution model may differ item by item: left to Odoo")
        self.assert_same(standard, batch)

    def test_batch_into_a_statement_equals_create(self):
        statement = self.env["account.bank.statement"].create(
            {
                "name": "Ote 2",
                "balance_start": 10,
                "balance_end_real": 10 + sum(vals["amount"] for vals in self.vals_list()),
            }
        )
        standard, batch, by_sql = self.both(self.vals_list(), into=statement)
        self.assertTrue(by_sql)
        self.assertEqual({row["statement_id"] for row in batch["lines"] + batch["items"]}, {statement.id})
        self.assertTrue(standard["statements"][0]["is_complete"], "the statement is complete")
        self.assert_same(standard, batch)

    def test_a_column_of_another_addon_makes_the_batch_use_create(self):
        # a column the fast path does not know would be copied from its
        # pattern line: the batch leaves such databases to Odoo's create
        self.env.cr.execute("ALTER TABLE account_bank_statement_line ADD COLUMN x_other_addon varchar")
        standard, batch, by_sql = self.both(self.vals_list()[:5])
        self.assertFalse(by_sql)
        self.assert_same(standard, batch)

    def test_a_stored_field_of_another_addon_makes_the_batch_use_create(self):
        model = self.env["ir.model"]._get("account.bank.statement.line")
        self.env["ir.model.fields"].create(
            {
                "model_id": model.id,
                "name": "x_cost_centre",
                "field_description": "Cost centre",
                "ttype": "char",
                "store": True,
                "state": "manual",
            }
        )
        self.assertIn("x_cost_centre", self.env["account.bank.statement.line"]._fields)
        self.Line = self.env["account.bank.statement.line"]
        standard, batch, by_sql = self.both(self.vals_list()[:5])
        self.assertFalse(by_sql, "the extra field is another addon's: left to Odoo")
        self.assert_same(standard, batch)
