"""Upload a salary list (CSV) and get a salary batch to approve and send."""

import base64

from odoo import _, fields, models
from odoo.exceptions import UserError


class HeerosLinkSalaryImport(models.TransientModel):
    _name = "heeros.link.salary.import"
    _description = "Import a salary list"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    journal_id = fields.Many2one(
        "account.journal",
        "Pay from",
        required=True,
        check_company=True,
        domain="[('type', '=', 'bank'), ('company_id', '=', company_id)]",
    )
    # required in the form only: the list is cleared once its batches exist
    file = fields.Binary("Salary list", attachment=False)
    file_name = fields.Char()

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(_("Choose the salary list to import."))
        batches = self.env["heeros.link.payment.batch"]._heeros_link_from_salary_list(
            base64.b64decode(self.file), self.file_name, self.journal_id
        )
        # the list itself is not kept in the wizard once its batches exist
        self.write({"file": False})
        if len(batches) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": batches._name,
                "res_id": batches.id,
                "views": [(False, "form")],
                "target": "current",
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": batches._name,
            "name": _("Salary batches"),
            "domain": [("id", "in", batches.ids)],
            "views": [(False, "list"), (False, "form")],
        }
