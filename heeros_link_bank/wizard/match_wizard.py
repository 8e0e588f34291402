from odoo import _, api, fields, models
from odoo.exceptions import UserError


class HeerosLinkMatchWizard(models.TransientModel):
    _name = "heeros.link.match.wizard"
    _description = "Match a bank payment with invoices"
    _check_company_auto = True

    line_id = fields.Many2one("account.bank.statement.line", "Payment", required=True, readonly=True)
    company_id = fields.Many2one(related="line_id.company_id")
    currency_id = fields.Many2one(related="line_id.currency_id")
    amount = fields.Monetary(related="line_id.amount")
    date = fields.Date(related="line_id.date")
    partner_name = fields.Char(related="line_id.partner_name")
    reference = fields.Char(related="line_id.heeros_link_reference")
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        check_company=True,
        domain="[('company_id', '=', company_id), ('move_type', 'in', ('out_invoice', 'out_receipt')),"
        " ('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )

    @api.onchange("line_id")
    def _onchange_line_id(self):
        """Propose the open invoices of the payer, or of the same amount."""
        line = self.line_id
        if not line or self.invoice_ids:
            return
        domain = [
            ("company_id", "=", line.company_id.id),
            ("move_type", "in", ("out_invoice", "out_receipt")),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        Move = self.env["account.move"]
        candidates = Move.browse()
        if line.partner_id:
            candidates = Move.search(
                domain + [("commercial_partner_id", "=", line.partner_id.commercial_partner_id.id)]
            )
        if len(candidates) != 1:
            same = Move.search(domain + [("amount_residual", "=", line.amount)], limit=2)
            candidates = same if len(same) == 1 else Move.browse()
        self.invoice_ids = candidates

    def action_match(self):
        self.ensure_one()
        if not self.invoice_ids:
            raise UserError(_("Choose the invoice(s) this payment pays."))
        # the user may see the payment and pay the invoices; the bank side is
        # written by the Link itself, as when the reference matched
        self.line_id.check_access("read")
        self.invoice_ids.check_access("write")
        state = self.line_id.sudo()._heeros_link_match_invoices(self.invoice_ids.sudo())
        labels = dict(self.line_id._fields["heeros_link_match_state"]._description_selection(self.env))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Payment matched"),
                "message": _(
                    "%(invoices)s: %(state)s", invoices=", ".join(self.invoice_ids.mapped("name")), state=labels[state]
                ),
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
