from odoo import api, fields, models
from odoo.addons.heeros_link_base.registry import DocumentType

from ..formats import detect

HANDLER_MODEL = "heeros.link.bank.import"


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    bank_warning = fields.Text(
        "Warning", readonly=True, copy=False,
        help="Something in a processed bank file needs a person's attention: balances that do "
        "not add up, an itemisation that could not replace its lump sum. The file itself was "
        "imported.")
    bank_has_warning = fields.Boolean("Has warning", compute="_compute_bank_has_warning", store=True,
                                      index="btree_not_null")
    bank_statement_ids = fields.One2many("account.bank.statement", "heeros_link_bank_message_id",
                                         "Bank statements", readonly=True)
    bank_statement_count = fields.Integer(compute="_compute_bank_statement_count")

    @api.depends("bank_warning")
    def _compute_bank_has_warning(self):
        for message in self:
            message.bank_has_warning = bool(message.bank_warning)

    def _compute_bank_statement_count(self):
        for message in self:
            message.bank_statement_count = len(message.bank_statement_ids)

    @api.model
    def _link_document_types(self):
        types = super()._link_document_types()
        for code, label, detector, method in (
            ("camt.053", "Bank statement (camt.053)", detect.is_camt053, "_link_handle_camt053"),
            ("camt.054", "Reference payments (camt.054)", detect.is_camt054, "_link_handle_camt054"),
            ("camt.052", "Account report (camt.052)", detect.is_camt052, "_link_handle_camt052"),
            ("tito", "Bank statement (TITO)", detect.is_tito, "_link_handle_tito"),
            ("ktl", "Reference payments (KTL)", detect.is_ktl, "_link_handle_ktl"),
        ):
            types[code] = DocumentType(code=code, label=label, detect=detector,
                                       handler=(HANDLER_MODEL, method), priority=50, direction="in")
        return types

    def action_view_bank_statements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_bank_statement_tree")
        action.update({"domain": [("heeros_link_bank_message_id", "=", self.id)], "context": {}})
        return action
