"""The ORM internals the fast statement line creation relies on behave as it
expects: each function of ``heeros_link_bank/models/orm_internals.py`` is
checked against what Odoo itself does, so that an Odoo update that changes
one of them fails here."""

from datetime import date

from odoo.addons.heeros_link_bank.models import orm_internals as orm

from .common import BankCase


class TestOrmInternals(BankCase):
    def line(self, amount=12.5, day=date(2024, 3, 4), sequence=3):
        return self.Line.create(
            {
                "journal_id": self.journal_a.id,
                "date": day,
                "amount": amount,
                "payment_ref": "Maksu",
                "sequence": sequence,
            }
        )

    def test_internal_index_is_odoos(self):
        for sequence in (0, 1, 7, 123):
            line = self.line(sequence=sequence)
            self.assertEqual(orm.statement_line_index(date(2024, 3, 4), sequence, line.id), line.internal_index)

    def test_sequence_split_is_odoos(self):
        Move = self.env["account.move"]
        for day in (date(2024, 3, 4), date(2025, 1, 2)):
            move = self.line(day=day).move_id
            self.assertTrue(move.name and move.sequence_prefix, move.name)
            self.assertEqual(Move._heeros_link_split_name(move.name), (move.sequence_prefix, move.sequence_number))
            self.assertRegex(move.name, orm.sequence_split_regex(Move))

    def test_next_sequence_format_gives_the_next_name(self):
        last = self.line().move_id
        probe = (
            self.env["account.move"]
            .with_context(is_statement_line=True)
            .new({"journal_id": self.journal_a.id, "date": date(2024, 3, 4), "move_type": "entry"})
        )
        format_string, values = orm.next_sequence_format(probe)
        self.assertEqual(format_string.format(**dict(values, seq=values["seq"])), last.name)
        following = self.line().move_id
        self.assertEqual(format_string.format(**dict(values, seq=values["seq"] + 1)), following.name)

    def test_dependencies_through_a_relation(self):
        Statement = self.env["account.bank.statement"]
        self.assertTrue(orm.depends_on(Statement, Statement._fields["balance_end"], "line_ids"))
        self.assertTrue(orm.depends_on(Statement, Statement._fields["first_line_index"], "line_ids"))
        self.assertFalse(orm.depends_on(Statement, Statement._fields["balance_end"], "attachment_ids"))

    def test_scheduled_fields_are_computed_at_flush(self):
        line = self.line(amount=10.0)
        statement = self.env["account.bank.statement"].create({"name": "Ote", "line_ids": [(6, 0, line.ids)]})
        self.assertEqual(statement.balance_end, 10.0)
        self.env.flush_all()
        self.env.cr.execute("UPDATE account_bank_statement_line SET amount = 25 WHERE id = %s", line.ids)
        self.env.invalidate_all()
        orm.schedule(self.env, [statement._fields["balance_end"]], statement)
        self.env.flush_all()
        self.env.cr.execute("SELECT balance_end FROM account_bank_statement WHERE id = %s", statement.ids)
        self.assertEqual(self.env.cr.fetchone()[0], 25.0)

    def test_dropped_fields_are_not_computed(self):
        line = self.line(amount=10.0)
        statement = self.env["account.bank.statement"].create({"name": "Ote", "line_ids": [(6, 0, line.ids)]})
        self.env.flush_all()
        field = statement._fields["balance_end"]
        self.env.add_to_compute(field, statement)
        orm.drop_pending(self.env, [field], statement)
        self.assertFalse(self.env.records_to_compute(field))

    def test_protected_fields_are_not_recomputed(self):
        line = self.line(amount=10.0)
        statement = self.env["account.bank.statement"].create({"name": "Ote", "line_ids": [(6, 0, line.ids)]})
        field = statement._fields["balance_end"]
        self.env.flush_all()
        with orm.protecting(self.env, [field], statement):
            self.assertTrue(self.env.is_protected(field, statement))
            self.line(amount=5.0).statement_id = statement
            self.env.flush_all()
            self.assertFalse(self.env.records_to_compute(field), "not marked to recompute")
            self.env.cr.execute("SELECT balance_end FROM account_bank_statement WHERE id = %s", statement.ids)
            self.assertEqual(self.env.cr.fetchone()[0], 10.0, "not recomputed while protected")
        self.assertFalse(self.env.is_protected(field, statement))

    def test_create_rows_stores_and_computes(self):
        move = self.env["account.move"].create(
            {"journal_id": self.journal_a.id, "move_type": "entry", "date": date(2024, 3, 4)}
        )
        now, uid = self.env.cr.now(), self.env.uid
        Line = self.Line.with_context(is_statement_line=True)
        given = {Line._fields["journal_id"], Line._fields["company_id"]}
        lines = orm.create_rows(
            Line,
            [
                {
                    "move_id": move.id,
                    "journal_id": self.journal_a.id,
                    "company_id": self.company_a.id,
                    "amount": 42.0,
                    "payment_ref": "Rivi",
                    "sequence": 1,
                    "create_uid": uid,
                    "create_date": now,
                    "write_uid": uid,
                    "write_date": now,
                }
            ],
            protected=given,
        )
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT amount, payment_ref, internal_index FROM account_bank_statement_line WHERE id = %s", lines.ids
        )
        amount, ref, index = self.env.cr.fetchone()
        self.assertEqual((amount, ref), (42.0, "Rivi"))
        self.assertEqual(index, orm.statement_line_index(date(2024, 3, 4), 1, lines.id), "computed together")

    def test_column_value_of_a_json_field(self):
        field = self.Line._fields["transaction_details"]
        value = orm.column_value(field, {"file": "a.xml"}, self.Line)
        self.assertIn("a.xml", str(getattr(value, "adapted", value)))
        self.assertIsNone(orm.column_value(self.Line._fields["partner_name"], False, self.Line))

    def test_defining_modules(self):
        self.assertEqual(orm.defining_modules(self.Line._fields["heeros_link_archive_id"]), {"heeros_link_bank"})
        self.assertIn("account", orm.defining_modules(self.Line._fields["amount"]))

    def test_this_database_has_no_unknown_column(self):
        from odoo.addons.heeros_link_bank.models.account_bank_statement import OWN_MODULES

        self.assertEqual(
            orm.unknown_columns(self.env, OWN_MODULES), {}, "every column is known: the fast line creation is used"
        )
