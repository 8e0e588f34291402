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
