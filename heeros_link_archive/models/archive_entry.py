import csv
import hashlib
import io
import json
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.channels.names import safe_name
from odoo.exceptions import AccessError, UserError

#: Finnish Accounting Act (kirjanpitolaki 2:10): books and the balance sheet
#: specification 10 years, vouchers and other material 6 years, counted from
#: the end of the financial year. Without a financial year at hand, the
#: calendar year is used.
DEFAULT_RETENTION_YEARS = 10
GENESIS = "0" * 64
#: First key of the advisory lock serialising each company's archive chain.
ARCHIVE_LOCK = 0x4C494E4B  # "LINK"

#: Set only while the archive's own server-side code records a verification or
#: purges expired content. It lives in the Python process, not in the request's
#: context, so nothing a client sends can set it.
_MAINTENANCE = ContextVar("heeros_link_archive_maintenance", default=frozenset())
#: What each kind of maintenance may change on an entry.
_VERIFY_FIELDS = frozenset({"verified_on", "verification"})
_PURGE_FIELDS = frozenset({"purged", "attachment_id"})


@contextmanager
def _maintenance(fields_):
    """Let the archive's own code change ``fields_`` of entries (and, when
    purging, remove their files) for the duration of the block."""
    token = _MAINTENANCE.set(frozenset(fields_))
    try:
        yield
    finally:
        _MAINTENANCE.reset(token)


class HeerosLinkArchiveEntry(models.Model):
    _name = "heeros.link.archive.entry"
    _description = "Archived Link document"
    _order = "id desc"
    _rec_name = "file_name"
    _check_company_auto = True

    message_id = fields.Many2one(
        "heeros.link.message", required=True, index=True, readonly=True, ondelete="restrict", check_company=True
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    direction = fields.Selection(related="message_id.direction", store=True)
    document_type = fields.Selection(related="message_id.document_type")
    file_name = fields.Char(readonly=True)
    size = fields.Integer(readonly=True)
    sha256 = fields.Char("SHA-256", required=True, readonly=True, index=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, ondelete="restrict", check_company=True)
    archived_on = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    retain_until = fields.Date(required=True, readonly=True, index=True)
    previous_id = fields.Many2one("heeros.link.archive.entry", readonly=True, check_company=True)
    chain_hash = fields.Char(
        required=True,
        readonly=True,
        help="SHA-256 over the previous entry's chain hash and this entry's content "
        "hash and metadata: changing or removing any earlier entry breaks every "
        "later one.",
    )
    purged = fields.Boolean(readonly=True, help="Content removed after its retention period; the hash stays.")
    verified_on = fields.Datetime(readonly=True)
    verification = fields.Selection([("ok", "Intact"), ("broken", "Altered or missing")], readonly=True)

    _sql_constraints = [("message_uniq", "unique(message_id)", "A message is archived once.")]

    # ------------------------------------------------------------------
    # immutability
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Entries are made by _archive_messages only (in superuser mode, from
        # the message's own payload), never from values a client sends.
        if not self.env.su:
            raise AccessError(_("Archived documents are created by the Link itself, when a file passes through it."))
        return super().create(vals_list)

    def write(self, vals):
        allowed = _MAINTENANCE.get()
        if not (self.env.su and allowed and set(vals) <= allowed):
            raise UserError(_("Archived documents cannot be changed."))
        return super().write(vals)

    def unlink(self):
        raise UserError(
            _("Archived documents cannot be deleted; they are purged only when their retention period has ended.")
        )

    # ------------------------------------------------------------------
    # creation
    # ------------------------------------------------------------------
    @api.model
    def _retention_years(self, company):
        param = self.env["ir.config_parameter"].sudo().get_param(
            f"heeros_link_archive.retention_years.{company.id}"
        ) or self.env["ir.config_parameter"].sudo().get_param("heeros_link_archive.retention_years")
        return int(param) if param else DEFAULT_RETENTION_YEARS

    @staticmethod
    def _chain(previous_hash, content_hash, company_id, file_name, archived_on):
        text = "|".join([previous_hash, content_hash, str(company_id), file_name or "", archived_on])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @api.model
    def _archive_messages(self, messages):
        """Archive the payload of each message (its own attachment copy: the
        filestore stores the bytes once)."""
        entries = self.browse()
        for company, company_messages in messages.grouped("company_id").items():
            # The chain is per company: concurrent archiving for one company is serialised
            # with an advisory lock (a row lock on the company would also block every insert
            # referencing it).
            self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ARCHIVE_LOCK, company.id])
            previous = self.search([("company_id", "=", company.id)], order="id desc", limit=1)
            years = self._retention_years(company)
            retain = date(fields.Date.today().year, 12, 31) + relativedelta(years=years)
            for message in company_messages:
                source = message.attachment_id.sudo()
                if not source:
                    continue
                now = fields.Datetime.now()
                attachment = (
                    self.env["ir.attachment"]
                    .sudo()
                    .create(
                        {
                            "name": source.name,
                            "raw": source.raw,
                            "mimetype": source.mimetype,
                            "res_model": self._name,
                            "company_id": company.id,
                        }
                    )
                )
                entry = self.sudo().create(
                    {
                        "message_id": message.id,
                        "company_id": company.id,
                        "file_name": message.file_name,
                        "size": message.size,
                        "sha256": message.sha256,
                        "attachment_id": attachment.id,
                        "archived_on": now,
                        "retain_until": retain,
                        "previous_id": previous.id,
                        "chain_hash": self._chain(
                            previous.chain_hash or GENESIS,
                            message.sha256,
                            company.id,
                            message.file_name,
                            fields.Datetime.to_string(now),
                        ),
                    }
                )
                attachment.res_id = entry.id
                previous = entry
                entries |= entry
        return entries

    # ------------------------------------------------------------------
    # verification, export, retention
    # ------------------------------------------------------------------
    def _verify(self):
        """Recompute content hashes and the chain; returns the broken entries."""
        broken = self.browse()
        for entry in self.sorted("id"):
            ok = True
            if not entry.purged:
                # an empty file is stored as no file at all: its content is b""
                raw = (entry.attachment_id.sudo().raw or b"") if entry.attachment_id else None
                ok = raw is not None and hashlib.sha256(raw).hexdigest() == entry.sha256
            previous_hash = entry.previous_id.chain_hash or GENESIS
            expected = self._chain(
                previous_hash,
                entry.sha256,
                entry.company_id.id,
                entry.file_name,
                fields.Datetime.to_string(entry.archived_on),
            )
            ok = ok and expected == entry.chain_hash
            with _maintenance(_VERIFY_FIELDS):
                entry.sudo().write({"verified_on": fields.Datetime.now(), "verification": "ok" if ok else "broken"})
            if not ok:
                broken |= entry
        return broken

    def action_verify(self):
        entries = self or self.search([])
        broken = entries._verify()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Archive verification"),
                "message": _("%(n)s document(s) checked, all intact.", n=len(entries))
                if not broken
                else _(
                    "%(b)s of %(n)s document(s) altered or missing: %(names)s",
                    b=len(broken),
                    n=len(entries),
                    names=", ".join(broken.mapped("file_name")[:10]),
                ),
                "type": "success" if not broken else "danger",
                "sticky": bool(broken),
            },
        }

    def _export_member_name(self):
        """The entry's path inside the auditor ZIP: its company, its id and a
        safe form of its file name (never the name as received, which may
        hold ``..``, slashes or control characters)."""
        self.ensure_one()
        return f"{self.company_id.id}/{safe_name(f'{self.id:08d}-{safe_name(self.file_name)}')}"

    def _export_zip(self):
        """A ZIP for an auditor: every document, a CSV index and a JSON
        manifest with hashes, so the auditor can check them independently.
        ``file`` is the document's member in the ZIP, ``file_name`` the name
        it arrived or left with."""
        buffer = io.BytesIO()
        index = io.StringIO()
        writer = csv.writer(index)
        columns = [
            "id",
            "company",
            "direction",
            "type",
            "file",
            "sha256",
            "archived_on",
            "retain_until",
            "chain_hash",
            "message",
            "file_name",
        ]
        writer.writerow(columns)
        manifest = []
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in self.sorted("id"):
                path = entry._export_member_name()
                if not entry.purged and entry.attachment_id:
                    archive.writestr(path, entry.attachment_id.sudo().raw)
                row = [
                    entry.id,
                    entry.company_id.name,
                    entry.direction,
                    entry.document_type or "",
                    path,
                    entry.sha256,
                    fields.Datetime.to_string(entry.archived_on),
                    fields.Date.to_string(entry.retain_until),
                    entry.chain_hash,
                    entry.message_id.name,
                    entry.file_name or "",
                ]
                writer.writerow(row)
                manifest.append(dict(zip(columns, row)))
            archive.writestr("index.csv", index.getvalue())
            archive.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        return buffer.getvalue()

    def action_export(self):
        data = self._export_zip()
        # The export belongs to the user who asked for it, not to an entry: it
        # is not an archived document and must not become one.
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"link-archive-{fields.Date.today()}.zip",
                "raw": data,
                "mimetype": "application/zip",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "download",
        }

    def action_download(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    @api.model
    def _cron_purge(self):
        """Remove the content of documents whose retention period has ended.
        The entry, its hashes and the chain stay: the record of what existed
        remains verifiable."""
        expired = self.sudo().search([("retain_until", "<", fields.Date.today()), ("purged", "=", False)])
        attachments = expired.attachment_id
        with _maintenance(_PURGE_FIELDS):
            expired.write({"purged": True, "attachment_id": False})
            attachments.sudo().unlink()
        return self.browse(expired.ids)


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    archive_entry_id = fields.One2many("heeros.link.archive.entry", "message_id", readonly=True)

    def _attach_payloads(self, payloads, mimetype=None):
        attachments = super()._attach_payloads(payloads, mimetype)
        self.env["heeros.link.archive.entry"]._archive_messages(self)
        return attachments


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    #: What the Link's own code (in superuser mode) may still change on a
    #: message's payload: its company, when an inbound file is routed.
    _HEEROS_LINK_ROUTABLE = frozenset({"company_id"})

    def _heeros_link_archived(self):
        return self.filtered(lambda a: a.res_model == "heeros.link.archive.entry" and a.res_id)

    def _heeros_link_payloads(self):
        return self.filtered(lambda a: a.res_model == "heeros.link.message" and a.res_id)

    def write(self, vals):
        # Nothing of an archived file changes (not even where it is attached:
        # moving it away first would lift the protection); a message's payload
        # changes only its company, by the Link itself.
        # A write that changes nothing (Odoo moving files between database and
        # filestore rewrites the same bytes) is let through.
        if self._heeros_link_archived() or (
            self._heeros_link_payloads() and not (self.env.su and set(vals) <= self._HEEROS_LINK_ROUTABLE)
        ):
            if not self._heeros_link_unchanged_by(vals):
                raise UserError(_("Files of the Link and of its archive cannot be changed."))
        return super().write(vals)

    def _heeros_link_unchanged_by(self, vals):
        if not set(vals) <= {"raw", "datas", "mimetype", "name"}:
            return False
        for attachment in self.sudo():
            for name, value in vals.items():
                current = attachment[name]
                if name == "raw":
                    value = value.encode() if isinstance(value, str) else value
                elif name == "datas":
                    current = current.decode() if isinstance(current, bytes) else current
                    value = value.decode() if isinstance(value, bytes) else value
                if (current or False) != (value or False):
                    return False
        return True

    def unlink(self):
        if self._heeros_link_archived() and not (self.env.su and _MAINTENANCE.get() == _PURGE_FIELDS):
            raise UserError(_("Files of the Link archive cannot be deleted."))
        return super().unlink()
