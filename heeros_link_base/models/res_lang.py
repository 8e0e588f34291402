from odoo import api, models


class ResLang(models.Model):
    _inherit = "res.lang"

    @api.model
    def _heeros_link_demo_languages(self, codes):
        """Activate the languages ``codes`` with the translations of every
        installed module (what ``--load-language`` does), for the demo users
        who each work in their own language; languages already active are
        left as they are."""
        missing = self.with_context(active_test=False).search([("code", "in", codes), ("active", "=", False)])
        if missing:
            installer = self.env["base.language.install"].create({"lang_ids": [(6, 0, missing.ids)]})
            installer.lang_install()
        return self.search([("code", "in", codes)])
