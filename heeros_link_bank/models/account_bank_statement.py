import logging
import re
from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from . import orm_internals as orm

_logger = logging.getLogger(__name__)
#: (database, reason) pairs already logged: why imports use the standard create.
_LOGGED_FALLBACKS = set()

# Modules whose stored computed fields on journal entries and items the fast
# statement line creation computes itself (or takes from its pattern line);
# those of any other addon are computed by the ORM after the insert.
OWN_MODULES = frozenset({"account", "analytic", "base", "mail", "portal", "heeros_link_bank"})

MATCH_STATES = [
    ("none", "No reference"),
    ("paid", "Invoice paid"),
    ("partial", "Invoice partly paid"),
    ("overpaid", "Invoice paid, rest open on the partner"),
    ("unmatched", "No open invoice found"),
]


class AccountBankStatement(models.Model):
    _inherit = "account.bank.statement"

    heeros_link_bank_message_id = fields.Many2one(
        "heeros.link.message",
        "Link message",
        readonly=True,
        index="btree_not_null",
        copy=False,
        check_company=False,
        help="The bank file this statement was imported from.",
    )
    heeros_link_balance_warning = fields.Text(
        "Balance warning",
        readonly=True,
        copy=False,
        help="Set when the bank's balances do not add up: the opening balance does not continue "
        "the previous statement, or opening balance and entries do not give the closing balance.",
    )
    heeros_link_has_warning = fields.Boolean("Balance mismatch", compute="_compute_heeros_link_has_warning", store=True)

    @api.depends("heeros_link_balance_warning")
    def _compute_heeros_link_has_warning(self):
        for statement in self:
            statement.heeros_link_has_warning = bool(statement.heeros_link_balance_warning)

    @api.constrains("heeros_link_bank_message_id", "company_id")
    def _check_heeros_link_bank_message_company(self):
        # A statement's company follows its lines, so it may still be empty
        # while an import fills it; once known, it is the message's.
        for statement in self:
            message = statement.heeros_link_bank_message_id
            if message and statement.company_id and message.company_id != statement.company_id:
                raise ValidationError(
                    _(
                        "Statement %(statement)s belongs to %(company)s, its Link message %(message)s "
                        "to another company.",
                        statement=statement.name,
                        company=statement.company_id.name,
                        message=message.name,
                    )
                )

    @api.model
    def _heeros_link_open(self, journal, reference, message):
        """A new, empty statement of ``journal`` that an import fills: lines
        go into it batch by batch and :meth:`_heeros_link_attach` completes it. Its
        journal and company are set now (they are otherwise computed from
        its lines). Returns the statement and its stored computed fields,
        which the import protects from recomputation until the end."""
        statement = self.create(
            {
                "name": journal.code,
                "reference": reference,
                "balance_start": 0.0,
                "balance_end_real": 0.0,
                "heeros_link_bank_message_id": message.id,
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE account_bank_statement SET journal_id = %s, company_id = %s WHERE id = %s",
                journal.id,
                journal.company_id.id,
                statement.id,
            )
        )
        statement.invalidate_recordset(["journal_id", "company_id"])
        return statement, [field for field in self._fields.values() if field.store and field.compute]

    def _heeros_link_attach(self, line_ids):
        """Put the statement lines ``line_ids`` (of one journal) in this
        statement, as writing its ``line_ids`` would, in a few queries however
        many lines there are: a statement of a large file holds a hundred
        thousand lines, which the ORM would load, with their journal entries,
        to compute the statement's journal, date, index and balances. Those
        are computed here in SQL by the same rules (see the compute methods
        of ``account.bank.statement``)."""
        self.ensure_one()
        if not line_ids:
            return
        Line = self.env["account.bank.statement.line"]
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                """UPDATE account_bank_statement_line SET statement_id = %(st)s
                WHERE id = ANY(%(ids)s) AND statement_id IS DISTINCT FROM %(st)s""",
                st=self.id,
                ids=line_ids,
            )
        )
        cr.execute(
            SQL(
                """UPDATE account_move_line SET statement_id = %(st)s
                WHERE statement_line_id = ANY(%(ids)s) AND statement_id IS DISTINCT FROM %(st)s""",
                st=self.id,
                ids=line_ids,
            )
        )
        cr.execute(
            SQL(
                """SELECT l.journal_id, MIN(l.internal_index),
                      SUM(l.amount) FILTER (WHERE m.state = 'posted'),
                      COUNT(*) FILTER (WHERE m.state = 'posted'),
                      COUNT(DISTINCT l.journal_id)
                 FROM account_bank_statement_line l JOIN account_move m ON m.id = l.move_id
                WHERE l.statement_id = %(st)s
             GROUP BY l.journal_id""",
                st=self.id,
            )
        )
        rows = cr.fetchall()
        if len(rows) != 1:
            raise ValueError("a statement's lines must belong to one journal")
        journal_id, first_index, posted_sum, posted_count, _journals = rows[0]
        cr.execute(
            SQL(
                """SELECT m.date FROM account_bank_statement_line l JOIN account_move m ON m.id = l.move_id
                WHERE l.statement_id = %(st)s AND m.state = 'posted'
             ORDER BY l.internal_index DESC LIMIT 1""",
                st=self.id,
            )
        )
        last = cr.fetchone()
        journal = self.env["account.journal"].browse(journal_id)
        currency = journal.currency_id or journal.company_id.currency_id
        balance_end = currency.round(self.balance_start + (posted_sum or 0.0))
        complete = bool(posted_count) and currency.compare_amounts(balance_end, self.balance_end_real) == 0
        cr.execute(
            SQL(
                """UPDATE account_bank_statement
                  SET journal_id = %(journal)s, company_id = %(company)s, first_line_index = %(first)s,
                      date = %(date)s, balance_end = %(end)s, is_complete = %(complete)s
                WHERE id = %(st)s""",
                journal=journal.id,
                company=journal.company_id.id,
                first=first_index,
                date=last[0] if last else None,
                end=balance_end,
                complete=complete,
                st=self.id,
            )
        )
        Line.invalidate_model(["statement_id"])
        self.env["account.move.line"].invalidate_model(["statement_id"])
        self.invalidate_recordset()
        orm.drop_pending(
            self.env,
            [
                self._fields[name]
                for name in ("journal_id", "company_id", "date", "first_line_index", "balance_end", "is_complete")
            ],
            self,
        )


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    heeros_link_import_id = fields.Char(
        "Import ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Identifies the bank's entry so that importing the same file, or one that "
        "overlaps it, never creates the entry twice.",
    )
    heeros_link_bank_message_id = fields.Many2one(
        "heeros.link.message",
        "Link message",
        readonly=True,
        index="btree_not_null",
        copy=False,
        check_company=True,
        help="The bank file this line was imported from.",
    )
    heeros_link_archive_id = fields.Char(
        "Archive ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The bank's archive reference (arkistointitunnus, camt AcctSvcrRef).",
    )
    heeros_link_batch_key = fields.Char(
        "Itemises",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Set on the payments of a reference payment notification (camt.054, KTL): "
        "which lump-sum entry of the statement they itemise.",
    )
    heeros_link_lump_sum = fields.Boolean(
        "Lump sum",
        readonly=True,
        copy=False,
        help="A statement entry summing several payments (e.g. transaction code 705, "
        "reference payments): it is replaced by its payments when their itemisation arrives.",
    )
    heeros_link_fi_code = fields.Char("Finnish transaction code", readonly=True, copy=False)
    heeros_link_iso_code = fields.Char(
        "ISO transaction code", readonly=True, copy=False, help="Bank transaction code: domain/family/sub-family."
    )
    heeros_link_reference = fields.Char(
        "Payment reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The structured creditor reference (Finnish or RF) of the payment.",
    )
    heeros_link_match_state = fields.Selection(
        MATCH_STATES, "Reference matching", readonly=True, copy=False, index="btree_not_null"
    )
    heeros_link_invoice_ids = fields.Many2many(
        "account.move",
        "heeros_link_bank_line_invoice_rel",
        "line_id",
        "move_id",
        string="Matched invoices",
        readonly=True,
        copy=False,
        check_company=True,
    )

    heeros_link_details_text = fields.Text(
        "Bank's details",
        compute="_compute_heeros_link_details_text",
        help="What the bank's file says of this transaction beyond the fields above: references, "
        "message, dates, and for payments in another currency the instructed amount, exchange "
        "rate and charges.",
    )

    _sql_constraints = [
        ("heeros_link_import_id", "unique (heeros_link_import_id)", "A bank entry can be imported only once."),
    ]

    @api.depends("transaction_details")
    def _compute_heeros_link_details_text(self):
        labels = {
            "archive_id": _("Archive ID"),
            "entry_reference": _("Entry reference"),
            "end_to_end_id": _("End-to-end ID"),
            "reference": _("Reference"),
            "message": _("Message"),
            "counterparty_bic": _("Counterparty's BIC"),
            "payment_date": _("Payment date"),
            "value_date": _("Value date"),
            "batch_count": _("Payments in the entry"),
            "instructed_amount": _("Instructed amount"),
            "exchange_rate": _("Exchange rate"),
            "charges": _("Bank charges"),
            "file": _("File"),
        }
        for line in self:
            details = line.transaction_details if isinstance(line.transaction_details, dict) else {}
            shown = [(labels.get(key, key), value) for key, value in details.items() if value not in (None, "", False)]
            line.heeros_link_details_text = "\n".join(f"{label}: {value}" for label, value in shown) or False

    # ------------------------------------------------------------------
    # batch creation
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_create_batch(self, journal, vals_list, cache=None, into=None):
        """Create many statement lines of one bank journal at once.

        ``vals_list`` holds the lines' own values plus ``date``. The result is
        what :meth:`create` makes: a posted journal entry per line with its
        bank and suspense items, numbered in the journal's sequence.

        The first line is created through the ORM, in batched steps (entries
        numbered in one go, created with their items and posted together). It
        is then the pattern of the others, which are inserted in a few SQL
        statements: the values that differ from line to line (number, date,
        partner, amounts, texts) are computed here by the rules of the
        ``account`` addon, everything else is taken from the pattern's rows,
        and stored computed fields of other addons on entries, items and
        lines are computed by the ORM afterwards. ``tests/bank`` checks the
        result column by column against :meth:`create`.

        The standard :meth:`create` is used instead for journals whose
        currency is not the company's or which lack a bank or suspense
        account, journals that hash their entries, dates that fall in a
        locked period (posting moves them), companies with analytic
        distribution models (they may give each item its own distribution)
        and databases where the system parameter
        ``heeros_link_bank.standard_create`` is set.

        ``cache``, a dict kept by the caller across the batches of one file,
        keeps what follows from each partner from one batch to the next.
        ``into``, a statement that the caller completes with
        :meth:`AccountBankStatement._heeros_link_attach` once all its lines exist:
        the lines inserted by SQL go straight into it (saving an update of
        each row then), the others are attached then.
        """
        if not vals_list:
            return self.browse()
        company = journal.company_id
        currency = company.currency_id
        first_date = min(fields.Date.to_date(vals["date"]) for vals in vals_list)
        if (
            (journal.currency_id and journal.currency_id != currency)
            or not journal.default_account_id
            or not journal.suspense_account_id
            or journal.restrict_mode_hash_table
            or company._get_violated_lock_dates(first_date, False, journal)
            or self.env["account.analytic.distribution.model"]
            .sudo()
            .search_count([("company_id", "in", (False, company.id))], limit=1)
            or self._heeros_link_standard_create_reason()
        ):
            return self.create([dict(vals, journal_id=journal.id) for vals in vals_list])
        names = self.env["account.move"]._heeros_link_sequence_names(journal, [vals["date"] for vals in vals_list])
        if len(vals_list) == 1:
            return self._heeros_link_create_orm(journal, vals_list, names)
        pattern = self._heeros_link_create_orm(journal, vals_list[:1], names[:1])
        return pattern | self._heeros_link_create_sql(
            journal, vals_list[1:], names[1:], pattern, {} if cache is None else cache, into
        )

    @api.model
    def _heeros_link_standard_create_reason(self):
        """Why this database must use Odoo's standard ``create`` for every
        import (logged once), or None: the system parameter
        ``heeros_link_bank.standard_create`` is set, or another addon stores
        columns on entries, items or statement lines that the fast path does
        not know and would copy from its pattern line."""
        reason = None
        if self.env["ir.config_parameter"].sudo().get_param("heeros_link_bank.standard_create"):
            reason = "the system parameter heeros_link_bank.standard_create is set"
        else:
            unknown = orm.unknown_columns(self.env, OWN_MODULES)
            if unknown:
                reason = "columns the fast line creation does not know: " + "; ".join(
                    f"{table}: {', '.join(columns)}" for table, columns in sorted(unknown.items())
                )
        if reason and (self.env.cr.dbname, reason) not in _LOGGED_FALLBACKS:
            _LOGGED_FALLBACKS.add((self.env.cr.dbname, reason))
            _logger.info("Bank statement lines are created with Odoo's standard create: %s", reason)
        return reason

    def _heeros_link_context(self):
        return dict(
            self.env.context,
            is_statement_line=True,
            skip_invoice_sync=True,
            skip_analytic_sync=True,
            tracking_disable=True,
            mail_notrack=True,
            mail_create_nolog=True,
        )

    @api.model
    def _heeros_link_create_orm(self, journal, vals_list, names):
        ctx = self._heeros_link_context()
        company = journal.company_id
        currency = company.currency_id
        Move = self.env["account.move"].with_context(ctx)
        move_vals, line_vals = [], []
        bank_account, suspense = journal.default_account_id.id, journal.suspense_account_id.id
        # The values the journal items of a statement line get anyway, given
        # rather than computed item by item.
        item_defaults = {
            "currency_id": currency.id,
            "company_id": company.id,
            "company_currency_id": currency.id,
            "journal_id": journal.id,
            "display_type": "product",
            "quantity": 1.0,
            "price_unit": 0.0,
            "product_uom_id": False,
            "tax_ids": [],
            "tax_line_id": False,
            "tax_group_id": False,
            "sequence": 100,
            "analytic_distribution": False,
        }
        checked = journal.autocheck_on_post
        for vals, name in zip(vals_list, names):
            vals = dict(vals)
            date = vals.pop("date")
            amount = currency.round(vals.get("amount") or 0.0)
            vals["amount"] = amount
            partner = vals.get("partner_id") or False
            common = dict(item_defaults, name=vals.get("payment_ref"), partner_id=partner)
            move_vals.append(
                {
                    "move_type": "entry",
                    "journal_id": journal.id,
                    "date": date,
                    "name": name,
                    "partner_id": partner,
                    "checked": checked,
                    "line_ids": [
                        Command.create(
                            dict(
                                common,
                                account_id=bank_account,
                                amount_currency=amount,
                                balance=amount,
                                debit=max(amount, 0.0),
                                credit=max(-amount, 0.0),
                            )
                        ),
                        Command.create(
                            dict(
                                common,
                                account_id=suspense,
                                amount_currency=-amount,
                                balance=-amount,
                                debit=max(-amount, 0.0),
                                credit=max(amount, 0.0),
                            )
                        ),
                    ],
                }
            )
            line_vals.append(vals)
        moves = Move.create(move_vals)
        lines = self.with_context(ctx)._heeros_link_insert(moves, line_vals)
        # Posting ticks "checked" entry by entry, each a full write; the value
        # is already the journal's, so let it go to the cache only.
        with orm.protecting(self.env, [Move._fields["checked"]], moves):
            moves.action_post()
        self._heeros_link_tie(lines)
        return lines.with_env(self.env)

    def _heeros_link_tie(self, lines, items=True):
        """Link the entries (and, with ``items``, their journal items) to
        their statement lines. Done last: linked, every write on an entry
        (posting too) synchronises its line one by one."""
        self.env.flush_all()
        # Odoo's create writes on each new entry, which marks it as modified
        # by hand (``is_manually_modified``); so do the lines made here.
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m SET statement_line_id = l.id, is_manually_modified = true
                 FROM account_bank_statement_line l
                WHERE l.move_id = m.id AND l.id = ANY(%(ids)s)""",
                ids=lines.ids,
            )
        )
        if items:
            self.env.cr.execute(
                SQL(
                    """UPDATE account_move_line ml SET statement_line_id = l.id, statement_id = l.statement_id
                     FROM account_bank_statement_line l
                    WHERE l.move_id = ml.move_id AND l.id = ANY(%(ids)s)""",
                    ids=lines.ids,
                )
            )
        self.env["account.move"].invalidate_model(["statement_line_id", "statement_line_ids", "is_manually_modified"])
        self.env["account.move.line"].invalidate_model(["statement_line_id", "statement_id"])

    @api.model
    def _heeros_link_create_sql(self, journal, vals_list, names, pattern, cache, into=None):
        """Insert statement lines like ``pattern`` (one line created by the
        ORM in the same journal) for ``vals_list``, numbered ``names``."""
        self.check_access("create")
        self.env["account.move"].check_access("create")
        self.env.flush_all()
        cr = self.env.cr
        company = journal.company_id
        currency = company.currency_id
        Move = self.env["account.move"].with_context(self._heeros_link_context())
        Item = self.env["account.move.line"]
        bank_account, suspense = journal.default_account_id, journal.suspense_account_id
        count = len(vals_list)
        move_ids = _next_ids(cr, "account_move", count)
        item_ids = _next_ids(cr, "account_move_line", 2 * count)

        amounts = [currency.round(vals.get("amount") or 0.0) for vals in vals_list]
        partners = [vals.get("partner_id") or False for vals in vals_list]
        dates = [fields.Date.to_date(vals["date"]) for vals in vals_list]
        by_partner = {}
        for partner in set(partners):
            key = ("partner", journal.id, partner)
            if key not in cache:
                cache[key] = Move._heeros_link_partner_values(journal, partner)
            by_partner[partner] = cache[key]
        move_cols = defaultdict(list)
        for move_id, name, date, amount, partner in zip(move_ids, names, dates, amounts, partners):
            prefix, number = Move._heeros_link_split_name(name)
            move_cols["id"].append(move_id)
            move_cols["name"].append(name)
            move_cols["sequence_prefix"].append(prefix)
            move_cols["sequence_number"].append(number)
            move_cols["date"].append(date)
            move_cols["partner_id"].append(partner or None)
            for column, value in by_partner[partner].items():
                move_cols[column].append(value)
            total = abs(amount)
            for column in ("amount_total", "amount_total_signed", "amount_total_in_currency_signed"):
                move_cols[column].append(total)
        _insert_like(cr, "account_move", pattern.move_id.id, move_cols)

        # The statement lines, then the items that point to them; the entries
        # point to their lines last (each table's key needs the other's row).
        line_ids = _next_ids(cr, "account_bank_statement_line", count)
        line_cols = defaultdict(list)
        keys = sorted(
            {key for vals in vals_list for key in vals} - {"date", "heeros_link_invoice_ids", "amount", "sequence"}
        )
        line_fields = [self._fields[key] for key in keys]
        refused = [
            field.name
            for field in line_fields
            if not field.store or not field.column_type or field.inherited or field.compute
        ]
        if refused:
            raise ValueError(f"statement line values not handled in batch: {refused}")
        for line_id, move_id, vals, amount, date in zip(line_ids, move_ids, vals_list, amounts, dates):
            sequence = vals.get("sequence", 1)
            line_cols["id"].append(line_id)
            line_cols["move_id"].append(move_id)
            line_cols["amount"].append(amount)
            line_cols["sequence"].append(sequence)
            for field in line_fields:
                line_cols[field.name].append(orm.column_value(field, vals.get(field.name), self))
            # as account.bank.statement.line computes them for a new line in
            # the company's currency: ordered by date, sequence and id, and
            # open for the whole amount
            line_cols["internal_index"].append(orm.statement_line_index(date, sequence, line_id))
            line_cols["amount_residual"].append(-amount)
            line_cols["is_reconciled"].append(currency.is_zero(amount))
            if into and "statement_id" not in keys:
                line_cols["statement_id"].append(into.id)
            elif into and not line_cols["statement_id"][-1]:
                line_cols["statement_id"][-1] = into.id
        _insert_like(cr, "account_bank_statement_line", pattern.id, line_cols)

        cr.execute(SQL("SELECT id, account_id FROM account_move_line WHERE move_id = %s", pattern.move_id.id))
        pattern_items = {account_id: item_id for item_id, account_id in cr.fetchall()}
        ids = iter(item_ids)
        for account, sign in ((bank_account, 1), (suspense, -1)):
            # an item's residual is followed on reconcilable and liquidity accounts only
            followed = account.reconcile or account.account_type in ("asset_cash", "liability_credit_card")
            cols = defaultdict(list)
            for move_id, line_id, name, date, amount, partner, vals in zip(
                move_ids, line_ids, names, dates, amounts, partners, vals_list
            ):
                balance = sign * amount
                cols["id"].append(next(ids))
                cols["move_id"].append(move_id)
                cols["statement_line_id"].append(line_id)
                cols["statement_id"].append(vals.get("statement_id") or (into.id if into else None))
                cols["move_name"].append(name)
                cols["name"].append(vals.get("payment_ref") or None)
                cols["date"].append(date)
                cols["partner_id"].append(partner or None)
                cols["debit"].append(max(balance, 0.0))
                cols["credit"].append(max(-balance, 0.0))
                for column in ("balance", "amount_currency", "price_subtotal", "price_total"):
                    cols[column].append(balance)
                for column in ("amount_residual", "amount_residual_currency"):
                    cols[column].append(balance if followed else 0.0)
                cols["reconciled"].append(bool(followed and currency.is_zero(balance)))
            _insert_like(cr, "account_move_line", pattern_items[account.id], cols)
        moves = Move.browse(move_ids)
        lines = self.browse(line_ids)
        self._heeros_link_tie(lines, items=False)  # the items were inserted tied
        self._heeros_link_follow(move_ids, partners)
        for line, vals in zip(lines, vals_list):
            if vals.get("heeros_link_invoice_ids"):
                line.heeros_link_invoice_ids = vals["heeros_link_invoice_ids"]
        # The partners were found among the company's (or shared ones): one
        # query confirms it, the ORM's check (a read per line) only explains.
        cr.execute(
            SQL(
                """SELECT 1 FROM res_partner WHERE id = ANY(%s) AND company_id IS NOT NULL AND company_id != %s
                LIMIT 1""",
                [partner for partner in set(partners) if partner],
                company.id,
            )
        )
        if cr.fetchone() or any(vals.get("statement_id") for vals in vals_list):
            lines._check_company()
        # statements that got lines: their balances, dates and checks follow
        statements = self.env["account.bank.statement"].browse(
            {vals["statement_id"] for vals in vals_list if vals.get("statement_id")}
        )
        if statements:
            statements.invalidate_recordset(["line_ids"])
            orm.schedule(
                self.env,
                [
                    field
                    for field in statements._fields.values()
                    if field.store and field.compute and orm.depends_on(statements, field, "line_ids")
                ],
                statements,
            )
        # stored computed fields that other addons add to these models
        for model, records in ((Move, moves), (Item, Item.browse(item_ids)), (self, lines)):
            orm.schedule(self.env, _foreign_computed_fields(model), records)
        self.env.flush_all()
        return lines.with_env(self.env)

    def _heeros_link_follow(self, move_ids, partners):
        """Make each partner a follower of its entry, as posting does, with
        the default subtypes of journal entries (those for outsiders for
        partners without an internal user)."""
        followed = [(move_id, partner) for move_id, partner in zip(move_ids, partners) if partner]
        if not followed:
            return
        default, _internal, external = self.env["mail.message.subtype"].default_subtypes("account.move")
        outsiders = set(
            self.env["res.partner"]
            .sudo()
            .search([("id", "in", list({partner for _move, partner in followed})), ("partner_share", "=", True)])
            .ids
        )
        cr = self.env.cr
        self.env["mail.followers"].flush_model()
        cr.execute(
            SQL(
                """INSERT INTO mail_followers (res_model, res_id, partner_id)
               SELECT 'account.move', v.move, v.partner FROM unnest(%s::int[], %s::int[]) AS v(move, partner)
            RETURNING id, partner_id""",
                [move for move, _partner in followed],
                [partner for _move, partner in followed],
            )
        )
        pairs = [
            (follower, subtype)
            for follower, partner in cr.fetchall()
            for subtype in (external if partner in outsiders else default).ids
        ]
        if pairs:
            cr.execute(
                SQL(
                    """INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id, mail_message_subtype_id)
                   SELECT * FROM unnest(%s::int[], %s::int[])""",
                    [follower for follower, _subtype in pairs],
                    [subtype for _follower, subtype in pairs],
                )
            )

    def _heeros_link_insert(self, moves, vals_list):
        """Insert the statement lines of the existing entries ``moves``.

        The generic ``create`` would write the values it completes for the
        entry (journal, company, defaults) back on each entry one by one;
        here the lines' own columns are inserted in one statement and their
        computed fields computed together, as ``create`` does for any model.
        """
        self.check_access("create")
        now, uid = self.env.cr.now(), self.env.uid
        # journal and company come from the entry: given, not recomputed
        given = {self._fields["journal_id"], self._fields["company_id"]}
        rows = []
        for move, vals in zip(moves, vals_list):
            stored = {
                key: value for key, value in vals.items() if key != "heeros_link_invoice_ids" and value is not None
            }
            stored.setdefault("sequence", 1)
            stored.update(
                move_id=move.id,
                journal_id=move.journal_id.id,
                company_id=move.company_id.id,
                create_uid=uid,
                create_date=now,
                write_uid=uid,
                write_date=now,
            )
            unknown = [
                key
                for key in stored
                if key not in self._fields or (self._fields[key].inherited and key not in ("journal_id", "company_id"))
            ]
            if unknown:
                raise ValueError(f"statement line values not handled in batch: {unknown}")
            rows.append(stored)
        lines = orm.create_rows(self, rows, protected=given)
        invoices = [
            (line, vals["heeros_link_invoice_ids"])
            for line, vals in zip(lines, vals_list)
            if vals.get("heeros_link_invoice_ids")
        ]
        for line, command in invoices:
            line.heeros_link_invoice_ids = command
        lines._check_company()
        return lines

    def action_heeros_link_open_move(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "views": [(False, "form")],
            "name": _("Journal entry"),
        }


def _next_ids(cr, table, count):
    """``count`` new ids of ``table``, ascending."""
    cr.execute(SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", table, count))
    return sorted(row[0] for row in cr.fetchall())


def _column_types(cr, table):
    cr.execute(
        SQL(
            """SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum""",
            table,
        )
    )
    return dict(cr.fetchall())


def _insert_like(cr, table, pattern_id, columns):
    """Insert into ``table`` one row per item of the lists in ``columns``
    (column name: values), every other column copied from the row
    ``pattern_id``."""
    types = _column_types(cr, table)
    unknown = sorted(set(columns) - set(types))
    if unknown:
        raise ValueError(f"{table} has no column {', '.join(unknown)}")
    given = list(columns)
    copied = [name for name in types if name not in columns]
    cr.execute(
        SQL(
            "INSERT INTO %(table)s (%(given)s%(sep)s%(copied)s) SELECT %(values)s%(sep)s%(from_pattern)s "
            "FROM unnest(%(arrays)s) AS v(%(given)s), %(table)s p WHERE p.id = %(pattern)s",
            table=SQL.identifier(table),
            given=SQL(", ").join(SQL.identifier(name) for name in given),
            sep=SQL(", ") if copied else SQL(""),
            copied=SQL(", ").join(SQL.identifier(name) for name in copied),
            values=SQL(", ").join(SQL.identifier("v", name) for name in given),
            from_pattern=SQL(", ").join(SQL.identifier("p", name) for name in copied),
            arrays=SQL(", ").join(SQL(f"%s::{types[name]}[]", columns[name]) for name in given),
            pattern=pattern_id,
        )
    )


def _foreign_computed_fields(model):
    """Stored computed fields of ``model`` added by addons other than
    :data:`OWN_MODULES`."""
    return [
        field
        for field in model._fields.values()
        if field.store and field.compute and not orm.defining_modules(field) <= OWN_MODULES
    ]


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _heeros_link_partner_values(self, journal, partner_id):
        """The values of a bank statement entry of ``journal`` that follow
        from its partner, as :meth:`create` computes them."""
        probe = self.with_company(journal.company_id).new(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "company_id": journal.company_id.id,
                "partner_id": partner_id,
            }
        )
        return {
            "commercial_partner_id": probe.commercial_partner_id.id or None,
            "fiscal_position_id": probe.fiscal_position_id.id or None,
            "partner_bank_id": probe.partner_bank_id.id or None,
            "preferred_payment_method_line_id": probe.preferred_payment_method_line_id.id or None,
            "invoice_partner_display_name": probe.invoice_partner_display_name or None,
        }

    @api.model
    def _heeros_link_split_name(self, name):
        """The prefix and the number of an entry's name, as Odoo splits it
        (``sequence_prefix``, ``sequence_number``)."""
        matching = re.match(orm.sequence_split_regex(self), name)
        return name[: matching.start(1)], int(matching.group(1) or 0)

    @api.model
    def _heeros_link_sequence_names(self, journal, dates):
        """Names for new posted entries of ``journal`` dated ``dates`` that
        continue the journal's numbering, as posting them one by one would
        give: one look-up of the last number per month, then counting."""
        months = defaultdict(list)
        for index, date in enumerate(dates):
            date = fields.Date.to_date(date)
            months[(date.year, date.month)].append((date, index))
        names = [None] * len(dates)
        last_used = {}
        for _month, items in sorted(months.items()):
            items.sort()
            probe = self.with_context(is_statement_line=True).new(
                {"journal_id": journal.id, "date": items[0][0], "move_type": "entry"}
            )
            format_string, values = orm.next_sequence_format(probe)
            # months of one yearly (or never reset) sequence share a prefix
            prefix = self._heeros_link_split_name(format_string.format(**dict(values, seq=1)))[0]
            seq = max(values["seq"], last_used.get(prefix, 0))
            for _date, index in items:
                seq += 1
                names[index] = format_string.format(**dict(values, seq=seq))
            last_used[prefix] = seq
        return names
