from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    heeros_link_payment_line_ids = fields.One2many(
        "heeros.link.payment.line",
        "move_id",
        "Link payments",
        readonly=True,
        copy=False,
        groups="heeros_link_base.group_link_user",
    )
    heeros_link_payment_batch_id = fields.Many2one(
        "heeros.link.payment.batch",
        "Payment batch",
        compute="_compute_heeros_link_payment_batch",
        help="The payment batch that holds this bill now.",
    )
    heeros_link_payment_sent_at = fields.Datetime("Payment sent on", compute="_compute_heeros_link_payment_batch")
    heeros_link_reference_warning = fields.Char(
        "Payment reference warning",
        compute="_compute_heeros_link_reference_warning",
        help="Shown when the payment reference of a vendor bill is neither a valid Finnish "
        "reference nor a valid RF creditor reference, so that it is fixed before it is paid.",
    )

    @api.depends("heeros_link_payment_line_ids.state")
    def _compute_heeros_link_payment_batch(self):
        # read as the Link, then only what the user may see: an accountant
        # outside the Link groups sees the batch's name, nobody outside the
        # salary group sees a confidential batch
        salaries = self.env.su or self.env.user.has_group("heeros_link_bank.group_link_salary")
        for move in self:
            lines = move.sudo().heeros_link_payment_line_ids.filtered(
                lambda line: line.state not in ("rejected", "cancel") and (salaries or not line.confidential)
            )
            move.heeros_link_payment_batch_id = lines[:1].batch_id.id
            move.heeros_link_payment_sent_at = lines[:1].sent_at

    @api.depends("payment_reference", "move_type")
    def _compute_heeros_link_reference_warning(self):
        for move in self:
            move.heeros_link_reference_warning = move._heeros_link_reference_problem()

    def _heeros_link_reference_problem(self):
        """A text when this vendor bill's payment reference looks like a
        reference (digits or RF...) but its check digits are wrong."""
        self.ensure_one()
        if not self.is_purchase_document(include_receipts=True):
            return False
        ref = fi_reference.compact(self.payment_reference or "")
        if not ref or fi_reference.is_valid(ref):
            return False
        if ref.startswith("RF") or ref.isdecimal():
            return _(
                "%s is not a valid payment reference: check the number on the invoice "
                "(Finnish references end in a 7-3-1 check digit, RF references carry two "
                "check digits after RF).",
                self.payment_reference,
            )
        return False

    def _get_invoice_in_payment_state(self):
        # A bill paid through a Link payment batch is "in payment" until the
        # bank statement shows the debit, also without the Accounting app.
        if self.sudo().heeros_link_payment_line_ids.filtered(lambda line: line.state not in ("rejected", "cancel")):
            return "in_payment"
        return super()._get_invoice_in_payment_state()

    def action_heeros_link_payment_batch(self):
        """From the vendor bill list: a payment batch of the chosen bills."""
        bills = self.filtered(lambda move: move.move_type in ("in_invoice", "in_receipt"))
        if not bills:
            raise UserError(_("Choose posted vendor bills to pay."))
        if len(bills.company_id) > 1:
            raise UserError(_("Choose bills of one company: a payment batch pays from one company's account."))
        company = bills.company_id
        journal = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
        wizard = self.env["heeros.link.payment.batch.wizard"].create(
            {"company_id": company.id, "journal_id": journal.id, "move_ids": [(6, 0, bills.ids)], "due_date_to": False}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": wizard._name,
            "res_id": wizard.id,
            "views": [(False, "form")],
            "target": "new",
            "name": _("Create a payment batch"),
        }
