from odoo import api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    heeros_link_all_companies = fields.Boolean(
        "Start with all my companies",
        help="At each login all the companies this user may access are selected, so that a "
        "bureau's operator sees the traffic of every client without ticking them one by one.",
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["heeros_link_all_companies"]

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ["heeros_link_all_companies"]

    @api.model
    def _heeros_link_login_company_ids(self, user):
        """The companies to select at the login of ``user``: its current
        company first, then every other company it may access; empty when the
        user keeps Odoo's default (its current company only)."""
        if not user.heeros_link_all_companies or len(user.company_ids) < 2:
            return []
        current = user.company_id
        return [current.id] + (user.company_ids - current).sorted(lambda c: (c.sequence, c.name)).ids
