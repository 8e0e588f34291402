"""Where the fast creation of bank statement lines relies on the ORM's
internals, and the columns it knows.

Creating a hundred thousand statement lines through Odoo's ``create`` takes
half an hour; the fast path (``account_bank_statement.py``) inserts most of
them in a few SQL statements instead. To do so it touches a few parts of the
ORM that are not public API. They are all here, each behind a small function,
and ``tests/bank/test_orm_internals.py`` checks every one against Odoo's own
behaviour: an Odoo update that changes one of them fails a test, not a
customer's books.

The fast path also writes whole rows of ``account_move``, ``account_move_line``
and ``account_bank_statement_line``: the columns it gives, or copies from a
pattern row that Odoo's ``create`` made, are listed in :data:`KNOWN_COLUMNS`.
A column outside that list (another addon's field) would be copied silently
from the pattern row, so when the running database has one, imports use
Odoo's standard ``create`` instead (see :func:`unknown_columns`).
"""

from xmlrpc.client import MAXINT

from odoo.tools import SQL

# ---------------------------------------------------------------------------
# ORM internals
# ---------------------------------------------------------------------------


def protecting(env, fields_, records):
    """Context manager: the stored computed ``fields_`` of ``records`` are not
    recomputed in the block; values written to them stay in the cache
    (``Environment.protecting``)."""
    return env.protecting(fields_, records)


def drop_pending(env, fields_, records):
    """Forget the pending recomputation of ``fields_`` on ``records`` (the
    caller has stored their values itself)."""
    for field in fields_:
        env.remove_to_compute(field, records)


def schedule(env, fields_, records):
    """Mark ``fields_`` of ``records`` to be recomputed at the next flush."""
    for field in fields_:
        env.add_to_compute(field, records)


def depends_on(model, field, relation):
    """Whether the computed ``field`` of ``model`` depends on something
    reached through the relational field named ``relation``."""
    return any(dep.split(".")[0] == relation for dep in model.pool.field_depends[field])


def defining_modules(field):
    """The modules that define or extend ``field``."""
    return set(field._modules)


def column_value(field, value, record):
    """``value`` as the database column of ``field`` stores it."""
    return field.convert_to_column_insert(value, record)


def create_rows(model, rows, protected=()):
    """Insert ``rows`` (column values, one dict per record) as ``create``
    does after it has completed and converted the values: the records'
    stored computed fields are computed together afterwards, the fields in
    ``protected`` are taken as given."""
    protected = set(protected)
    return model._create([{"stored": row, "inversed": {}, "inherited": {}, "protected": protected} for row in rows])


def statement_line_index(date, sequence, line_id):
    """``internal_index`` of a statement line, as
    ``account.bank.statement.line._compute_internal_index`` builds it: lines
    ordered by date, then sequence, then id."""
    return f"{date:%Y%m%d}{MAXINT - sequence:0>10}{line_id:0>10}"


def sequence_split_regex(move_model):
    """The pattern that splits an entry's name into ``sequence_prefix`` and
    ``sequence_number`` (the number is its only group)."""
    return move_model._make_regex_non_capturing(move_model._sequence_fixed_regex.replace("?P<seq>", ""))


def next_sequence_format(move):
    """``(format string, values)`` of the next name of the new entry
    ``move``, as Odoo numbers it (``sequence.mixin``)."""
    return move._get_next_sequence_format()


# ---------------------------------------------------------------------------
# the columns the fast path writes or copies
# ---------------------------------------------------------------------------

#: Per table, every column the fast path gives a value to or copies from the
#: pattern row, as Odoo 18's ``account`` stack (with its usual dependencies:
#: ``account_edi_ubl_cii``, ``account_payment``, ``account_qr_code_sepa``,
#: ``snailmail_account``, ``l10n_fi``), ``purchase`` (whose bill-line link
#: to an order line a statement line leaves empty) and the Heeros Link
#: addons define them. Stored computed fields of other addons need not be listed: the
#: fast path has the ORM compute them after the insert. Also Odoo's Expenses
#: app (``hr_expense``), which the Link pays in batches when it is installed:
#: its links from an entry to its expense report and from an item to its
#: expense are empty on statement entries, as on the pattern row they are
#: copied from. And OCA's ``account_reconcile_oca``, whose reconciliation
#: view keeps its working state on the statement line (``reconcile_mode``,
#: ``reconcile_data``): empty on a new line until someone opens it there.
KNOWN_COLUMNS = {
    "account_move": frozenset(
        """
        access_token always_tax_exigible amount_residual amount_residual_signed amount_tax amount_tax_signed
        amount_total amount_total_in_currency_signed amount_total_signed amount_untaxed
        amount_untaxed_in_currency_signed amount_untaxed_signed auto_post auto_post_origin_id auto_post_until
        checked commercial_partner_id company_id create_date create_uid currency_id date delivery_date
        fiscal_position_id heeros_link_attachment_message_id heeros_link_disputed heeros_link_einvoice_address_id
        heeros_link_error heeros_link_in_attachment_ref heeros_link_in_document_id heeros_link_in_format
        heeros_link_in_message_id heeros_link_in_sender_address
        heeros_link_in_payload_key heeros_link_in_rule_findings heeros_link_in_supplier_match heeros_link_in_warning
        heeros_link_message_id heeros_link_penalty_rate heeros_link_scan_data heeros_link_scan_review
        heeros_link_state heeros_link_unconfirmed id inalterable_hash
        incoterm_location invoice_cash_rounding_id invoice_currency_rate invoice_date invoice_date_due
        invoice_incoterm_id invoice_origin invoice_partner_display_name invoice_payment_term_id
        invoice_source_email invoice_user_id is_manually_modified is_move_sent is_storno journal_id
        made_sequence_gap message_main_attachment_id move_type name narration origin_payment_id partner_bank_id
        partner_id partner_shipping_id payment_reference payment_state posted_before
        preferred_payment_method_line_id qr_code_method quick_edit_total_amount ref reversed_entry_id
        secure_sequence_number sending_data sequence_number sequence_prefix state statement_line_id
        tax_cash_basis_origin_move_id tax_cash_basis_rec_id write_date write_uid
        expense_sheet_id
    """.split()
    ),
    "account_move_line": frozenset(
        """
        account_id amount_currency amount_residual amount_residual_currency analytic_distribution balance
        company_currency_id company_id create_date create_uid credit currency_id date date_maturity debit
        discount discount_amount_currency discount_balance discount_date display_type full_reconcile_id
        group_tax_id id invoice_date is_downpayment is_imported journal_id matching_number move_id move_name name
        parent_state partner_id payment_id price_subtotal price_total price_unit product_id product_uom_id quantity
        purchase_line_id reconcile_model_id reconciled ref sequence statement_id statement_line_id tax_base_amount
        tax_group_id
        tax_line_id tax_repartition_line_id tax_tag_invert write_date write_uid
        expense_id
    """.split()
    ),
    "account_bank_statement_line": frozenset(
        """
        account_number amount amount_currency amount_residual company_id create_date create_uid currency_id
        foreign_currency_id id internal_index is_reconciled journal_id move_id partner_id partner_name
        payment_ref reconcile_data reconcile_mode sequence statement_id transaction_details transaction_type
        write_date write_uid heeros_link_archive_id heeros_link_bank_message_id heeros_link_batch_key
        heeros_link_fi_code heeros_link_import_id heeros_link_iso_code heeros_link_lump_sum heeros_link_match_state
        heeros_link_reference
    """.split()
    ),
}
#: The model of each table.
TABLE_MODELS = {
    "account_move": "account.move",
    "account_move_line": "account.move.line",
    "account_bank_statement_line": "account.bank.statement.line",
}


def unknown_columns(env, own_modules):
    """``{table: [column, ...]}`` of the columns of the running database that
    the fast path does not know and would copy from its pattern row: neither
    in :data:`KNOWN_COLUMNS` nor a stored computed field of an addon outside
    ``own_modules`` (those are computed by the ORM after the insert)."""
    env.cr.execute(
        SQL(
            """SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              AND c.relnamespace = 'public'::regnamespace""",
            list(KNOWN_COLUMNS),
        )
    )
    found = {}
    for table, column in env.cr.fetchall():
        if column in KNOWN_COLUMNS[table]:
            continue
        field = env[TABLE_MODELS[table]]._fields.get(column)
        if field is not None and field.store and field.compute and not defining_modules(field) <= own_modules:
            continue
        found.setdefault(table, []).append(column)
    return {table: sorted(columns) for table, columns in found.items()}
