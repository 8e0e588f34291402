from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    heeros_link_max_file_size = fields.Integer(
        "Largest uploaded file (bytes)",
        config_parameter="heeros_link.max_file_size",
        default=256 * 1024 * 1024,
        help="Files uploaded by hand or through the command line that are larger than this "
        "are refused with a message in error. Connections have their own limit.",
    )
    heeros_link_api_rate_limit = fields.Integer(
        "API requests per minute",
        config_parameter="heeros_link.api_rate_limit",
        default=600,
        help="Requests a minute one API key may make to the Link's integration API (all server "
        "processes together); more are answered 429 with Retry-After. 0: no limit.",
    )
