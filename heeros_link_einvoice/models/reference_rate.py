from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class HeerosLinkReferenceRate(models.Model):
    """The reference rate of the Finnish Interest Act (korkolaki 12 §), set by
    the Bank of Finland for each half-year; penalty interest is this rate plus
    a margin (7 or 8 percentage points)."""

    _name = "heeros.link.reference.rate"
    _description = "Interest Act reference rate"
    _order = "date_from desc"

    date_from = fields.Date(
        "Half-year from", required=True, help="1 January or 1 July: the rate applies to the six months from then."
    )
    rate = fields.Float("Reference rate (%)", required=True, digits=(5, 3))
    company_id = fields.Many2one("res.company", help="Empty: all companies.")

    _sql_constraints = [
        ("date_company_uniq", "unique(date_from, company_id)", "There is already a reference rate for this half-year."),
    ]

    @api.constrains("date_from")
    def _check_half_year(self):
        for rate in self:
            if rate.date_from.day != 1 or rate.date_from.month not in (1, 7):
                raise ValidationError(
                    _("A reference rate starts on 1 January or 1 July, not on %s.", rate.date_from.strftime("%d.%m.%Y"))
                )

    @api.depends("date_from", "rate")
    def _compute_display_name(self):
        for rate in self:
            rate.display_name = f"{rate.date_from and rate.date_from.strftime('%d.%m.%Y')}: {rate.rate:g} %"
