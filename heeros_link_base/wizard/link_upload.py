from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


class HeerosLinkUpload(models.TransientModel):
    _name = "heeros.link.upload"
    _description = "Import files into the Link"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    attachment_ids = fields.Many2many("ir.attachment", string="Files", required=True)
    process = fields.Boolean("Process now", default=True)

    @api.model
    def _link_import(self, files, company, process=True):
        """The service behind the wizard and ``odoo-bin link import``."""
        return (
            self.env["heeros.link.message"].with_company(company)._link_intake(files, company=company, process=process)
        )

    def _link_check_uploads(self):
        """Only files the user has just uploaded into this dialog are imported
        (and removed afterwards): never an attachment of some other record."""
        if self.env.su:
            return
        foreign = self.attachment_ids.sudo().filtered(
            lambda att: att.create_uid != self.env.user or att.res_id or att.res_model not in (False, self._name)
        )
        if foreign:
            raise AccessError(_("Only files uploaded in this dialog can be imported; %s is not one.", foreign[0].name))

    def action_import(self):
        self.ensure_one()
        if not self.attachment_ids:
            raise UserError(_("Choose at least one file."))
        self._link_check_uploads()
        files = [(att.name, att.sudo().raw or b"") for att in self.attachment_ids]
        messages = self._link_import(files, self.company_id, self.process)
        self.attachment_ids.sudo().unlink()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        action["domain"] = [("id", "in", messages.ids)]
        action["context"] = {}
        if len(messages) == 1:
            action.update({"view_mode": "form", "views": [(False, "form")], "res_id": messages.id})
        return action
