"""Payment batches: vendor bills, expense reports and salaries paid out
through the Link as one ISO 20022 pain.001 file.

The batch maps records to the pure ``formats.pain001`` dataclasses; every
step (checks, grouping, building, paying, queueing) is a named method an
addon can override.
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)

KINDS = [
    ("supplier", "Supplier invoices"),
    ("expense", "Travel expenses and fees"),
    ("salary", "Salaries"),
    ("urgent", "Urgent payments"),
    ("foreign", "Foreign payments"),
]
STATES = [
    ("draft", "Draft"),
    ("approved", "Approved"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("accepted", "Accepted"),
    ("partial", "Partially accepted"),
    ("rejected", "Rejected"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
]
PAIN_VERSIONS = [("09", "pain.001.001.09"), ("03", "pain.001.001.03")]
ADDRESS_MODES = [("structured", "Structured"), ("hybrid", "Hybrid (town and country structured)")]
#: Fields whose change after approval sends a batch back to draft.
MATERIAL_FIELDS = frozenset({
    "journal_id", "connection_id", "kind", "execution_date", "pain_version", "address_mode",
    "batch_booking", "line_ids", "currency_id", "company_id",
})


class HeerosLinkPaymentBatch(models.Model):
    _name = "heeros.link.payment.batch"
    _description = "Payment batch"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False, index="trigram")
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal", "Pay from", required=True, check_company=True, tracking=True,
        domain="[('type', '=', 'bank')]",
        help="The bank journal whose account the payments are debited from.")
    connection_id = fields.Many2one(
        "heeros.link.connection", "Bank connection", check_company=False, tracking=True,
        default=lambda self: self.env["heeros.link.connection"]._link_outbound_for(self.env.company),
        help="The Link connection that sends the payment file to the bank.")
    kind = fields.Selection(KINDS, required=True, default="supplier", tracking=True)
    execution_date = fields.Date("Requested execution date", required=True,
                                 default=fields.Date.context_today, tracking=True)
    pain_version = fields.Selection(
        PAIN_VERSIONS, "pain.001 version", required=True,
        compute="_compute_journal_defaults", store=True, readonly=False, precompute=True)
    address_mode = fields.Selection(
        ADDRESS_MODES, "Addresses", required=True,
        compute="_compute_journal_defaults", store=True, readonly=False, precompute=True)
    batch_booking = fields.Boolean(
        "Batch booking", default=True,
        help="One debit on the bank statement for each group of payments instead of one per "
        "payment. Salaries are always booked as one debit.")
    state = fields.Selection(STATES, required=True, default="draft", readonly=True, index=True,
                             tracking=True, copy=False)
    line_ids = fields.One2many("heeros.link.payment.line", "batch_id", "Payments", copy=False)
    currency_id = fields.Many2one(
        "res.currency", required=True,
        default=lambda self: self.env.company.currency_id,
        help="Currency of the batch total; lines may be in other currencies for foreign payments.")
    amount_total = fields.Monetary("Total", compute="_compute_totals", store=True)
    line_count = fields.Integer("Number of payments", compute="_compute_totals", store=True)
    user_id = fields.Many2one("res.users", "Responsible", default=lambda self: self.env.user,
                              tracking=True)
    approved_by_id = fields.Many2one("res.users", "Approved by", readonly=True, copy=False)
    approved_at = fields.Datetime("Approved on", readonly=True, copy=False)
    last_change_uid = fields.Many2one(
        "res.users", "Last changed by", readonly=True, copy=False,
        default=lambda self: self.env.user,
        help="Who created the batch or last changed its payments or amounts.")
    confidential = fields.Boolean(
        compute="_compute_confidential", store=True, readonly=True, index=True,
        help="Salary batches are visible only to the Salary payments group.")
    pain_message_id = fields.Char("Payment file id", readonly=True, copy=False, index=True,
                                  help="The message id (GrpHdr/MsgId) of the pain.001 sent.")
    heeros_link_message_ids = fields.Many2many(
        "heeros.link.message", "heeros_link_payment_batch_message_rel", "batch_id", "message_id",
        string="Link messages", readonly=True, copy=False)
    heeros_link_message_count = fields.Integer(compute="_compute_heeros_link_message_count")
    sent_at = fields.Datetime("Sent on", readonly=True, copy=False)
    feedback_at = fields.Datetime("Feedback on", readonly=True, copy=False)
    feedback_state = fields.Char("Bank status", readonly=True, copy=False)
    source = fields.Selection([("odoo", "Built by the Link"), ("payroll_file", "Payroll system's file")],
                              required=True, default="odoo", readonly=True)
    payroll_attachment_id = fields.Many2one(
        "ir.attachment", "Payroll file", readonly=True, copy=False, check_company=True,
        help="The payroll system's pain.001, sent on unchanged.")
    note = fields.Text()

    _sql_constraints = [
        ("pain_message_id_uniq", "unique(company_id, pain_message_id)",
         "A payment file id is used once per company."),
    ]

    # ------------------------------------------------------------------
    # computes and basics
    # ------------------------------------------------------------------
    @api.depends("journal_id")
    def _compute_journal_defaults(self):
        for batch in self:
            journal = batch.journal_id
            batch.pain_version = (journal.heeros_link_pain_version if journal else False) or \
                batch.pain_version or "09"
            batch.address_mode = (journal.heeros_link_pain_address if journal else False) or \
                batch.address_mode or "structured"

    @api.depends("line_ids.amount", "line_ids.state")
    def _compute_totals(self):
        for batch in self:
            lines = batch.line_ids.filtered(lambda line: line.state != "cancel")
            batch.amount_total = sum(lines.mapped("amount"))
            batch.line_count = len(lines)

    @api.depends("kind")
    def _compute_confidential(self):
        for batch in self:
            batch.confidential = batch.kind == "salary"

    def _compute_heeros_link_message_count(self):
        for batch in self:
            batch.heeros_link_message_count = len(batch.heeros_link_message_ids)

    @api.constrains("kind", "batch_booking")
    def _check_salary_booking(self):
        for batch in self:
            if batch.kind == "salary" and not batch.batch_booking:
                raise ValidationError(_("Salaries are always booked as one debit (batch %s).", batch.name))

    @api.constrains("connection_id", "company_id")
    def _check_connection_company(self):
        for batch in self:
            if batch.connection_id and batch.company_id not in batch.connection_id.sudo().company_ids:
                raise ValidationError(_(
                    "Connection %(conn)s does not serve %(company)s.",
                    conn=batch.connection_id.name, company=batch.company_id.name))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("kind") == "salary":
                vals["batch_booking"] = True
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).sudo().next_by_code(
                    "heeros.link.payment.batch") or "/"
            vals["last_change_uid"] = self.env.uid
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("kind") == "salary":
            vals["batch_booking"] = True
        if MATERIAL_FIELDS & set(vals):
            self._heeros_link_changed()
        return super().write(vals)

    def _heeros_link_changed(self):
        """Payments or amounts of these batches change: record who did it and
        send approved batches back to draft."""
        editable = self.filtered(lambda b: b.state in ("draft", "approved"))
        if self - editable:
            raise UserError(_(
                "Batch %s has been queued or sent: it can no longer be changed.",
                ", ".join((self - editable).mapped("name"))))
        approved = editable.filtered(lambda b: b.state == "approved")
        vals = {"last_change_uid": self.env.uid}
        if approved:
            super(HeerosLinkPaymentBatch, approved).write(
                dict(vals, state="draft", approved_by_id=False, approved_at=False))
            for batch in approved:
                batch.message_post(body=_("Changed after approval: back to draft, to be approved again."))
        if editable - approved:
            super(HeerosLinkPaymentBatch, editable - approved).write(vals)

    def unlink(self):
        if any(batch.state not in ("draft", "cancel") for batch in self):
            raise UserError(_("Only draft or cancelled payment batches can be deleted."))
        return super().unlink()

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_approve(self):
        for batch in self:
            if batch.state != "draft":
                raise UserError(_("Batch %s is not a draft: only drafts are approved.", batch.name))
            batch._heeros_link_check_approver()
            batch._heeros_link_raise_problems(batch._heeros_link_check_lines())
            super(HeerosLinkPaymentBatch, batch).write({
                "state": "approved", "approved_by_id": self.env.uid, "approved_at": fields.Datetime.now()})
            batch.message_post(body=_("Approved by %s.", self.env.user.name))
        return True

    def _heeros_link_check_approver(self):
        """The optional two-person rule of the batch's company."""
        self.ensure_one()
        if not self.company_id.heeros_link_payment_two_person:
            return
        if self.env.uid in (self.create_uid.id, self.last_change_uid.id):
            raise UserError(_(
                "%(company)s requires a second person to approve payments: %(user)s created or last "
                "changed batch %(batch)s and cannot approve it.",
                company=self.company_id.name, user=self.env.user.name, batch=self.name))

    def action_back_to_draft(self):
        for batch in self:
            if batch.state not in ("approved", "cancel"):
                raise UserError(_("Batch %s can go back to draft only when approved or cancelled.",
                                  batch.name))
        super().write({"state": "draft", "approved_by_id": False, "approved_at": False,
                       "last_change_uid": self.env.uid})
        self.line_ids.filtered(lambda line: line.state == "cancel").write({"state": "draft"})
        return True

    def action_cancel(self):
        for batch in self:
            if batch.state not in ("draft", "approved"):
                raise UserError(_("Batch %s has been sent: the bank's feedback decides what happens to it.",
                                  batch.name))
        self.line_ids.write({"state": "cancel"})
        super().write({"state": "cancel"})
        return True

    def action_send(self):
        for batch in self:
            if batch.state != "approved":
                raise UserError(_("Batch %s must be approved before it is sent.", batch.name))
            batch._heeros_link_send()
        return True

    def _heeros_link_send(self):
        """Build, validate and queue the file, then pay: nothing leaves when a
        check or the schema fails."""
        self.ensure_one()
        raise UserError(_("Sending payment batches is not available yet."))

    def action_view_link_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        action.update({"domain": [("id", "in", self.heeros_link_message_ids.ids)], "context": {}})
        return action

    def _heeros_link_add_moves(self, moves, wizard=None):
        """Add one payment line per bill (its open amount); returns the lines."""
        self.ensure_one()
        Wizard = wizard or self.env["heeros.link.payment.batch.wizard"]
        vals_list = []
        for start in range(0, len(moves), 2000):
            chunk = moves[start:start + 2000]
            chunk.fetch(["partner_id", "partner_bank_id", "payment_reference", "ref", "name",
                         "amount_residual", "currency_id"])
            vals_list += [dict(Wizard._heeros_link_line_vals(move), batch_id=self.id) for move in chunk]
        return self.env["heeros.link.payment.line"].create(vals_list)

    # ------------------------------------------------------------------
    # checks
    # ------------------------------------------------------------------
    def _heeros_link_check_lines(self):
        """``[(line, text)]``: what is wrong with the lines, before anything is sent."""
        self.ensure_one()
        problems = []
        if not self.line_ids.filtered(lambda line: line.state != "cancel"):
            problems.append((self.env["heeros.link.payment.line"], _("The batch has no payments.")))
        for line in self.line_ids.filtered(lambda line: line.state != "cancel"):
            problems.extend((line, text) for text in line._heeros_link_problems())
        return problems

    def _heeros_link_raise_problems(self, problems):
        if not problems:
            return
        texts = [f"{line._heeros_link_label()}: {text}" if line else text for line, text in problems]
        raise UserError(_("Batch %(batch)s cannot go on:\n%(problems)s",
                          batch=self.name, problems="\n".join(texts)))
