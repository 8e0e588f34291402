"""Build a payment batch from the due, unpaid vendor bills (or expense
reports) that match the filters, or from the bills picked in the list."""

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.exceptions import UserError

from ..models.payment_batch import KINDS
from ..models.payment_line import RELEASED_STATES

#: Read in one query per chunk when lines are made from many bills.
CHUNK = 2000


class HeerosLinkPaymentBatchWizard(models.TransientModel):
    _name = "heeros.link.payment.batch.wizard"
    _description = "Create a payment batch"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal",
        "Pay from",
        required=True,
        check_company=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
        default=lambda self: self.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", self.env.company.id)], limit=1
        ),
    )
    kind = fields.Selection([k for k in KINDS if k[0] != "salary"], required=True, default="supplier")
    execution_date = fields.Date("Requested execution date", required=True, default=fields.Date.context_today)
    due_date_to = fields.Date(
        "Due up to",
        default=fields.Date.context_today,
        help="Bills due on this date or earlier; empty for every due date.",
    )
    partner_ids = fields.Many2many("res.partner", string="Suppliers", check_company=True)
    bill_journal_ids = fields.Many2many(
        "account.journal",
        string="Bill journals",
        check_company=True,
        domain="[('type', '=', 'purchase'), ('company_id', '=', company_id)]",
    )
    currency_id = fields.Many2one("res.currency", "Currency")
    move_ids = fields.Many2many(
        "account.move",
        string="Chosen bills",
        check_company=True,
        help="Bills chosen in the vendor bill list; the filters are not used when there are some.",
    )
    bill_count = fields.Integer("Bills to pay", compute="_compute_bill_count")

    @api.depends("move_ids", "due_date_to", "partner_ids", "bill_journal_ids", "currency_id", "kind", "company_id")
    def _compute_bill_count(self):
        for wizard in self:
            wizard.bill_count = len(wizard._heeros_link_bills())

    # ------------------------------------------------------------------
    # selection
    # ------------------------------------------------------------------
    def _heeros_link_domain(self, partners=True):
        """Posted bills of the company that are still to be paid, with the
        filters (the supplier filter left out when ``partners`` is false)."""
        self.ensure_one()
        move_types = ["in_invoice"] if self.kind != "expense" else ["in_invoice", "in_receipt"]
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "in", move_types),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("amount_residual", ">", 0),
        ]
        if self.due_date_to:
            domain.append(("invoice_date_due", "<=", self.due_date_to))
        if self.partner_ids and partners:
            domain.append(("partner_id", "child_of", self.partner_ids.ids))
        if self.bill_journal_ids:
            domain.append(("journal_id", "in", self.bill_journal_ids.ids))
        if self.currency_id:
            domain.append(("currency_id", "=", self.currency_id.id))
        if self.kind != "expense" and "expense_sheet_id" in self.env["account.move"]._fields:
            # expense reports are paid in their own batches (kind "travel expenses and fees")
            domain.append(("expense_sheet_id", "=", False))
        return domain

    def _heeros_link_held_move_ids(self, moves):
        """Ids of those bills already held by a batch that is not rejected or
        cancelled (whoever may read that batch)."""
        if not moves:
            return set()
        self.env["heeros.link.payment.line"].flush_model(["move_id", "state"])
        self.env.cr.execute(
            """SELECT move_id FROM heeros_link_payment_line
                                WHERE move_id = ANY(%s) AND state NOT IN %s""",
            [list(moves.ids), RELEASED_STATES],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _heeros_link_bills(self):
        """The bills the batch will pay, oldest due first."""
        self.ensure_one()
        if self.kind == "expense":
            moves = self._heeros_link_expense_moves()
        elif self.move_ids:
            moves = self.move_ids.filtered_domain(self._heeros_link_domain()[:5])
        else:
            moves = self.env["account.move"].search(self._heeros_link_domain(), order="invoice_date_due, id")
        if self.move_ids and self.kind != "expense":
            return moves
        held = self._heeros_link_held_move_ids(moves)
        return moves.filtered(lambda move: move.id not in held) if held else moves

    def _heeros_link_expense_moves(self):
        """Account moves of posted expense reports paid to the employee, when
        the Expenses app is installed; plus the chosen or filtered bills of
        persons (board and lecture fees)."""
        Move = self.env["account.move"]
        moves = Move
        if "hr.expense.sheet" in self.env:
            Sheet = self.env["hr.expense.sheet"]
            sheet_domain = [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "post"),
                ("payment_mode", "=", "own_account"),
            ]
            moves = Sheet.search(sheet_domain).account_move_ids.filtered_domain(
                self._heeros_link_domain(partners=False)
            )
        if self.move_ids:
            moves |= self.move_ids.filtered_domain(self._heeros_link_domain()[:5])
        elif self.partner_ids:
            moves |= Move.search(self._heeros_link_domain() + [("move_type", "=", "in_invoice")])
        return moves.sorted(lambda m: (m.invoice_date_due or m.date, m.id))

    # ------------------------------------------------------------------
    # lines
    # ------------------------------------------------------------------
    def _heeros_link_line_vals(self, move):
        """Values of the payment line that pays ``move`` (its open amount)."""
        partner = move.partner_id.commercial_partner_id
        bank = move.partner_bank_id or self._heeros_link_expense_bank(move) or partner.bank_ids[:1]
        ref = move.payment_reference or ""
        valid_ref = fi_reference.is_valid(ref)
        message = False if valid_ref else (ref or move.ref or move.name)
        return {
            "move_id": move.id,
            "partner_id": partner.id,
            "partner_bank_id": bank.id or False,
            "creditor_name": (bank.acc_holder_name or partner.name or "")[:140],
            "iban": (bank.sanitized_acc_number or "") if bank else "",
            "bic": bank.bank_bic or False,
            "country_id": partner.country_id.id or False,
            "amount": abs(move.amount_residual),
            "currency_id": move.currency_id.id,
            "reference": fi_reference.compact(ref) if valid_ref else False,
            "message": (message or "")[:140] or False,
        }

    def _heeros_link_expense_bank(self, move):
        """The employee's bank account for an expense report's move."""
        if "expense_sheet_id" in move._fields and move.expense_sheet_id:
            return move.expense_sheet_id.employee_id.sudo().bank_account_id
        return self.env["res.partner.bank"]

    def _heeros_link_batch_vals(self):
        self.ensure_one()
        return {
            "company_id": self.company_id.id,
            "journal_id": self.journal_id.id,
            "kind": self.kind,
            "execution_date": self.execution_date,
            "currency_id": (self.journal_id.currency_id or self.company_id.currency_id).id,
        }

    def action_create_batch(self):
        self.ensure_one()
        moves = self._heeros_link_bills()
        if not moves:
            raise UserError(_("No posted, unpaid bill matches: change the filters or pick bills in the list."))
        held = self._heeros_link_held_move_ids(moves)
        if held:
            taken = moves.filtered(lambda move: move.id in held)
            raise UserError(
                _(
                    "Already in a payment batch that is not rejected or cancelled: %s. "
                    "A bill is paid once; cancel it in the other batch first.",
                    ", ".join(taken.mapped("display_name")),
                )
            )
        batch = self.env["heeros.link.payment.batch"].create(self._heeros_link_batch_vals())
        batch._heeros_link_add_moves(moves, self)
        return {
            "type": "ir.actions.act_window",
            "res_model": batch._name,
            "res_id": batch.id,
            "views": [(False, "form")],
            "target": "current",
        }
