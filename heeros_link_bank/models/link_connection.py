from odoo import api, fields, models
from odoo.addons.heeros_link_base.texts import in_lang

from ..formats import registry as bank_formats

#: The module whose xml ids name the forward types of its own formats.
MODULE = "heeros_link_bank"


class HeerosLinkBankForwardType(models.Model):
    _name = "heeros.link.bank.forward.type"
    _description = "Bank file type that can be forwarded"
    _order = "sequence, id"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)

    _sql_constraints = [("code_uniq", "unique(code)", "A bank file type is listed once.")]

    @api.model
    def _link_sync(self):
        """Make the list follow the bank formats that can be forwarded
        (``heeros.link.bank.import._link_bank_formats()``): a type per such
        format, with its label and order. Types of formats no longer there
        stay (connections may choose them) but match no file. Called when
        the addon is installed or updated; an addon that adds a format calls
        it from its own data file. The types of the built-in formats keep
        the xml ids ``heeros_link_bank.forward_type_<code>``."""
        described = self.env["heeros.link.bank.import"]._link_bank_formats()
        builtin = set(bank_formats.formats())
        existing = {t.code: t for t in self.with_context(active_test=False).search([])}
        xmlids = []
        for code, fmt in described.items():
            if not fmt.forward:
                continue
            label = fmt.forward_label or fmt.label
            vals = {"name": in_lang(label, "en_US"), "sequence": fmt.sequence}
            record = existing.get(code)
            if record:
                record.with_context(lang="en_US").write({k: v for k, v in vals.items() if record[k] != v})
            else:
                record = self.with_context(lang="en_US").create(dict(vals, code=code))
            self._link_translate_name(record, label)
            if code in builtin:
                xmlids.append(
                    {"xml_id": f"{MODULE}.forward_type_{code.replace('.', '')}", "record": record, "noupdate": False}
                )
        self.env["ir.model.data"]._update_xmlids(xmlids, update=True)
        return True

    @api.model
    def _link_translate_name(self, record, label):
        """The format's name in every installed language (its translations)."""
        langs = [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"]
        if langs:
            record.update_field_translations("name", {lang: in_lang(label, lang) for lang in langs})


class HeerosLinkConnection(models.Model):
    _inherit = "heeros.link.connection"

    forward_bank_files = fields.Boolean(
        "Forward bank files",
        tracking=True,
        help="Send a copy of every bank statement and reference payment file the Link "
        "receives for the companies this connection serves, e.g. to a payroll, invoicing or "
        "cash management system that reads them from this connection's outbox.",
    )
    forward_type_ids = fields.Many2many(
        "heeros.link.bank.forward.type",
        "heeros_link_connection_forward_type_rel",
        "connection_id",
        "type_id",
        string="File types to forward",
        help="Leave empty to forward every bank file type.",
    )

    @api.model
    def _link_forwarding(self, company, document_type, exclude=None):
        """Connections that want a copy of a ``document_type`` file of
        ``company`` (none when the format cannot be forwarded)."""
        described = self.env["heeros.link.bank.import"]._link_bank_formats().get(document_type)
        if described is None or not described.forward:
            return self.browse()
        connections = self.sudo().search(
            [
                ("forward_bank_files", "=", True),
                ("direction", "in", ("out", "both")),
                ("company_ids", "in", company.id),
            ]
        )
        if exclude:
            connections -= exclude
        return connections.filtered(
            lambda c: not c.forward_type_ids or document_type in c.forward_type_ids.mapped("code")
        )
