import csv
import hashlib
import io
import json
import os
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.channels.names import safe_name
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

#: Finnish Accounting Act (kirjanpitolaki 2:10): books and the balance sheet
#: specification 10 years, vouchers (invoices, statements, payment material)
#: 6 years, counted from the end of the financial year.
RETENTION_CLASSES = {"book": 10, "voucher": 6}
GENESIS = "0" * 64
#: First key of the advisory lock serialising each company's archive chain.
ARCHIVE_LOCK = 0x4C494E4B  # "LINK"
#: Version of the chain formula written on new entries (entries without one
#: were chained with the first, shorter formula).
CHAIN_VERSION = 2
#: The PostgreSQL setting the database triggers accept as "recorded disposal
#: in progress". Only :meth:`HeerosLinkArchiveEntry._heeros_link_dispose` sets
#: it, with ``set_config(..., true)`` (local to the transaction), and clears it
#: again before returning; no RPC path executes SQL a client chooses.
DISPOSAL_SETTING = "heeros_link_archive.disposal"
ENTRY_TABLE = "heeros_link_archive_entry"
#: Columns of an entry that may change after it was written: the legal hold,
#: and, during a recorded disposal only, the disposal's own marks.
HOLD_COLUMNS = ("legal_hold", "write_uid", "write_date")
DISPOSAL_COLUMNS = ("purged", "attachment_id", "disposal_id")

#: Set only while the archive's own server-side code changes an entry. It
#: lives in the Python process, not in the request's context, so nothing a
#: client sends can set it.
_MAINTENANCE = ContextVar("heeros_link_archive_maintenance", default=frozenset())
_HOLD_FIELDS = frozenset({"legal_hold"})
_DISPOSAL_FIELDS = frozenset(DISPOSAL_COLUMNS)


@contextmanager
def _maintenance(fields_):
    """Let the archive's own code change ``fields_`` of entries (and, when
    disposing, remove their files) for the duration of the block."""
    token = _MAINTENANCE.set(frozenset(fields_))
    try:
        yield
    finally:
        _MAINTENANCE.reset(token)


#: The database's own guard. Every column of an entry is immutable except the
#: ones named above, so a column added later by another addon is protected
#: too; such a column must not fill existing rows (no default), or its
#: migration disables the trigger while it does.
TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION heeros_link_archive_disposing() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('{setting}', true), '') = 'on'
$$;

CREATE OR REPLACE FUNCTION heeros_link_archive_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    free text[] := ARRAY[{hold}];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'heeros_link_archive: archived document % cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF heeros_link_archive_disposing() THEN
        free := free || ARRAY[{disposal}];
    END IF;
    IF (to_jsonb(OLD) - free) IS DISTINCT FROM (to_jsonb(NEW) - free) THEN
        RAISE EXCEPTION 'heeros_link_archive: archived document % cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS heeros_link_archive_entry_guard ON {table};
CREATE TRIGGER heeros_link_archive_entry_guard BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION heeros_link_archive_entry_guard();

CREATE OR REPLACE FUNCTION heeros_link_archive_file_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.res_model IS DISTINCT FROM 'heeros.link.archive.entry' OR coalesce(OLD.res_id, 0) = 0
            OR heeros_link_archive_disposing() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'heeros_link_archive: archived file % cannot be deleted', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- moving the bytes between database and filestore keeps their checksum
    IF (OLD.res_model, OLD.res_id, OLD.company_id, OLD.checksum, OLD.file_size, OLD.name, OLD.mimetype)
            IS DISTINCT FROM
       (NEW.res_model, NEW.res_id, NEW.company_id, NEW.checksum, NEW.file_size, NEW.name, NEW.mimetype) THEN
        RAISE EXCEPTION 'heeros_link_archive: archived file % cannot be changed', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS heeros_link_archive_file_guard ON ir_attachment;
CREATE TRIGGER heeros_link_archive_file_guard BEFORE UPDATE OR DELETE ON ir_attachment
    FOR EACH ROW EXECUTE FUNCTION heeros_link_archive_file_guard();

CREATE OR REPLACE FUNCTION heeros_link_archive_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'heeros_link_archive: % rows are written once and never changed', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS heeros_link_archive_append_only ON %(table)s;
CREATE TRIGGER heeros_link_archive_append_only BEFORE UPDATE OR DELETE ON %(table)s
    FOR EACH ROW EXECUTE FUNCTION heeros_link_archive_append_only();
"""


def _quoted(columns):
    return ", ".join(f"'{c}'" for c in columns)


#: Built from this module's constants only.
_TRIGGERS = TRIGGERS_SQL.format(
    setting=DISPOSAL_SETTING, table=ENTRY_TABLE, hold=_quoted(HOLD_COLUMNS), disposal=_quoted(DISPOSAL_COLUMNS)
)


class HeerosLinkArchiveEntry(models.Model):
    _name = "heeros.link.archive.entry"
    _description = "Archived Link document"
    _order = "id desc"
    _rec_name = "file_name"
    _check_company_auto = True

    message_id = fields.Many2one(
        "heeros.link.message", index=True, readonly=True, ondelete="restrict", check_company=True
    )
    kind = fields.Selection(
        [("payload", "Link message payload"), ("pdf", "Invoice PDF"), ("document", "Other document")],
        required=True,
        default="payload",
        readonly=True,
    )
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    direction = fields.Selection([("in", "Inbound"), ("out", "Outbound")], readonly=True)
    document_type = fields.Char(readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", "Counterparty", readonly=True, index=True)
    document_number = fields.Char(readonly=True, index="trigram")
    document_date = fields.Date(readonly=True, index=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", readonly=True)
    res_model = fields.Char("Business record model", readonly=True)
    res_id = fields.Many2oneReference("Business record", model_field="res_model", readonly=True)
    file_name = fields.Char(readonly=True)
    mimetype = fields.Char("MIME type", readonly=True)
    size = fields.Integer(readonly=True)
    sha256 = fields.Char("SHA-256", required=True, readonly=True, index=True)
    attachment_id = fields.Many2one("ir.attachment", readonly=True, ondelete="restrict", check_company=True)
    archived_on = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    retention_class = fields.Selection([("book", "Books (10 years)"), ("voucher", "Vouchers (6 years)")], readonly=True)
    retain_until = fields.Date(required=True, readonly=True, index=True)
    previous_id = fields.Many2one("heeros.link.archive.entry", readonly=True, check_company=True)
    chain_version = fields.Integer(readonly=True)
    chain_hash = fields.Char(
        required=True,
        readonly=True,
        help="SHA-256 over the previous entry's chain hash and this entry's content "
        "hash and metadata: changing or removing any earlier entry breaks every "
        "later one.",
    )
    legal_hold = fields.Boolean(readonly=True, help="Kept beyond its retention date until the hold is lifted.")
    on_hold = fields.Boolean(compute="_compute_on_hold", help="Held by itself, by its document type or by its company.")
    purged = fields.Boolean(
        "Disposed", readonly=True, help="Content removed after its retention period; the hash stays."
    )
    disposal_id = fields.Many2one("heeros.link.archive.disposal", readonly=True)

    _sql_constraints = [
        ("message_uniq", "unique(message_id, kind, sha256)", "A document of a message is archived once.")
    ]

    def init(self):
        self.env.cr.execute(_TRIGGERS)

    # ------------------------------------------------------------------
    # immutability
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Entries are made by _heeros_link_archive only (in superuser mode,
        # from the bytes the Link handled), never from values a client sends.
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
            _(
                "Archived documents cannot be deleted; an Archive manager disposes of their "
                "content when the retention period has ended."
            )
        )

    # ------------------------------------------------------------------
    # retention
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_rule(self, company, document_type):
        """The company's rule for ``document_type``, else its rule for every
        type (an empty recordset when it has none)."""
        Rule = self.env["heeros.link.archive.rule"].sudo()
        rules = Rule.search([("company_id", "=", company.id), ("document_type", "in", [document_type or False, False])])
        return (rules.filtered("document_type") or rules)[:1]

    @api.model
    def _heeros_link_default_class(self, document_type, kind):
        """Every document the Link carries is a voucher; books (journals,
        ledgers, balance-sheet specifications) are archived by an action or
        a company rule that says so."""
        return "voucher"

    @api.model
    def _heeros_link_retention(self, company, document_type, kind, on_date, rule=None):
        """``(class, retain until)``: the end of the company's financial year
        containing ``on_date``, plus the class's (or the rule's) years.
        ``rule``: the company's rule for the type, when the caller has it."""
        if rule is None:
            rule = self._heeros_link_rule(company, document_type)
        retention_class = rule.retention_class or self._heeros_link_default_class(document_type, kind)
        years = rule.retention_years or RETENTION_CLASSES[retention_class]
        year_end = company.compute_fiscalyear_dates(on_date)["date_to"]
        return retention_class, year_end + relativedelta(years=years)

    @api.depends("legal_hold", "company_id", "document_type")
    def _compute_on_hold(self):
        rules = (
            self.env["heeros.link.archive.rule"]
            .sudo()
            .search([("company_id", "in", self.company_id.ids), ("legal_hold", "=", True)])
        )
        held = {(r.company_id.id, r.document_type or False) for r in rules}
        for entry in self:
            entry.on_hold = (
                entry.legal_hold
                or (entry.company_id.id, False) in held
                or (entry.company_id.id, entry.document_type or False) in held
            )

    # ------------------------------------------------------------------
    # creation
    # ------------------------------------------------------------------
    @staticmethod
    def _chain(previous_hash, content_hash, company_id, file_name, archived_on, metadata=None):
        parts = [previous_hash, content_hash, str(company_id), file_name or "", archived_on]
        if metadata is not None:
            parts.append(json.dumps(metadata, sort_keys=True, separators=(",", ":"), default=str))
        return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()

    #: The metadata every chained entry commits to (with the fields of
    #: :meth:`_chain`'s own arguments).
    _CHAINED = (
        "message_id",
        "kind",
        "direction",
        "document_type",
        "partner_id",
        "document_number",
        "document_date",
        "amount",
        "currency_id",
        "res_model",
        "res_id",
        "mimetype",
        "size",
        "retention_class",
        "retain_until",
    )

    @classmethod
    def _chain_metadata(cls, values):
        """The chained metadata of ``values`` (a dict read from SQL or built
        at creation) in canonical text form."""
        out = {}
        for name in cls._CHAINED:
            value = values.get(name)
            # NULL, False, 0 and "" are one "no value", however they were read
            if not value:
                value = None
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif name == "amount":
                value = f"{float(value):.2f}"
            out[name] = value
        return out

    @api.model
    def _heeros_link_metadata(self, record):
        """Counterparty, number, date, amount and currency of a business
        record (an invoice, a payment, a statement ...), where it has them."""
        if not record:
            return {}
        record = record.sudo()
        values = {"res_model": record._name, "res_id": record.id}
        for field, names in (
            ("partner_id", ("partner_id", "commercial_partner_id")),
            ("document_number", ("name",)),
            ("document_date", ("invoice_date", "date")),
            ("amount", ("amount_total_signed", "amount_total", "amount")),
            ("currency_id", ("currency_id",)),
        ):
            for name in names:
                if name in record._fields and record[name]:
                    value = record[name]
                    values[field] = value.id if isinstance(value, models.BaseModel) else value
                    break
        if values.get("amount") is not None and "amount_total_signed" in record._fields:
            values["amount"] = abs(values["amount"])
        return values

    @api.model
    def _heeros_link_archive(self, documents):
        """Archive ``documents``: dicts with ``company`` (record), ``data``
        (bytes, stored as they are), ``file_name``, ``mimetype``, and
        optionally ``message``, ``kind``, ``direction``, ``document_type``,
        ``record`` (the business record, for the metadata) and ``metadata``
        (entry values known by the caller: ``document_number``,
        ``document_date``, ``partner_id`` ...). Returns the
        new entries, chained per company in the order given."""
        entries = self.browse()
        by_company = {}
        for document in documents:
            by_company.setdefault(document["company"], []).append(document)
        for company, company_documents in by_company.items():
            # The chain is per company: concurrent archiving for one company is serialised
            # with an advisory lock (a row lock on the company would also block every insert
            # referencing it).
            self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ARCHIVE_LOCK, company.id])
            previous = self.sudo().search([("company_id", "=", company.id)], order="id desc", limit=1)
            rules = {}
            vals_list = [self._heeros_link_entry_vals(company, document, rules) for document in company_documents]
            # the files in one batch, each attached to its entry right after (an unattached
            # file is not yet protected)
            attachments = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    [
                        {
                            "name": vals["file_name"] or "document",
                            "raw": document["data"],
                            "mimetype": vals["mimetype"],
                            "company_id": company.id,
                        }
                        for vals, document in zip(vals_list, company_documents)
                    ]
                )
            )
            company_entries = []
            for vals, attachment in zip(vals_list, attachments):
                vals["attachment_id"] = attachment.id
                vals["previous_id"] = previous.id or False
                vals["chain_hash"] = self._chain(
                    previous.chain_hash or GENESIS,
                    vals["sha256"],
                    company.id,
                    vals["file_name"],
                    fields.Datetime.to_string(vals["archived_on"]),
                    self._chain_metadata(vals),
                )
                previous = self.sudo().create(vals)
                company_entries.append(previous.id)
            self._heeros_link_attach_files(attachments, company_entries)
            entries |= self.browse(company_entries)
        return entries

    def _heeros_link_attach_files(self, attachments, entry_ids):
        """Attach each new file to its entry, in one statement (from then on
        the file is protected, in the ORM and by the database)."""
        if not attachments:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE ir_attachment a SET res_model = %s, res_id = v.entry FROM (VALUES %s) AS v(id, entry) "
                "WHERE a.id = v.id AND a.res_model IS NULL",
                self._name,
                SQL(", ").join(SQL("(%s, %s)", a, e) for a, e in zip(attachments.ids, entry_ids)),
            )
        )
        attachments.invalidate_recordset(["res_model", "res_id"])

    def _heeros_link_entry_vals(self, company, document, rules):
        """The values of the entry of ``document`` but its file and chain;
        ``rules`` caches the company's retention rule per document type."""
        data = document["data"]
        message = document.get("message") or self.env["heeros.link.message"]
        vals = {
            "message_id": message.id or False,
            "kind": document.get("kind") or "payload",
            "company_id": company.id,
            "direction": document.get("direction") or message.direction or False,
            "document_type": document.get("document_type") or message.document_type or False,
            "file_name": document.get("file_name"),
            "mimetype": document.get("mimetype"),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "archived_on": fields.Datetime.now(),
            "chain_version": CHAIN_VERSION,
        }
        vals.update(self._heeros_link_metadata(document.get("record")))
        vals.update(document.get("metadata") or {})
        on_date = vals.get("document_date") or fields.Date.context_today(self)
        if vals["document_type"] not in rules:
            rules[vals["document_type"]] = self._heeros_link_rule(company, vals["document_type"])
        vals["retention_class"], vals["retain_until"] = self._heeros_link_retention(
            company, vals["document_type"], vals["kind"], on_date, rules[vals["document_type"]]
        )
        return vals

    @api.model
    def _archive_messages(self, messages):
        """Archive the payload of each message (its own attachment copy: the
        filestore stores the bytes once), unless that payload is archived
        already."""
        documents = []
        archived = set()
        if messages:
            self.flush_model(["message_id", "kind", "sha256"])
            self.env.cr.execute(
                "SELECT message_id, sha256 FROM heeros_link_archive_entry "
                "WHERE message_id = ANY(%s) AND kind = 'payload'",
                [messages.ids],
            )
            archived = set(self.env.cr.fetchall())
        for message in messages:
            source = message.attachment_id.sudo()
            data = (source.raw or b"") if source else None
            if data is None or (message.id, hashlib.sha256(data).hexdigest()) in archived:
                continue
            documents.append(
                {
                    "company": message.company_id,
                    "message": message,
                    "data": data,
                    "file_name": message.file_name,
                    "mimetype": source.mimetype,
                    "record": message._heeros_link_archive_record(),
                }
            )
        return self._heeros_link_archive(documents)

    # ------------------------------------------------------------------
    # verification
    # ------------------------------------------------------------------
    def action_verify(self):
        companies = self.company_id if self else self.env.companies
        run = self.env["heeros.link.archive.verification"]._heeros_link_run(companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Archive verification"),
                "message": _("%(n)s document(s) checked, all intact.", n=run.entry_count)
                if not run.fault_count
                else _(
                    "%(b)s fault(s) in %(n)s document(s): see the verification run.",
                    b=run.fault_count,
                    n=run.entry_count,
                ),
                "type": "success" if not run.fault_count else "danger",
                "sticky": True,
            },
        }

    def _verify(self):
        """Verify the archives of these entries' companies; returns the
        entries found faulty (an empty recordset when all is intact)."""
        result = self.env["heeros.link.archive.verification"]._heeros_link_check(self.company_id.ids)
        return self.browse(sorted({f["entry"] for f in result["faults"] if f.get("entry")}))

    # ------------------------------------------------------------------
    # export, download
    # ------------------------------------------------------------------
    def _export_member_name(self):
        """The entry's path inside the auditor ZIP: its company, its id and a
        safe form of its file name (never the name as received, which may
        hold ``..``, slashes or control characters)."""
        self.ensure_one()
        return f"{self.company_id.id}/{safe_name(f'{self.id:08d}-{safe_name(self.file_name)}')}"

    _EXPORT_COLUMNS = [
        "id",
        "company",
        "company_id",
        "kind",
        "direction",
        "type",
        "file",
        "file_name",
        "mimetype",
        "size",
        "sha256",
        "archived_on",
        "previous_id",
        "previous_chain_hash",
        "chain_version",
        "chain_hash",
        "message",
        "counterparty",
        "document_number",
        "document_date",
        "amount",
        "currency",
        "retention_class",
        "retain_until",
        "disposed",
        "chained",
    ]

    def _export_row(self):
        self.ensure_one()
        values = {name: self[name] for name in self._CHAINED}
        values = {k: (v.id if isinstance(v, models.BaseModel) else v) for k, v in values.items()}
        return {
            "id": self.id,
            "company": self.company_id.name,
            "company_id": self.company_id.id,
            "kind": self.kind,
            "direction": self.direction or "",
            "type": self.document_type or "",
            "file": "" if self.purged else self._export_member_name(),
            "file_name": self.file_name or "",
            "mimetype": self.mimetype or "",
            "size": self.size,
            "sha256": self.sha256,
            "archived_on": fields.Datetime.to_string(self.archived_on),
            "previous_id": self.previous_id.id,
            "previous_chain_hash": self.previous_id.chain_hash or GENESIS,
            "chain_version": self.chain_version or 1,
            "chain_hash": self.chain_hash,
            "message": self.message_id.name or "",
            "counterparty": self.partner_id.display_name or "",
            "document_number": self.document_number or "",
            "document_date": fields.Date.to_string(self.document_date) or "",
            "amount": "" if not self.currency_id else f"{self.amount:.2f}",
            "currency": self.currency_id.name or "",
            "retention_class": self.retention_class or "",
            "retain_until": fields.Date.to_string(self.retain_until),
            "disposed": self.purged,
            "chained": self._chain_metadata(values) if self.chain_version else None,
        }

    def _export_zip(self):
        """A ZIP for an auditor: every document, a manifest (CSV and JSON)
        with every metadata field and hash, the latest checkpoint of each
        company and a README telling how to verify it without Odoo."""
        buffer = io.BytesIO()
        index = io.StringIO()
        writer = csv.DictWriter(index, self._EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        manifest = []
        Checkpoint = self.env["heeros.link.archive.checkpoint"].sudo()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in self.sorted("id"):
                row = entry._export_row()
                if row["file"]:
                    archive.writestr(row["file"], entry.attachment_id.sudo().raw or b"")
                writer.writerow(row)
                manifest.append(row)
            checkpoints = [
                Checkpoint._heeros_link_latest(company)._heeros_link_as_dict() for company in self.company_id
            ]
            archive.writestr("index.csv", index.getvalue())
            archive.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
            archive.writestr("checkpoints.json", json.dumps([c for c in checkpoints if c], indent=1))
            archive.writestr("checkpoint_public_key.pem", Checkpoint._heeros_link_public_key_pem())
            archive.writestr("README.txt", self._heeros_link_export_readme())
        return buffer.getvalue()

    @api.model
    def _heeros_link_export_readme(self):
        path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "export_readme.txt")
        with open(path, encoding="utf-8") as readme:
            return readme.read()

    @api.model
    def _heeros_link_export_range(self, company, date_from=None, date_to=None):
        """The entries of ``company`` archived between the two dates
        (inclusive), for the auditor export."""
        domain = [("company_id", "=", company.id)]
        if date_from:
            domain.append(("archived_on", ">=", fields.Datetime.to_datetime(date_from)))
        if date_to:
            domain.append(("archived_on", "<", fields.Datetime.to_datetime(date_to) + relativedelta(days=1)))
        return self.search(domain, order="id")

    def action_export(self):
        if not self:
            # nothing selected: choose the company and period in the export dialog
            return self.env["ir.actions.act_window"]._for_xml_id(
                "heeros_link_archive.heeros_link_archive_export_action"
            )
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
        if self.purged or not self.attachment_id:
            raise UserError(_("The content of this document was disposed of after its retention period."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    def action_preview(self):
        self.ensure_one()
        if self.purged or not self.attachment_id:
            raise UserError(_("The content of this document was disposed of after its retention period."))
        return {"type": "ir.actions.act_url", "url": f"/web/content/{self.attachment_id.id}", "target": "new"}

    # ------------------------------------------------------------------
    # legal hold and disposal (Archive managers only)
    # ------------------------------------------------------------------
    def _heeros_link_check_archive_manager(self):
        if not self.env.user.has_group("heeros_link_archive.group_archive_manager"):
            raise AccessError(_("Only an Archive manager places legal holds and disposes of archived documents."))

    def _heeros_link_set_hold(self, hold):
        self._heeros_link_check_archive_manager()
        entries = self.sudo()
        with _maintenance(_HOLD_FIELDS):
            entries.write({"legal_hold": hold})
        return True

    def action_legal_hold(self):
        return self._heeros_link_set_hold(True)

    def action_release_hold(self):
        return self._heeros_link_set_hold(False)

    def _heeros_link_disposable(self):
        today = fields.Date.context_today(self)
        # holds come from rules too, which may have changed since it was read
        self.invalidate_recordset(["on_hold"])
        return self.filtered(lambda e: not e.purged and e.retain_until < today and not e.on_hold)

    def action_dispose(self):
        """Dispose of the content of the selected entries whose retention has
        ended and that are not on hold; an Archive manager only."""
        self._heeros_link_check_archive_manager()
        disposal = self._heeros_link_dispose(_("Disposed of by %s", self.env.user.name))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Archive disposal"),
                "message": _("%(n)s document(s) disposed of.", n=len(disposal.entry_ids)),
                "type": "success",
            },
        }

    def _heeros_link_dispose(self, note):
        """The one recorded path that removes archived bytes: a disposal
        record, then the entries' files, with the database's guard relaxed
        for this transaction only while it runs. The hashes and the chain
        stay, so verification remains green."""
        self._heeros_link_check_archive_manager()
        entries = self.sudo()._heeros_link_disposable()
        disposal = (
            self.env["heeros.link.archive.disposal"]
            .sudo()
            .create(
                {
                    "user_id": self.env.user.id,
                    "note": note,
                    "entry_ids": [(6, 0, entries.ids)],
                    "entry_count": len(entries),
                }
            )
        )
        if not entries:
            return disposal
        attachments = entries.attachment_id
        self.env.flush_all()
        self.env.cr.execute("SELECT set_config(%s, 'on', true)", [DISPOSAL_SETTING])
        try:
            with _maintenance(_DISPOSAL_FIELDS):
                entries.write({"purged": True, "attachment_id": False, "disposal_id": disposal.id})
                attachments.sudo().unlink()
                self.env.flush_all()
        finally:
            self.env.cr.execute("SELECT set_config(%s, 'off', true)", [DISPOSAL_SETTING])
        return disposal


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    archive_entry_id = fields.One2many("heeros.link.archive.entry", "message_id", readonly=True)

    def _heeros_link_archive_record(self):
        """The business record whose metadata describes this message's
        payload (the first one it came from or produced)."""
        self.ensure_one()
        # archiving is the system's own act: it reads what the message made
        # whatever the company the current user has selected
        link = self.sudo().link_ids[:1]
        return self.env[link.res_model].sudo().browse(link.res_id) if link and link.res_model in self.env else None

    @api.model
    def _heeros_link_archive_final_states(self):
        """``{direction: states}`` in which a message's payload is final and
        archived: an outbound file once it has been sent (the bytes as they
        left), an inbound one once it has been processed (with the business
        record it produced, whose number, counterparty and amount describe
        it). A payload that changes and reaches a final state again (a
        rejected file corrected and sent anew) is archived again."""
        return {"out": ("sent", "accepted"), "in": ("processed",)}

    def _link_state_changed(self, state):
        super()._link_state_changed(state)
        final = self._heeros_link_archive_final_states()
        done = self.filtered(lambda m: state in final.get(m.direction, ()))
        if done:
            self.env["heeros.link.archive.entry"].sudo()._archive_messages(done.sudo())
        if state == "sent":
            self._heeros_link_archive_sent_pdfs()

    def _heeros_link_archive_sent_pdfs(self):
        """The PDF the customer saw, of every invoice (and reminder) a sent
        outbound message carried."""
        Entry = self.env["heeros.link.archive.entry"]
        documents = []
        for message in self.filtered(lambda m: m.direction == "out"):
            for link in message.link_ids.filtered(lambda rec: rec.res_model == "account.move"):
                move = self.env["account.move"].sudo().browse(link.res_id).exists()
                pdf = move.invoice_pdf_report_id if move else None
                if not pdf or Entry.sudo().search_count(
                    [
                        ("message_id", "=", message.id),
                        ("kind", "=", "pdf"),
                        ("sha256", "=", hashlib.sha256(pdf.raw or b"").hexdigest()),
                    ]
                ):
                    continue
                documents.append(
                    {
                        "company": message.company_id,
                        "message": message,
                        "data": pdf.raw or b"",
                        "file_name": pdf.name,
                        "mimetype": pdf.mimetype or "application/pdf",
                        "kind": "pdf",
                        "record": move,
                    }
                )
        return Entry._heeros_link_archive(documents)


class AccountMove(models.Model):
    _inherit = "account.move"

    def action_heeros_link_archive_documents(self):
        """Archive the files attached to these invoices and bills (a vendor
        bill's scan, a statement's PDF ...) with the record's metadata; a
        file already archived for the same record is not archived again."""
        self.check_access("read")
        entries = self._heeros_link_archive_attached_documents()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Electronic archive"),
                "message": _("%(n)s document(s) archived.", n=len(entries)),
                "type": "success",
            },
        }

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted._heeros_link_archive_on_post()
        return posted

    def _heeros_link_archive_on_post(self):
        """Hook: the documents attached to vendor bills (and refunds) of the
        companies that archive them on posting (the company setting *Archive
        vendor bills' documents when posted*)."""
        bills = self.filtered(
            lambda m: m.company_id.heeros_link_archive_bill_documents and m.is_purchase_document(include_receipts=True)
        )
        if bills:
            bills._heeros_link_archive_attached_documents()

    def _heeros_link_archive_attached_documents(self):
        """The archive entries made of the files attached to these moves."""
        Entry = self.env["heeros.link.archive.entry"].sudo()
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "in", self.ids), ("res_field", "=", False)], order="id")
        )
        documents = []
        for attachment in attachments:
            move = self.browse(attachment.res_id)
            data = attachment.raw or b""
            digest = hashlib.sha256(data).hexdigest()
            if Entry.search_count(
                [("res_model", "=", self._name), ("res_id", "=", move.id), ("sha256", "=", digest)], limit=1
            ):
                continue
            documents.append(
                {
                    "company": move.company_id,
                    "data": data,
                    "file_name": attachment.name,
                    "mimetype": attachment.mimetype,
                    "kind": "document",
                    "record": move,
                    "document_type": f"account.move.{move.move_type}",
                    "direction": "in" if move.is_purchase_document(include_receipts=True) else "out",
                }
            )
        return Entry._heeros_link_archive(documents)


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
        if self._heeros_link_archived() and not (self.env.su and _MAINTENANCE.get() == _DISPOSAL_FIELDS):
            raise UserError(_("Files of the Link archive cannot be deleted."))
        return super().unlink()
