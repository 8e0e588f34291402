"""The upgrade to the ``heeros_link_`` prefix keeps existing data.

Each test puts the database back into the earlier version's shape (columns,
field records and the import id's constraint under their old names), runs the
addon's pre-migration script as Odoo runs it on an upgrade, and reads what the
renamed columns hold.
"""

import importlib.util
from pathlib import Path

import odoo.addons.heeros_link_bank as bank_addon
from odoo.tests.common import TransactionCase

MIGRATION = next((Path(bank_addon.__file__).parent / "migrations").glob("*/pre-migrate.py"))


def _load_migration():
    spec = importlib.util.spec_from_file_location("heeros_link_bank_pre_migrate", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestPrefixMigration(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.migration = _load_migration()
        journal = cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.line = cls.env["account.bank.statement.line"].create(
            {
                "journal_id": journal.id,
                "date": "2026-01-15",
                "amount": 12.5,
                "payment_ref": "migration",
                "heeros_link_import_id": "MIGRATION-TEST-1",
                "heeros_link_reference": "RF18539007547034",
            }
        )
        cls.env.flush_all()

    def _columns(self, table):
        self.env.cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
        return {name for (name,) in self.env.cr.fetchall()}

    def _to_old_shape(self):
        """What an earlier version's database looks like."""
        cr = self.env.cr
        for model, names in self.migration.FIELDS.items():
            table = model.replace(".", "_")
            columns = self._columns(table)
            for old, new in names.items():
                if new in columns:
                    cr.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{new}" TO "{old}"')
                cr.execute("UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s", (old, model, new))
                cr.execute(
                    "UPDATE ir_model_data SET name = %s WHERE module = 'heeros_link_bank' "
                    "AND model = 'ir.model.fields' AND name = %s",
                    (f"field_{table}__{old}", f"field_{table}__{new}"),
                )
        for old, new in self.migration.CONSTRAINTS.items():
            cr.execute(f'ALTER TABLE account_bank_statement_line RENAME CONSTRAINT "{new}" TO "{old}"')
            cr.execute("UPDATE ir_model_constraint SET name = %s WHERE name = %s", (old, new))
            cr.execute(
                "UPDATE ir_model_data SET name = %s WHERE module = 'heeros_link_bank' "
                "AND model = 'ir.model.constraint' AND name = %s",
                (f"constraint_{old}", f"constraint_{new}"),
            )

    def _field_id(self, model, name):
        self.env.cr.execute("SELECT id FROM ir_model_fields WHERE model = %s AND name = %s", (model, name))
        row = self.env.cr.fetchone()
        return row and row[0]

    def test_rename_keeps_values_fields_and_constraint(self):
        self._to_old_shape()
        columns = self._columns("account_bank_statement_line")
        self.assertIn("unique_import_id", columns)
        self.assertNotIn("heeros_link_import_id", columns)

        self.migration.migrate(self.env.cr, "18.0.1.0.0")

        columns = self._columns("account_bank_statement_line")
        self.assertNotIn("unique_import_id", columns)
        self.assertNotIn("link_reference", columns)
        self.env.cr.execute(
            "SELECT heeros_link_import_id, heeros_link_reference FROM account_bank_statement_line WHERE id = %s",
            (self.line.id,),
        )
        self.assertEqual(self.env.cr.fetchone(), ("MIGRATION-TEST-1", "RF18539007547034"))
        for model, names in self.migration.FIELDS.items():
            for old, new in names.items():
                self.assertTrue(self._field_id(model, new), f"{model}.{new} has no field record")
                self.assertFalse(self._field_id(model, old), f"{model}.{old} is still there")
        self.env.cr.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s", ("account_bank_statement_line_heeros_link_import_id",)
        )
        self.assertTrue(self.env.cr.fetchone())
        self.env.cr.execute(
            "SELECT 1 FROM ir_model_data WHERE module = 'heeros_link_bank' AND name = %s",
            ("constraint_account_bank_statement_line_heeros_link_import_id",),
        )
        self.assertTrue(self.env.cr.fetchone())

    def test_column_shared_with_another_module_is_left_to_it(self):
        """OCA's statement import declares ``unique_import_id`` too: its column
        stays, ours is created beside it with our lines' ids."""
        self._to_old_shape()
        field_id = self._field_id("account.bank.statement.line", "unique_import_id")
        self.env.cr.execute(
            "INSERT INTO ir_model_data (module, name, model, res_id, noupdate) VALUES "
            "('account_statement_import_base', 'field_account_bank_statement_line__unique_import_id', "
            "'ir.model.fields', %s, false)",
            (field_id,),
        )

        self.migration.migrate(self.env.cr, "18.0.1.0.0")

        columns = self._columns("account_bank_statement_line")
        self.assertIn("unique_import_id", columns)
        self.assertIn("heeros_link_import_id", columns)
        self.env.cr.execute(
            "SELECT unique_import_id, heeros_link_import_id FROM account_bank_statement_line WHERE id = %s",
            (self.line.id,),
        )
        self.assertEqual(self.env.cr.fetchone(), ("MIGRATION-TEST-1", "MIGRATION-TEST-1"))
        self.env.cr.execute(
            "SELECT module FROM ir_model_data WHERE model = 'ir.model.fields' AND res_id = %s", (field_id,)
        )
        self.assertEqual([m for (m,) in self.env.cr.fetchall()], ["account_statement_import_base"])

    def test_fresh_install_is_untouched(self):
        before = self._columns("account_bank_statement_line")
        self.migration.migrate(self.env.cr, None)
        self.assertEqual(self._columns("account_bank_statement_line"), before)
