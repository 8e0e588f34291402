import base64
import hashlib
import json
import logging

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, config

from .archive_entry import APPEND_ONLY_SQL, CHAIN_VERSION, GENESIS

_logger = logging.getLogger(__name__)
READ_CHUNK = 1 << 20


class AppendOnly(models.AbstractModel):
    """Records written once by the archive's own code and never changed, in
    the ORM and in the database."""

    _name = "heeros.link.archive.append.only"
    _description = "Append-only archive record"

    def init(self):
        if self._abstract:
            return
        self.env.cr.execute(SQL(APPEND_ONLY_SQL, table=SQL.identifier(self._table)))

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(_("This record is written by the archive itself."))
        return super().create(vals_list)

    def write(self, vals):
        raise AccessError(_("Records of the archive are never changed."))

    def unlink(self):
        raise AccessError(_("Records of the archive are never deleted."))


#: The system parameter holding the checkpoints' Ed25519 signing key (PEM),
#: made on first use; system parameters are readable by administrators only.
SIGNING_KEY_PARAM = "heeros_link_archive.checkpoint_signing_key"
#: The Odoo configuration option naming a PEM file that holds the key
#: instead (outside the database, readable by the server's system user only).
SIGNING_KEY_OPTION = "heeros_link_archive_signing_key"
#: What a checkpoint's signature covers: this prefix and its checkpoint hash.
SIGNED_PREFIX = "heeros-link-archive-checkpoint-v1|"


def signed_text(checkpoint_hash):
    """The bytes a checkpoint's Ed25519 signature is made over."""
    return f"{SIGNED_PREFIX}{checkpoint_hash}".encode()


def public_key_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(public_key):
    """First 16 hex digits of the SHA-256 of the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class HeerosLinkArchiveCheckpoint(models.Model):
    _name = "heeros.link.archive.checkpoint"
    _inherit = ["heeros.link.archive.append.only"]
    _description = "Archive chain checkpoint"
    _order = "id desc"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    head_entry_id = fields.Integer("Newest entry", readonly=True)
    head_hash = fields.Char("Head chain hash", readonly=True)
    entry_count = fields.Integer("Entries", readonly=True)
    taken_on = fields.Datetime(required=True, readonly=True)
    previous_hash = fields.Char(readonly=True)
    checkpoint_hash = fields.Char(
        required=True, readonly=True, help="SHA-256 over the previous checkpoint's hash and this one's values."
    )
    exported = fields.Char("Exported as", readonly=True)
    signature = fields.Char(
        readonly=True, help="Ed25519 signature (base64) of the checkpoint hash, by the archive's signing key."
    )
    key_id = fields.Char("Signing key", readonly=True, help="Fingerprint of the public key that verifies it.")

    def init(self):
        super().init()
        self._heeros_link_signing_key()

    # ------------------------------------------------------------------
    # signing key (server side only: never read through a client's call)
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_signing_key(self):
        """The Ed25519 private key that signs checkpoints: the PEM file named
        by the server's configuration option, else the key kept as a system
        parameter (made on first use)."""
        path = config.get(SIGNING_KEY_OPTION)
        if path:
            with open(path, "rb") as pem:
                return serialization.load_pem_private_key(pem.read(), password=None)
        Param = self.env["ir.config_parameter"].sudo()
        pem = Param.get_param(SIGNING_KEY_PARAM)
        if not pem:
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            Param.set_param(SIGNING_KEY_PARAM, pem)
            return key
        return serialization.load_pem_private_key(pem.encode(), password=None)

    @api.model
    def _heeros_link_public_key(self):
        return self._heeros_link_signing_key().public_key()

    @api.model
    def _heeros_link_public_key_pem(self):
        """The public key that verifies the checkpoints (for auditors)."""
        return public_key_pem(self._heeros_link_public_key())

    @api.model
    def _heeros_link_sign(self, checkpoint_hash):
        """``(signature in base64, key id)`` of a checkpoint hash."""
        key = self._heeros_link_signing_key()
        signature = key.sign(signed_text(checkpoint_hash))
        return base64.b64encode(signature).decode(), key_id(key.public_key())

    def _heeros_link_signature_fault(self, public_key=None):
        """Why this checkpoint's signature does not hold (a text), or None."""
        self.ensure_one()
        public_key = public_key or self._heeros_link_public_key()
        if not self.signature:
            return f"checkpoint {self.id} is not signed"
        if self.key_id != key_id(public_key):
            return f"checkpoint {self.id} is signed with another key ({self.key_id}) than the archive's"
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), signed_text(self.checkpoint_hash))
        except (InvalidSignature, ValueError):
            return f"the signature of checkpoint {self.id} does not match it"
        return None

    @staticmethod
    def _heeros_link_hash(previous_hash, company_id, head_entry_id, head_hash, count, taken_on):
        text = "|".join(
            [previous_hash, str(company_id), str(head_entry_id), head_hash or GENESIS, str(count), taken_on]
        )
        return hashlib.sha256(text.encode()).hexdigest()

    @api.model
    def _heeros_link_latest(self, company):
        return self.sudo().search([("company_id", "=", company.id)], order="id desc", limit=1)

    def _heeros_link_as_dict(self):
        if not self:
            return {}
        self.ensure_one()
        return {
            "company_id": self.company_id.id,
            "company": self.company_id.name,
            "head_entry_id": self.head_entry_id,
            "head_hash": self.head_hash,
            "entry_count": self.entry_count,
            "taken_on": fields.Datetime.to_string(self.taken_on),
            "previous_hash": self.previous_hash,
            "checkpoint_hash": self.checkpoint_hash,
            "signature": self.signature or None,
            "key_id": self.key_id or None,
            "signed_text": signed_text(self.checkpoint_hash).decode(),
        }

    @api.model
    def _heeros_link_take(self, company):
        """Record the head of ``company``'s chain: in this table, in the
        company's chatter and, when configured, as a file sent through a Link
        connection."""
        cr = self.env.cr
        cr.execute("SELECT count(*), max(id) FROM heeros_link_archive_entry WHERE company_id = %s", [company.id])
        count, head_id = cr.fetchone()
        head_hash = None
        if head_id:
            cr.execute("SELECT chain_hash FROM heeros_link_archive_entry WHERE id = %s", [head_id])
            head_hash = cr.fetchone()[0]
        previous = self._heeros_link_latest(company)
        taken_on = fields.Datetime.now()
        previous_hash = previous.checkpoint_hash or GENESIS
        values = {
            "company_id": company.id,
            "head_entry_id": head_id or 0,
            "head_hash": head_hash,
            "entry_count": count,
            "taken_on": taken_on,
            "previous_hash": previous_hash,
        }
        values["checkpoint_hash"] = self._heeros_link_hash(
            previous_hash, company.id, head_id or 0, head_hash, count, fields.Datetime.to_string(taken_on)
        )
        values["signature"], values["key_id"] = self._heeros_link_sign(values["checkpoint_hash"])
        values["exported"] = self._heeros_link_export(company, values)
        checkpoint = self.sudo().create(values)
        # in the company's language: its people read the chatter
        in_company_lang = self.with_context(lang=company.partner_id.lang or self.env.lang).env
        company.partner_id.sudo().message_post(
            body=in_company_lang._(
                "Archive checkpoint: %(count)s document(s), newest %(head)s, chain head %(hash)s, checkpoint "
                "%(cp)s, signature %(signature)s (key %(key)s).",
                count=count,
                head=head_id or "-",
                hash=head_hash or "-",
                cp=values["checkpoint_hash"],
                signature=values["signature"],
                key=values["key_id"],
            )
        )
        return checkpoint

    @api.model
    def _heeros_link_export(self, company, values):
        """Send the checkpoint as JSON through the company's checkpoint
        connection; returns the remote name, or an empty value."""
        connection = company.sudo().heeros_link_archive_checkpoint_connection_id
        if not connection:
            return False
        name = f"archive-checkpoint-{company.id}-{fields.Datetime.to_string(values['taken_on'])}.json"
        name = name.replace(" ", "T").replace(":", "")
        payload = dict(
            values,
            taken_on=fields.Datetime.to_string(values["taken_on"]),
            signed_text=signed_text(values["checkpoint_hash"]).decode(),
            public_key=self._heeros_link_public_key_pem(),
        )
        try:
            with connection._channel() as channel:
                return channel.upload(name, json.dumps(payload, sort_keys=True).encode()) or name
        except Exception as exc:  # noqa: BLE001 - a failed export must not lose the checkpoint
            connection._record_failure(exc)
            return _("not exported: %s", exc)

    @api.model
    def _cron_checkpoint(self):
        companies = self.env["res.company"].sudo().search([])
        return self.browse(
            [
                self._heeros_link_take(company).id
                for company in companies
                if self.env["heeros.link.archive.entry"].sudo().search_count([("company_id", "=", company.id)], limit=1)
            ]
        )


class HeerosLinkArchiveVerification(models.Model):
    _name = "heeros.link.archive.verification"
    _inherit = ["heeros.link.archive.append.only"]
    _description = "Archive verification run"
    _order = "id desc"

    started_on = fields.Datetime(required=True, readonly=True)
    finished_on = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    company_ids = fields.Many2many("res.company", readonly=True)
    entry_count = fields.Integer("Entries verified", readonly=True)
    fault_count = fields.Integer("Faults", readonly=True)
    result = fields.Selection([("ok", "Intact"), ("fault", "Faults found")], readonly=True)
    report = fields.Text("Report (JSON)", readonly=True)

    @api.model
    def _heeros_link_run(self, companies):
        started = fields.Datetime.now()
        result = self._heeros_link_check(companies.ids)
        return self.sudo().create(
            {
                "started_on": started,
                "finished_on": fields.Datetime.now(),
                "user_id": self.env.uid,
                "company_ids": [(6, 0, companies.ids)],
                "entry_count": sum(c["entries"] for c in result["companies"]),
                "fault_count": len(result["faults"]),
                "result": "fault" if result["faults"] else "ok",
                "report": json.dumps(result, indent=1),
            }
        )

    def action_heeros_link_verify_now(self):
        """Verify the archives of the active companies from the list of runs."""
        action = self.env["heeros.link.archive.entry"].browse().action_verify()
        # the list of runs shows the new run and its result at once
        action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action

    @api.model
    def _heeros_link_cli(self, company_id=None):
        """What ``odoo-bin link verify-archive`` prints: the verification
        of one company (or all), stored as a run."""
        Company = self.env["res.company"].sudo()
        companies = Company.browse(company_id).exists() if company_id else Company.search([])
        if company_id and not companies:
            return {"error": f"no company with id {company_id}"}
        run = self._heeros_link_run(companies)
        report = json.loads(run.report)
        report["verification_id"] = run.id
        report["entries"] = run.entry_count
        report["result"] = run.result
        return report

    @api.model
    def _cron_verify(self):
        return self._heeros_link_run(self.env["res.company"].sudo().search([]))

    @api.model
    def _heeros_link_check(self, company_ids):
        """Re-read every stored file, recompute every chain link and compare
        each company's chain with its latest checkpoint. Reads below the ORM
        (one query, files read straight from the filestore) so that 100 000
        entries take seconds; writes nothing."""
        cr = self.env.cr
        self.env.flush_all()
        Entry = self.env["heeros.link.archive.entry"]
        cr.execute(
            SQL(
                """
            SELECT e.id, e.company_id, e.sha256, e.chain_hash, e.previous_id, e.file_name, e.archived_on,
                   e.purged, e.chain_version, a.id, a.store_fname, %(chained)s
              FROM heeros_link_archive_entry e
              LEFT JOIN ir_attachment a ON a.id = e.attachment_id
             WHERE e.company_id = ANY(%(companies)s)
          ORDER BY e.company_id, e.id""",
                chained=SQL(", ").join(SQL.identifier("e", name) for name in Entry._CHAINED),
                companies=list(company_ids),
            )
        )
        Attachment = self.env["ir.attachment"].sudo()
        faults, counts = [], {}
        last = {}
        for row in cr.fetchall():
            (
                entry_id,
                company_id,
                sha256,
                chain_hash,
                previous_id,
                file_name,
                archived_on,
                purged,
                version,
                attachment_id,
                store_fname,
            ) = row[:11]
            metadata = dict(zip(Entry._CHAINED, row[11:]))
            counts[company_id] = counts.get(company_id, 0) + 1
            if not purged:
                digest = self._heeros_link_file_digest(Attachment, attachment_id, store_fname)
                if digest != sha256:
                    faults.append(
                        {
                            "company_id": company_id,
                            "entry": entry_id,
                            "check": "bytes",
                            "detail": "file missing" if digest is None else "content hash differs",
                        }
                    )
            previous = last.get(company_id)
            expected_previous = previous[0] if previous else None
            if previous_id != expected_previous:
                faults.append(
                    {
                        "company_id": company_id,
                        "entry": entry_id,
                        "check": "chain",
                        "detail": f"previous entry is {previous_id}, expected {expected_previous}",
                    }
                )
            text_time = fields.Datetime.to_string(archived_on)
            expected = Entry._chain(
                previous[1] if previous else GENESIS,
                sha256,
                company_id,
                file_name,
                text_time,
                Entry._chain_metadata(metadata) if version else None,
            )
            if version and version != CHAIN_VERSION:
                expected = None
            if expected != chain_hash:
                faults.append(
                    {
                        "company_id": company_id,
                        "entry": entry_id,
                        "check": "chain",
                        "detail": "chain hash does not match the entry and its predecessor",
                    }
                )
            last[company_id] = (entry_id, chain_hash, counts[company_id])
        result_companies = []
        Checkpoint = self.env["heeros.link.archive.checkpoint"].sudo()
        for company_id in sorted(company_ids):
            checkpoint = Checkpoint._heeros_link_latest(self.env["res.company"].browse(company_id))
            faults.extend(self._heeros_link_check_checkpoint(checkpoint, company_id))
            result_companies.append(
                {
                    "company_id": company_id,
                    "entries": counts.get(company_id, 0),
                    "checkpoint": checkpoint._heeros_link_as_dict() or None,
                }
            )
        return {"companies": result_companies, "faults": faults}

    @api.model
    def _heeros_link_check_checkpoint(self, checkpoint, company_id):
        if not checkpoint:
            return []
        fault = {"company_id": company_id, "entry": checkpoint.head_entry_id or None, "check": "checkpoint"}
        expected = checkpoint._heeros_link_hash(
            checkpoint.previous_hash,
            company_id,
            checkpoint.head_entry_id,
            checkpoint.head_hash,
            checkpoint.entry_count,
            fields.Datetime.to_string(checkpoint.taken_on),
        )
        if expected != checkpoint.checkpoint_hash:
            return [dict(fault, detail=f"checkpoint {checkpoint.id} does not match its own hash")]
        signature_fault = checkpoint._heeros_link_signature_fault()
        if signature_fault:
            return [dict(fault, detail=signature_fault)]
        cr = self.env.cr
        cr.execute(
            "SELECT chain_hash FROM heeros_link_archive_entry WHERE id = %s AND company_id = %s",
            [checkpoint.head_entry_id, company_id],
        )
        row = cr.fetchone()
        if checkpoint.head_entry_id and not row:
            return [
                dict(fault, detail=f"the newest entry of checkpoint {checkpoint.id} is missing: entries were removed")
            ]
        if checkpoint.head_entry_id and row[0] != checkpoint.head_hash:
            return [
                dict(fault, detail=f"the chain head differs from checkpoint {checkpoint.id}: the chain was rewritten")
            ]
        cr.execute(
            "SELECT count(*) FROM heeros_link_archive_entry WHERE company_id = %s AND id <= %s",
            [company_id, checkpoint.head_entry_id],
        )
        if cr.fetchone()[0] != checkpoint.entry_count:
            return [
                dict(
                    fault, detail=f"checkpoint {checkpoint.id} counted {checkpoint.entry_count} entries up to its head"
                )
            ]
        return []

    @api.model
    def _heeros_link_file_digest(self, Attachment, attachment_id, store_fname):
        """SHA-256 of the stored bytes, read from the file itself; None when
        the file (or its attachment) is missing."""
        if not attachment_id:
            return None
        digest = hashlib.sha256()
        if store_fname:
            try:
                with open(Attachment._full_path(store_fname), "rb") as stored:
                    while chunk := stored.read(READ_CHUNK):
                        digest.update(chunk)
            except OSError:
                return None
            return digest.hexdigest()
        raw = Attachment.browse(attachment_id).raw
        return hashlib.sha256(raw or b"").hexdigest()


class HeerosLinkArchiveDisposal(models.Model):
    _name = "heeros.link.archive.disposal"
    _inherit = ["heeros.link.archive.append.only"]
    _description = "Archive disposal"
    _order = "id desc"

    user_id = fields.Many2one("res.users", "Disposed of by", required=True, readonly=True)
    note = fields.Char(readonly=True)
    entry_ids = fields.Many2many("heeros.link.archive.entry", readonly=True)
    entry_count = fields.Integer("Documents", readonly=True)
    create_date = fields.Datetime("Disposed on", readonly=True)


class HeerosLinkArchiveRule(models.Model):
    _name = "heeros.link.archive.rule"
    _description = "Archive retention rule of a company"
    _order = "company_id, document_type"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    document_type = fields.Char(help="The Link document type (e.g. finvoice, camt.053); empty: every type.")
    retention_class = fields.Selection([("book", "Books (10 years)"), ("voucher", "Vouchers (6 years)")])
    retention_years = fields.Integer(help="Years after the end of the financial year; 0: the class's own.")
    legal_hold = fields.Boolean(help="Nothing this rule covers is disposed of while the hold is on.")
    note = fields.Char()

    _sql_constraints = [("rule_uniq", "unique(company_id, document_type)", "One rule per company and document type.")]

    def _heeros_link_check_archive_manager(self):
        if not self.env.su and not self.env.user.has_group("heeros_link_archive.group_archive_manager"):
            raise AccessError(_("Only an Archive manager changes retention rules and legal holds."))

    @api.model_create_multi
    def create(self, vals_list):
        self._heeros_link_check_archive_manager()
        return super().create(vals_list)

    def write(self, vals):
        self._heeros_link_check_archive_manager()
        return super().write(vals)

    def unlink(self):
        self._heeros_link_check_archive_manager()
        return super().unlink()


class ResCompany(models.Model):
    _inherit = "res.company"

    heeros_link_archive_checkpoint_connection_id = fields.Many2one(
        "heeros.link.connection",
        "Archive checkpoint connection",
        help="The daily archive checkpoint is also sent as a file through this connection, out of reach "
        "of this database.",
    )
    heeros_link_archive_bill_documents = fields.Boolean(
        "Archive vendor bills' documents when posted",
        help="When a vendor bill or refund is posted, the files attached to it (the supplier's PDF, a scan) "
        "are archived with the bill's metadata, as the action Archive attached documents does.",
    )


class HeerosLinkArchiveExport(models.TransientModel):
    _name = "heeros.link.archive.export"
    _description = "Auditor export of the archive"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    date_from = fields.Date("Archived from")
    date_to = fields.Date("Archived until")

    def action_export(self):
        self.ensure_one()
        entries = self.env["heeros.link.archive.entry"]._heeros_link_export_range(
            self.company_id, self.date_from, self.date_to
        )
        return entries.action_export()
