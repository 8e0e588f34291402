"""One payment of a payment batch: a creditor, an account, an amount and
what the creditor needs to recognise it."""

import re

import psycopg2
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from odoo import _, api, fields, models, tools
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..formats import pain001

LINE_STATES = [
    ("draft", "Draft"),
    ("sent", "Sent"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("cancel", "Cancelled"),
    ("done", "Done"),
]
#: Lines in these states no longer hold their bill: it may go into another batch.
RELEASED_STATES = ("rejected", "cancel")
#: The unique index that holds a bill in one live payment.
LIVE_BILL_INDEX = "heeros_link_payment_line_move_live_uniq"

#: Countries of the European Economic Area (payments there need no creditor address in SEPA).
EEA_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK".split()
)
#: Countries SEPA credit transfers reach (those of the payment file format).
SEPA_COUNTRIES = pain001.SEPA_COUNTRIES
#: SEPA countries outside the EEA: the creditor's town and country are required.
SEPA_NON_EEA = SEPA_COUNTRIES - EEA_COUNTRIES


class HeerosLinkPaymentLine(models.Model):
    _name = "heeros.link.payment.line"
    _description = "Payment of a payment batch"
    _order = "batch_id, sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    batch_id = fields.Many2one("heeros.link.payment.batch", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True, precompute=True)
    confidential = fields.Boolean(related="batch_id.confidential", store=True, index=True)
    batch_state = fields.Selection(related="batch_id.state", string="Batch state")
    move_id = fields.Many2one("account.move", "Bill", check_company=True, index="btree_not_null", ondelete="restrict")
    partner_id = fields.Many2one("res.partner", "Creditor", check_company=True, index=True)
    partner_bank_id = fields.Many2one("res.partner.bank", "Creditor account", check_company=True)
    creditor_name = fields.Char(required=True)
    iban = fields.Char("IBAN / account", required=True)
    bic = fields.Char("BIC")
    country_id = fields.Many2one("res.country", "Creditor country")
    amount = fields.Monetary(required=True)
    currency_id = fields.Many2one("res.currency", required=True, default=lambda self: self.env.company.currency_id)
    reference = fields.Char("Payment reference", help="A Finnish reference or an RF creditor reference.")
    message = fields.Char(help="Free text for the creditor when there is no reference.")
    end_to_end_id = fields.Char(
        "End-to-end id",
        readonly=True,
        copy=False,
        help="Travels with the payment to the creditor's bank and back in the bank's feedback.",
    )
    payment_info_id = fields.Char("Payment group id", readonly=True, copy=False)
    state = fields.Selection(LINE_STATES, required=True, default="draft", readonly=True, index=True, copy=False)
    status_code = fields.Char("Bank status", readonly=True, copy=False)
    reason_code = fields.Char("Reason code", readonly=True, copy=False)
    reason_text = fields.Char("Bank's reason", readonly=True, copy=False)
    payment_id = fields.Many2one(
        "account.payment", "Payment", readonly=True, copy=False, check_company=True, index="btree_not_null"
    )
    sent_at = fields.Datetime(related="batch_id.sent_at", string="Sent on")

    _sql_constraints = [
        ("amount_positive", "CHECK(amount > 0)", "A payment amount must be more than zero."),
        ("end_to_end_id_uniq", "unique(batch_id, end_to_end_id)", "An end-to-end id is used once in a batch."),
    ]

    def init(self):
        # A bill is held by one live payment at a time, even against concurrent
        # transactions: the database refuses the second line.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (move_id) "
                "WHERE move_id IS NOT NULL AND state NOT IN ('rejected', 'cancel')",
                SQL.identifier(LIVE_BILL_INDEX),
                SQL.identifier(self._table),
            )
        )
        tools.create_index(self.env.cr, "heeros_link_payment_line_batch_state_idx", self._table, ["batch_id", "state"])

    @api.model_create_multi
    def create(self, vals_list):
        self._heeros_link_check_bills_free([vals["move_id"] for vals in vals_list if vals.get("move_id")])
        try:
            with self.env.cr.savepoint(flush=False):
                lines = super().create(vals_list)
        except psycopg2.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != LIVE_BILL_INDEX:
                raise
            # a concurrent transaction took the bill between the check and the
            # insert; its row is not visible in this transaction's snapshot
            match = re.search(r"\(move_id\)=\((\d+)\)", exc.diag.message_detail or "")
            move = self.env["account.move"].browse(int(match.group(1))) if match else self.env["account.move"]
            raise ValidationError(
                _(
                    "Bill %s was just put in another payment batch by someone else: a bill is "
                    "paid once. Refresh and try again without it.",
                    move.display_name if move else _("(one of these bills)"),
                )
            )
        lines._heeros_link_set_end_to_end_ids()
        batches = lines.batch_id
        if batches:
            batches._heeros_link_changed()
        return lines

    def write(self, vals):
        if {
            "amount",
            "iban",
            "bic",
            "currency_id",
            "partner_bank_id",
            "reference",
            "message",
            "creditor_name",
            "move_id",
            "country_id",
        } & set(vals):
            self.batch_id._heeros_link_changed()
        return super().write(vals)

    def unlink(self):
        self.batch_id._heeros_link_changed()
        return super().unlink()

    def _heeros_link_set_end_to_end_ids(self):
        """``<batch reference>-<line id>``: unique, and leads from the bank's
        feedback back to the line and its bill. Written in one statement per
        batch, however many lines it has."""
        lines = self.filtered(lambda line: not line.end_to_end_id)
        if not lines:
            return
        lines.flush_recordset(["end_to_end_id"])
        for batch, batch_lines in lines.grouped("batch_id").items():
            prefix = re.sub(r"[^A-Za-z0-9]", "", batch.name or "")[:20] or "PAY"
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET end_to_end_id = %s || '-' || id WHERE id = ANY(%s) AND end_to_end_id IS NULL",
                    SQL.identifier(self._table),
                    prefix,
                    batch_lines.ids,
                )
            )
        lines.invalidate_recordset(["end_to_end_id"])

    @api.model
    def _heeros_link_check_bills_free(self, move_ids, exclude=()):
        """Refuse bills that a batch not rejected or cancelled already holds
        (read below the record rules: a salary batch holds its bills too)."""
        if not move_ids:
            return
        self.flush_model(["move_id", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT move_id, batch_id FROM %s WHERE move_id = ANY(%s) AND state NOT IN %s AND NOT id = ANY(%s) "
                "LIMIT 1",
                SQL.identifier(self._table),
                list(move_ids),
                RELEASED_STATES,
                list(exclude),
            )
        )
        row = self.env.cr.fetchone()
        if row:
            other = self.sudo().search([("move_id", "=", row[0]), ("batch_id", "=", row[1])], limit=1)
            raise ValidationError(self._heeros_link_bill_taken_text(self.env["account.move"].browse(row[0]), other))

    @api.constrains("move_id", "state")
    def _check_bill_in_one_batch(self):
        lines = self.filtered(lambda line: line.move_id and line.state not in RELEASED_STATES)
        if not lines:
            return
        others = self.sudo().search(
            [("move_id", "in", lines.move_id.ids), ("state", "not in", RELEASED_STATES), ("id", "not in", lines.ids)]
        )
        for move, held in (lines | others).grouped("move_id").items():
            if len(held) > 1:
                raise ValidationError(self._heeros_link_bill_taken_text(move, (held - lines)[:1] or held[:1]))

    def _heeros_link_bill_taken_text(self, move, other):
        return _(
            "Bill %(bill)s is already in payment batch %(batch)s: pay it once, or cancel it there first.",
            bill=move.display_name,
            batch=other.sudo().batch_id.name,
        )

    def _heeros_link_label(self):
        self.ensure_one()
        return _(
            "Payment to %(name)s, %(amount)s %(currency)s%(bill)s",
            name=self.creditor_name or self.partner_id.display_name,
            amount=self.amount,
            currency=self.currency_id.name,
            bill=(" (%s)" % self.move_id.name) if self.move_id else "",
        )

    # ------------------------------------------------------------------
    # checks before anything is sent
    # ------------------------------------------------------------------
    def _heeros_link_problems(self):
        """Texts saying what is wrong with this line and what to fill in."""
        self.ensure_one()
        problems = []
        problems += self._heeros_link_check_account()
        problems += self._heeros_link_check_reference()
        problems += self._heeros_link_check_address()
        return problems

    def _heeros_link_is_sepa(self):
        country = (self.iban or "")[:2].upper()
        return self.currency_id.name == "EUR" and country in SEPA_COUNTRIES and self.batch_id.kind != "foreign"

    def _heeros_link_check_account(self):
        problems = []
        iban = stdnum_iban.compact(self.iban or "")
        if iban[:2].isalpha() and iban[2:4].isdigit():
            try:
                stdnum_iban.validate(iban)
            except StdnumError as exc:
                problems.append(
                    _(
                        "IBAN %(iban)s is not valid (%(why)s): correct the creditor's bank account.",
                        iban=self.iban,
                        why=str(exc),
                    )
                )
        elif self._heeros_link_is_sepa() or not self.iban:
            problems.append(
                _("%s is not an IBAN: a SEPA payment needs the creditor's IBAN.", self.iban or _("The account"))
            )
        if self.bic:
            try:
                stdnum_bic.validate(self.bic)
            except StdnumError as exc:
                problems.append(
                    _("BIC %(bic)s is not valid (%(why)s): correct the creditor's bank.", bic=self.bic, why=str(exc))
                )
        elif not self._heeros_link_is_sepa():
            problems.append(
                _(
                    "A payment outside SEPA or not in euros needs the BIC of the creditor's bank: "
                    "fill in the bank of account %s.",
                    self.iban,
                )
            )
        return problems

    def _heeros_link_check_reference(self):
        if self.reference and not fi_reference.is_valid(self.reference):
            return [
                _(
                    "Payment reference %s is neither a valid Finnish reference (7-3-1 check digit) nor a "
                    "valid RF creditor reference: correct it on the bill, or move it to the message.",
                    self.reference,
                )
            ]
        return []

    def _heeros_link_address_required(self):
        country = (self.iban or "")[:2].upper()
        return not self._heeros_link_is_sepa() or country in SEPA_NON_EEA

    def _heeros_link_check_address(self):
        if not self._heeros_link_address_required():
            return []
        partner = self.partner_id
        missing = []
        if not (partner.city or "").strip():
            missing.append(_("town"))
        if not (self.country_id or partner.country_id):
            missing.append(_("country"))
        if not missing:
            return []
        return [
            _(
                "%(partner)s: a payment to this account needs the creditor's postal address; fill in the "
                "%(missing)s on the partner.",
                partner=partner.display_name or self.creditor_name,
                missing=_(" and ").join(missing),
            )
        ]
