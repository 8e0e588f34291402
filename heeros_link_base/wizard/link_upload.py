from odoo import _, api, fields, models
from odoo.exceptions import UserError


class HeerosLinkUpload(models.TransientModel):
    _name = "heeros.link.upload"
    _description = "Import files into the Link"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company,
                                 domain=lambda self: [("id", "in", self.env.companies.ids)])
    attachment_ids = fields.Many2many("ir.attachment", string="Files", required=True)
    process = fields.Boolean("Process now", default=True)

    @api.model
    def _link_import(self, files, company, process=True):
        """The service behind the wizard and ``odoo-bin link import``."""
        return self.env["heeros.link.message"].with_company(company)._link_intake(
            files, company=company, process=process)

    def action_import(self):
        self.ensure_one()
        if not self.attachment_ids:
            raise UserError(_("Choose at least one file."))
        files = [(att.name, att.sudo().raw or b"") for att in self.attachment_ids]
        messages = self._link_import(files, self.company_id, self.process)
        self.attachment_ids.sudo().unlink()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        action["domain"] = [("id", "in", messages.ids)]
        action["context"] = {}
        if len(messages) == 1:
            action.update({"view_mode": "form", "views": [(False, "form")], "res_id": messages.id})
        return action
