from odoo import api, fields, models

#: The bank document types a connection can forward copies of.
FORWARDABLE = ("camt.053", "camt.054", "camt.052", "tito", "ktl")


class HeerosLinkBankForwardType(models.Model):
    _name = "heeros.link.bank.forward.type"
    _description = "Bank file type that can be forwarded"
    _order = "sequence, id"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_uniq", "unique(code)", "A bank file type is listed once.")]


class HeerosLinkConnection(models.Model):
    _inherit = "heeros.link.connection"

    forward_bank_files = fields.Boolean(
        "Forward bank files", tracking=True,
        help="Send a copy of every bank statement and reference payment file the Link "
        "receives for the companies this connection serves, e.g. to a payroll, invoicing or "
        "cash management system that reads them from this connection's outbox.")
    forward_type_ids = fields.Many2many(
        "heeros.link.bank.forward.type", "heeros_link_connection_forward_type_rel",
        "connection_id", "type_id", string="File types to forward",
        help="Leave empty to forward every bank file type.")

    @api.model
    def _link_forwarding(self, company, document_type, exclude=None):
        """Connections that want a copy of a ``document_type`` file of ``company``."""
        connections = self.sudo().search([
            ("forward_bank_files", "=", True),
            ("direction", "in", ("out", "both")),
            ("company_ids", "in", company.id),
        ])
        if exclude:
            connections -= exclude
        return connections.filtered(
            lambda c: not c.forward_type_ids or document_type in c.forward_type_ids.mapped("code"))
