"""What people read on a Link message: its size in kB/MB, the records it
produced by name, a summary of what an action did."""

from odoo import _, api, fields, models
from odoo.tools import plaintext2html

_UNITS = ("bytes", "kB", "MB", "GB")
#: ``{(database, message id): company id}``: where the content of a message
#: being processed routed it (see ``_link_find_route``), kept outside the
#: transaction so that it survives the handler's rolled-back savepoint.
_ROUTED = {}


def format_size(env, size):
    """``1234567`` -> ``"1.2 MB"`` (the decimal separator of the user's language)."""
    if size is None or size is False:
        return ""
    value, unit = float(size), 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return _("%s bytes", int(value))
    lang = env["res.lang"]._lang_get(env.lang or "en_US")
    text = f"{value:.1f}".replace(".", lang.decimal_point if lang else ".")
    return f"{text} {_UNITS[unit]}"


class HeerosLinkMessageUi(models.Model):
    _inherit = "heeros.link.message"

    size_display = fields.Char("Size", compute="_compute_size_display")

    @api.depends("size")
    @api.depends_context("lang")
    def _compute_size_display(self):
        for message in self:
            message.size_display = format_size(self.env, message.size) if message.attachment_id or message.size else ""

    @api.model
    def _link_summary(self, messages, title, fetched=None):
        """What a fetch or reprocess did, as ``(text, counts)``: files
        fetched, processed, duplicates, in error, waiting."""
        counts = {
            "processed": len(messages.filtered(lambda m: m.state == "processed")),
            "duplicate": len(messages.filtered(lambda m: m.state == "duplicate")),
            "error": len(messages.filtered(lambda m: m.state == "error")),
        }
        counts["waiting"] = len(messages) - sum(counts.values())
        parts = []
        if fetched is not None:
            parts.append(_("%s file(s) fetched", fetched))
        parts.append(_("%s processed", counts["processed"]))
        if counts["duplicate"]:
            parts.append(_("%s already known (duplicate)", counts["duplicate"]))
        parts.append(_("%s in error", counts["error"]))
        if counts["waiting"]:
            parts.append(_("%s waiting to be processed", counts["waiting"]))
        return f"{title}: " + ", ".join(parts) + ".", counts

    @api.model
    def _link_notify_summary(self, title, text, counts, next_action=None):
        """A sticky notification saying ``text`` (danger when files are in error)."""
        params = {
            "title": title,
            "message": text,
            "type": "danger" if counts.get("error") else "success",
            "sticky": True,
        }
        if next_action:
            params["next"] = next_action
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    def _link_find_route(self, companies, looked_for):
        company, problem = super()._link_find_route(companies, looked_for)
        if company:
            _ROUTED[(self.env.cr.dbname, self.id)] = company.id
        return company, problem

    def _process_one(self):
        """A file its content routed to another company stays there even when
        it turns out to be a duplicate or in error (the handler's work is
        rolled back, the routing is not): a bureau's upload for a client lands
        under the client, not under the bureau."""
        key = (self.env.cr.dbname, self.id)
        _ROUTED.pop(key, None)
        try:
            result = super()._process_one()
        finally:
            company_id = _ROUTED.pop(key, None)
        if company_id and self.company_id.id != company_id and self.state in ("duplicate", "error"):
            company = self.env["res.company"].browse(company_id)
            self.attachment_id.sudo().company_id = company
            self.sudo().company_id = company
        return result

    def action_reprocess(self):
        result = super().action_reprocess()
        if self.env.context.get("heeros_link_no_summary"):
            return result
        text, counts = self._link_summary(self, _("Reprocessed by %s", self.env.user.name))
        for message in self:
            message.sudo().message_post(body=plaintext2html(text if len(self) > 1 else self._link_one_line(message)))
        return self._link_notify_summary(
            _("Reprocess"), text, counts, {"type": "ir.actions.client", "tag": "soft_reload"}
        )

    def _link_one_line(self, message):
        """One message's outcome after a reprocess, for its chatter."""
        labels = dict(self._fields["state"]._description_selection(self.env))
        text = _(
            "Reprocessed by %(user)s: %(state)s.",
            user=self.env.user.name,
            state=labels.get(message.state, message.state),
        )
        if message.state == "error" and message.error:
            text += "\n" + message.error
        return text


class HeerosLinkMessageLinkUi(models.Model):
    _inherit = "heeros.link.message.link"

    model_label = fields.Char("Kind of record", compute="_compute_model_label")

    @api.depends("res_model")
    @api.depends_context("lang")
    def _compute_model_label(self):
        names = {
            model: self.env["ir.model"]._get(model).name or model for model in set(self.mapped("res_model")) if model
        }
        for link in self:
            link.model_label = names.get(link.res_model, "")


class HeerosLinkConnectionUi(models.Model):
    _inherit = "heeros.link.connection"

    def _notify(self, title, text, kind):
        """The connection test's outcome stays in the chatter too."""
        self.sudo().message_post(body=plaintext2html(f"{title}: {text}" if text else title))
        action = super()._notify(title, text, kind)
        action["params"]["sticky"] = True
        return action

    def action_fetch_now(self):
        """Fetch and process, then say what happened (notification and chatter)."""
        self.check_access("read")
        errors_before = {connection.id: connection.last_error_date for connection in self}
        messages = self._link_fetch()
        messages._link_process()
        Message = self.env["heeros.link.message"]
        text, counts = Message._link_summary(
            messages, _("Fetched now by %s", self.env.user.name), fetched=len(messages)
        )
        self.invalidate_recordset(["last_error", "last_error_date"])
        failures = self.filtered(lambda c: c.last_error_date and c.last_error_date != errors_before[c.id])
        if failures:
            text += " " + _("The connection failed: %s", failures[0].last_error)
            counts["error"] = counts.get("error", 0) + 1
        for connection in self:
            connection.sudo().message_post(body=plaintext2html(text))
        return Message._link_notify_summary(
            _("Fetch now"), text, counts, self.with_context(heeros_link_no_summary=True).action_view_messages()
        )
