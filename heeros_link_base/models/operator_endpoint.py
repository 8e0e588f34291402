from odoo import api, fields, models

from ..channels import protocols


class HeerosLinkOperatorEndpoint(models.Model):
    """Where an operator's web service answers, per environment: the test
    and production addresses ship as data; a system administrator may add
    others (a new address announced by the operator)."""

    _name = "heeros.link.operator.endpoint"
    _description = "Operator service address"
    _order = "protocol, environment desc, name"

    name = fields.Char(required=True)
    protocol = fields.Selection(selection="_selection_protocol", required=True)
    environment = fields.Selection([("test", "Test"), ("production", "Production")], required=True, default="test")
    url = fields.Char("Address", required=True, help="Base address of the service, e.g. https://ax.maventa.com")
    active = fields.Boolean(default=True)

    @api.model
    def _selection_protocol(self):
        return protocols()
