"""Fields and methods this addon adds to Odoo's own models carry the
``heeros_link_`` prefix from this version on. Their columns, field records,
translations and the unique constraint of the import id are renamed in place,
so existing statements keep their links, import ids and balances.

A column that another installed module also declares (OCA's statement import
declares ``unique_import_id`` too) is left to that module: ours is created
beside it with the values it holds. The matched invoices' relation table is
named explicitly and keeps its name.
"""

import logging

from psycopg2 import sql

_logger = logging.getLogger(__name__)

MODULE = "heeros_link_bank"
FIELDS = {
    "account.bank.statement": {
        "link_message_id": "heeros_link_bank_message_id",
        "link_balance_warning": "heeros_link_balance_warning",
        "link_has_warning": "heeros_link_has_warning",
    },
    "account.bank.statement.line": {
        "unique_import_id": "heeros_link_import_id",
        "link_message_id": "heeros_link_bank_message_id",
        "link_archive_id": "heeros_link_archive_id",
        "link_batch_key": "heeros_link_batch_key",
        "link_lump_sum": "heeros_link_lump_sum",
        "link_fi_code": "heeros_link_fi_code",
        "link_iso_code": "heeros_link_iso_code",
        "link_reference": "heeros_link_reference",
        "link_match_state": "heeros_link_match_state",
        "link_invoice_ids": "heeros_link_invoice_ids",
        "link_details_text": "heeros_link_details_text",
    },
    "account.journal": {
        "link_balance_id": "heeros_link_balance_id",
        "link_balance_currency_id": "heeros_link_balance_currency_id",
        "link_booked_balance": "heeros_link_booked_balance",
        "link_available_balance": "heeros_link_available_balance",
        "link_balance_date": "heeros_link_balance_date",
        "link_available_date": "heeros_link_available_date",
    },
}
CONSTRAINTS = {
    "account_bank_statement_line_unique_import_id": "account_bank_statement_line_heeros_link_import_id",
}


def _column_type(cr, table, column):
    cr.execute(
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = %s AND a.attname = %s "
        "AND a.attnum > 0 AND NOT a.attisdropped",
        (table, column),
    )
    row = cr.fetchone()
    return row and row[0]


def _field_owners(cr, model, name):
    cr.execute(
        "SELECT d.module FROM ir_model_fields f JOIN ir_model_data d "
        "ON d.model = 'ir.model.fields' AND d.res_id = f.id WHERE f.model = %s AND f.name = %s",
        (model, name),
    )
    return {module for (module,) in cr.fetchall()}


def _rename_field(cr, model, old, new):
    table = model.replace(".", "_")
    owners = _field_owners(cr, model, old)
    if MODULE not in owners:
        return
    shared = bool(owners - {MODULE})
    old_type = _column_type(cr, table, old)
    if shared:
        # another module keeps the old field: ours is a new one beside it
        if old_type and not _column_type(cr, table, new):
            cr.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    sql.Identifier(table), sql.Identifier(new), sql.SQL(old_type)
                )
            )
            cr.execute(
                sql.SQL("UPDATE {t} SET {n} = {o} WHERE {o} IS NOT NULL").format(
                    t=sql.Identifier(table), n=sql.Identifier(new), o=sql.Identifier(old)
                )
            )
        cr.execute(
            "DELETE FROM ir_model_data WHERE module = %s AND model = 'ir.model.fields' AND name = %s",
            (MODULE, f"field_{table}__{old}"),
        )
        _logger.info(
            "%s.%s is shared with %s: %s created beside it", model, old, ", ".join(sorted(owners - {MODULE})), new
        )
        return
    if old_type and not _column_type(cr, table, new):
        cr.execute(
            sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
                sql.Identifier(table), sql.Identifier(old), sql.Identifier(new)
            )
        )
    cr.execute("UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s", (new, model, old))
    cr.execute(
        "UPDATE ir_model_data SET name = %s WHERE module = %s AND model = 'ir.model.fields' AND name = %s",
        (f"field_{table}__{new}", MODULE, f"field_{table}__{old}"),
    )
    # selection values of a renamed selection field follow their field
    cr.execute(
        "UPDATE ir_model_data SET name = replace(name, %s, %s) WHERE module = %s "
        "AND model = 'ir.model.fields.selection' AND name LIKE %s",
        (f"__{old}__", f"__{new}__", MODULE, f"selection__{table}__{old}__%"),
    )


def _rename_constraint(cr, old, new):
    cr.execute(
        "SELECT d.module FROM ir_model_constraint c JOIN ir_model_data d ON d.model = "
        "'ir.model.constraint' AND d.res_id = c.id WHERE c.name = %s",
        (old,),
    )
    owners = {module for (module,) in cr.fetchall()}
    if not owners:
        return
    if owners - {MODULE}:
        cr.execute(
            "DELETE FROM ir_model_data WHERE module = %s AND model = 'ir.model.constraint' AND name = %s",
            (MODULE, f"constraint_{old}"),
        )
        return
    cr.execute("SELECT conrelid::regclass::text FROM pg_constraint WHERE conname = %s", (old,))
    row = cr.fetchone()
    if row:
        cr.execute(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(row[0]), sql.Identifier(old), sql.Identifier(new)
            )
        )
    cr.execute("UPDATE ir_model_constraint SET name = %s WHERE name = %s", (new, old))
    cr.execute(
        "UPDATE ir_model_data SET name = %s WHERE module = %s AND model = 'ir.model.constraint' AND name = %s",
        (f"constraint_{new}", MODULE, f"constraint_{old}"),
    )


def migrate(cr, version):
    if not version:
        return
    for old, new in CONSTRAINTS.items():
        _rename_constraint(cr, old, new)
    for model, names in FIELDS.items():
        for old, new in names.items():
            _rename_field(cr, model, old, new)
    _logger.info("heeros_link_bank: fields on Odoo's models renamed to the heeros_link_ prefix")
