from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.tools import SQL

MATCH_STATES = [
    ("none", "No reference"),
    ("paid", "Invoice paid"),
    ("partial", "Invoice partly paid"),
    ("overpaid", "Invoice paid, rest open on the partner"),
    ("unmatched", "No open invoice found"),
]


class AccountBankStatement(models.Model):
    _inherit = "account.bank.statement"

    link_message_id = fields.Many2one(
        "heeros.link.message", "Link message", readonly=True, index="btree_not_null", copy=False,
        check_company=False, help="The bank file this statement was imported from.")
    link_balance_warning = fields.Text(
        "Balance warning", readonly=True, copy=False,
        help="Set when the bank's balances do not add up: the opening balance does not continue "
        "the previous statement, or opening balance and entries do not give the closing balance.")
    link_has_warning = fields.Boolean(
        "Balance mismatch", compute="_compute_link_has_warning", store=True)

    @api.depends("link_balance_warning")
    def _compute_link_has_warning(self):
        for statement in self:
            statement.link_has_warning = bool(statement.link_balance_warning)

    def _link_attach(self, line_ids):
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
        cr.execute(SQL(
            "UPDATE account_bank_statement_line SET statement_id = %(st)s WHERE id = ANY(%(ids)s)",
            st=self.id, ids=line_ids))
        cr.execute(SQL(
            "UPDATE account_move_line SET statement_id = %(st)s WHERE statement_line_id = ANY(%(ids)s)",
            st=self.id, ids=line_ids))
        cr.execute(SQL(
            """SELECT l.journal_id, MIN(l.internal_index),
                      SUM(l.amount) FILTER (WHERE m.state = 'posted'),
                      COUNT(*) FILTER (WHERE m.state = 'posted'),
                      COUNT(DISTINCT l.journal_id)
                 FROM account_bank_statement_line l JOIN account_move m ON m.id = l.move_id
                WHERE l.statement_id = %(st)s
             GROUP BY l.journal_id""", st=self.id))
        rows = cr.fetchall()
        if len(rows) != 1:
            raise ValueError("a statement's lines must belong to one journal")
        journal_id, first_index, posted_sum, posted_count, _journals = rows[0]
        cr.execute(SQL(
            """SELECT m.date FROM account_bank_statement_line l JOIN account_move m ON m.id = l.move_id
                WHERE l.statement_id = %(st)s AND m.state = 'posted'
             ORDER BY l.internal_index DESC LIMIT 1""", st=self.id))
        last = cr.fetchone()
        journal = self.env["account.journal"].browse(journal_id)
        currency = journal.currency_id or journal.company_id.currency_id
        balance_end = currency.round(self.balance_start + (posted_sum or 0.0))
        complete = bool(posted_count) and currency.compare_amounts(balance_end, self.balance_end_real) == 0
        cr.execute(SQL(
            """UPDATE account_bank_statement
                  SET journal_id = %(journal)s, company_id = %(company)s, first_line_index = %(first)s,
                      date = %(date)s, balance_end = %(end)s, is_complete = %(complete)s
                WHERE id = %(st)s""",
            journal=journal.id, company=journal.company_id.id, first=first_index,
            date=last[0] if last else None, end=balance_end, complete=complete, st=self.id))
        Line.invalidate_model(["statement_id"])
        self.env["account.move.line"].invalidate_model(["statement_id"])
        self.invalidate_recordset()
        for name in ("journal_id", "company_id", "date", "first_line_index", "balance_end", "is_complete"):
            self.env.remove_to_compute(self._fields[name], self)


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    unique_import_id = fields.Char(
        "Import ID", readonly=True, copy=False, index="btree_not_null",
        help="Identifies the bank's entry so that importing the same file, or one that "
        "overlaps it, never creates the entry twice.")
    link_message_id = fields.Many2one(
        "heeros.link.message", "Link message", readonly=True, index="btree_not_null", copy=False,
        check_company=False, help="The bank file this line was imported from.")
    link_archive_id = fields.Char(
        "Archive ID", readonly=True, copy=False, index="btree_not_null",
        help="The bank's archive reference (arkistointitunnus, camt AcctSvcrRef).")
    link_batch_key = fields.Char(
        "Itemises", readonly=True, copy=False, index="btree_not_null",
        help="Set on the payments of a reference payment notification (camt.054, KTL): "
        "which lump-sum entry of the statement they itemise.")
    link_lump_sum = fields.Boolean(
        "Lump sum", readonly=True, copy=False,
        help="A statement entry summing several payments (e.g. transaction code 705, "
        "reference payments): it is replaced by its payments when their itemisation arrives.")
    link_fi_code = fields.Char("Finnish transaction code", readonly=True, copy=False)
    link_iso_code = fields.Char("ISO transaction code", readonly=True, copy=False,
                                help="Bank transaction code: domain/family/sub-family.")
    link_reference = fields.Char(
        "Payment reference", readonly=True, copy=False, index="btree_not_null",
        help="The structured creditor reference (Finnish or RF) of the payment.")
    link_match_state = fields.Selection(
        MATCH_STATES, "Reference matching", readonly=True, copy=False, index="btree_not_null")
    link_invoice_ids = fields.Many2many(
        "account.move", "heeros_link_bank_line_invoice_rel", "line_id", "move_id",
        string="Matched invoices", readonly=True, copy=False, check_company=False)

    _sql_constraints = [
        ("unique_import_id", "unique (unique_import_id)",
         "A bank entry can be imported only once."),
    ]

    # ------------------------------------------------------------------
    # batch creation
    # ------------------------------------------------------------------
    @api.model
    def _link_create_batch(self, journal, vals_list):
        """Create many statement lines of one bank journal at once.

        ``vals_list`` holds the lines' own values plus ``date``. The result is
        what :meth:`create` makes (a posted journal entry per line with its
        bank and suspense items), but built in a few batched steps: the
        entries are numbered in one go, created together with their items,
        linked to their lines with one query and posted together, instead of
        the line-by-line writes of :meth:`create`. Lines in a journal whose
        currency is not the company's, and databases where the system
        parameter ``heeros_link_bank.standard_create`` is set, go through the
        standard :meth:`create`.
        """
        if not vals_list:
            return self.browse()
        company = journal.company_id
        currency = company.currency_id
        standard = self.env["ir.config_parameter"].sudo().get_param("heeros_link_bank.standard_create")
        if (standard or (journal.currency_id and journal.currency_id != currency)
                or not journal.default_account_id or not journal.suspense_account_id):
            return self.create([dict(vals, journal_id=journal.id) for vals in vals_list])
        ctx = dict(self.env.context, is_statement_line=True, skip_invoice_sync=True,
                   skip_analytic_sync=True, tracking_disable=True, mail_notrack=True,
                   mail_create_nolog=True)
        Move = self.env["account.move"].with_context(ctx)
        names = Move._link_sequence_names(journal, [vals["date"] for vals in vals_list])
        move_vals, line_vals = [], []
        bank_account, suspense = journal.default_account_id.id, journal.suspense_account_id.id
        # The values the journal items of a statement line get anyway, given
        # rather than computed item by item.
        item_defaults = {
            "currency_id": currency.id, "company_id": company.id, "company_currency_id": currency.id,
            "journal_id": journal.id, "display_type": "product", "quantity": 1.0, "price_unit": 0.0,
            "product_uom_id": False, "tax_ids": [], "tax_line_id": False, "tax_group_id": False,
            "sequence": 100,
        }
        if not self.env["account.analytic.distribution.model"].sudo().search_count(
                [("company_id", "in", (False, company.id))], limit=1):
            item_defaults["analytic_distribution"] = False
        checked = journal.autocheck_on_post
        for vals, name in zip(vals_list, names):
            vals = dict(vals)
            date = vals.pop("date")
            amount = currency.round(vals.get("amount") or 0.0)
            vals["amount"] = amount
            partner = vals.get("partner_id") or False
            common = dict(item_defaults, name=vals.get("payment_ref"), partner_id=partner)
            move_vals.append({
                "move_type": "entry",
                "journal_id": journal.id,
                "date": date,
                "name": name,
                "partner_id": partner,
                "checked": checked,
                "line_ids": [
                    Command.create(dict(common, account_id=bank_account, amount_currency=amount,
                                        balance=amount, debit=max(amount, 0.0), credit=max(-amount, 0.0))),
                    Command.create(dict(common, account_id=suspense, amount_currency=-amount,
                                        balance=-amount, debit=max(-amount, 0.0), credit=max(amount, 0.0))),
                ],
            })
            line_vals.append(vals)
        moves = Move.create(move_vals)
        lines = self.with_context(ctx)._link_insert(moves, line_vals)
        # Posting ticks "checked" entry by entry, each a full write; the value
        # is already the journal's, so let it go to the cache only.
        with self.env.protecting([Move._fields["checked"]], moves):
            moves.action_post()
        # Link the entries and their items to their lines last: linked, every
        # write on an entry (posting too) synchronises its line one by one.
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """UPDATE account_move m SET statement_line_id = l.id
                 FROM account_bank_statement_line l
                WHERE l.move_id = m.id AND l.id = ANY(%(ids)s)""", ids=lines.ids))
        self.env.cr.execute(SQL(
            """UPDATE account_move_line ml SET statement_line_id = l.id, statement_id = l.statement_id
                 FROM account_bank_statement_line l
                WHERE l.move_id = ml.move_id AND l.id = ANY(%(ids)s)""", ids=lines.ids))
        self.env["account.move"].invalidate_model(["statement_line_id", "statement_line_ids"])
        self.env["account.move.line"].invalidate_model(["statement_line_id", "statement_id"])
        return lines.with_env(self.env)

    def _link_insert(self, moves, vals_list):
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
        data_list = []
        for move, vals in zip(moves, vals_list):
            stored = {key: value for key, value in vals.items()
                      if key != "link_invoice_ids" and value is not None}
            stored.setdefault("sequence", 1)
            stored.update(move_id=move.id, journal_id=move.journal_id.id, company_id=move.company_id.id,
                          create_uid=uid, create_date=now, write_uid=uid, write_date=now)
            unknown = [key for key in stored if key not in self._fields or (self._fields[key].inherited
                       and key not in ("journal_id", "company_id"))]
            if unknown:
                raise ValueError(f"statement line values not handled in batch: {unknown}")
            data_list.append({"stored": stored, "inversed": {}, "inherited": {}, "protected": given})
        lines = self._create(data_list)
        invoices = [(line, vals["link_invoice_ids"]) for line, vals in zip(lines, vals_list)
                    if vals.get("link_invoice_ids")]
        for line, command in invoices:
            line.link_invoice_ids = command
        lines._check_company()
        return lines

    def action_link_open_move(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": self.move_id.id,
            "views": [(False, "form")],
            "name": _("Journal entry"),
        }


def _account_line_class(model):
    """The account addon's class of ``account.bank.statement.line`` in the
    registry's inheritance chain of ``model``."""
    for cls in type(model).__mro__:
        if getattr(cls, "_name", None) == "account.bank.statement.line" and \
                cls.__module__ == "odoo.addons.account.models.account_bank_statement_line":
            return cls
    raise RuntimeError("the account addon's statement line class is not in the registry")


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _link_sequence_names(self, journal, dates):
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
                {"journal_id": journal.id, "date": items[0][0], "move_type": "entry"})
            format_string, values = probe._get_next_sequence_format()
            signature = (format_string, tuple(sorted((k, v) for k, v in values.items() if k != "seq")))
            seq = max(values["seq"], last_used.get(signature, 0))
            for _date, index in items:
                seq += 1
                names[index] = format_string.format(**dict(values, seq=seq))
            last_used[signature] = seq
        return names
