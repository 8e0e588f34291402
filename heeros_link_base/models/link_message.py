import hashlib
import logging
import os
import random
import re
import socket
import time
import traceback
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.translate import LazyTranslate

from ..channels import ChannelError
from ..formats import xmlsafe
from ..formats.errors import DuplicateDocument, LinkFormatError, RoutingError, UnrecognisedDocument
from ..formats.text import join
from ..registry import Outcome, detect
from ..texts import dump, in_lang, is_translatable, render
from .locks import LOCK_DIGEST, LOCK_PROCESS, LOCK_SEND

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

OUT_STATES = [
    ("draft", "Draft"),
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("to_check", "Delivery unknown"),
    ("sent", "Sent"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
]
IN_STATES = [
    ("received", "Received"),
    ("processing", "Processing"),
    ("processed", "Processed"),
    ("duplicate", "Duplicate"),
]
COMMON_STATES = [("error", "Error"), ("cancelled", "Cancelled")]

#: Allowed transitions of the state machine (anything else is a bug).
TRANSITIONS = {
    "draft": {"queued", "cancelled", "error"},
    "queued": {"sending", "cancelled", "error", "queued"},
    "sending": {"sent", "queued", "error", "to_check"},
    "to_check": {"sent", "queued", "cancelled"},
    "sent": {"accepted", "rejected", "error"},
    "accepted": set(),
    "rejected": {"queued"},
    "received": {"processing", "duplicate", "error", "cancelled"},
    "processing": {"processed", "duplicate", "error", "received"},
    "processed": set(),
    "duplicate": {"received"},
    "error": {"queued", "received", "cancelled"},
    "cancelled": {"queued", "received"},
}
MAX_BACKOFF = timedelta(hours=24)
#: Largest payload accepted by default (a camt.053 of 100 000 entries is about 110 MB).
DEFAULT_MAX_SIZE = 256 * 1024 * 1024
#: Conflicts between concurrent workers: roll back and try again.
RETRYABLE_DB_ERRORS = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected, pg_errors.LockNotAvailable)
#: How often a message is tried again after a conflict before it is left for the next run.
CONFLICT_RETRIES = 5


class HeerosLinkMessage(models.Model):
    _name = "heeros.link.message"
    _description = "Link message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False, index="trigram")
    direction = fields.Selection([("in", "Inbound"), ("out", "Outbound")], required=True, readonly=True, index=True)
    document_type = fields.Selection(selection="_selection_document_type", readonly=True, index=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company, tracking=True
    )
    connection_id = fields.Many2one("heeros.link.connection", readonly=True, index=True, ondelete="restrict")
    attachment_id = fields.Many2one(
        "ir.attachment", string="Payload", readonly=True, copy=False, ondelete="restrict", check_company=True
    )
    file_name = fields.Char(readonly=True)
    sha256 = fields.Char("SHA-256", readonly=True, index=True, copy=False)
    size = fields.Integer("Size (bytes)", readonly=True)
    external_ref = fields.Char(
        "External reference",
        index=True,
        readonly=True,
        help="The document's own id: statement id, invoice number, message id.",
    )
    remote_name = fields.Char(readonly=True, copy=False, help="File name on the remote side (outbound: in the outbox).")
    state = fields.Selection(
        OUT_STATES + IN_STATES + COMMON_STATES,
        required=True,
        default="draft",
        readonly=True,
        index=True,
        tracking=True,
        copy=False,
    )
    error = fields.Text(
        "Error as written",
        readonly=True,
        copy=False,
        help="The error in English (as an older version stored it: in the language of whoever processed the file).",
    )
    error_data = fields.Json(readonly=True, copy=False, help="The error's source words and values, see error_text.")
    error_text = fields.Text(
        "Error",
        compute="_compute_error_text",
        search="_search_error_text",
        help="What went wrong, in the reader's language.",
    )
    attempts = fields.Integer(readonly=True, copy=False)
    next_attempt = fields.Datetime(readonly=True, copy=False, index=True)
    last_attempt = fields.Datetime(readonly=True, copy=False)
    processed_date = fields.Datetime(readonly=True, copy=False)
    duplicate_of_id = fields.Many2one("heeros.link.message", readonly=True, copy=False, check_company=False)
    parent_id = fields.Many2one(
        "heeros.link.message",
        "Related message",
        readonly=True,
        index="btree_not_null",
        check_company=False,
        help="The message this one answers or copies (e.g. feedback to a payment batch, a forwarded statement).",
    )
    child_ids = fields.One2many("heeros.link.message", "parent_id", "Related messages")
    link_ids = fields.One2many("heeros.link.message.link", "message_id", "Records", readonly=True)
    record_count = fields.Integer(compute="_compute_record_count")
    send_stage = fields.Selection(
        [("staging", "Writing the temporary file"), ("staged", "Temporary file written, moving into place")],
        readonly=True,
        copy=False,
        help="How far the current upload got; after an interruption it tells whether the file "
        "can already have reached the remote side.",
    )
    send_worker = fields.Char(
        readonly=True, copy=False, help="Host and process that sends (or last sent) this message."
    )

    _sql_constraints = [
        ("name_uniq", "unique(name)", "A Link message reference must be unique."),
    ]

    def init(self):
        tools.create_index(
            self.env.cr, "heeros_link_message_dedupe_idx", self._table, ["sha256", "company_id", "state"]
        )

    # ------------------------------------------------------------------
    # document type registry
    # ------------------------------------------------------------------
    @api.model
    def _link_document_types(self):
        """``{code: DocumentType}`` of every type the installed addons handle.

        Addons extend this with ``super()`` (see ``heeros_link_base.registry``).
        The base addon itself handles nothing.
        """
        return {}

    @api.model
    def _selection_document_type(self):
        types = self._link_document_types()
        lang = self.env.lang or "en_US"
        labels = [(t.code, in_lang(t.label, lang)) for t in types.values()]
        return sorted(labels, key=lambda s: s[1]) + [("unknown", self.env._("Unrecognised"))]

    # ------------------------------------------------------------------
    # basics
    # ------------------------------------------------------------------
    #: The only fields a user may change himself: following a message and
    #: planning activities on it. State, payload, links and everything else
    #: are written by the Link's own methods, in superuser mode.
    _LINK_USER_WRITABLE = frozenset({"message_follower_ids", "message_partner_ids", "activity_ids"})

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                _(
                    "Link messages are created by the Link itself: import files with Import files, "
                    "or send documents from the records they belong to."
                )
            )
        # Defaults sent in a caller's context never reach a message.
        self = self.with_context(
            {key: value for key, value in self.env.context.items() if not key.startswith("default_")}
        )
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].sudo().next_by_code("heeros.link.message") or "/"
            self._link_store_error(vals)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and set(vals) - self._LINK_USER_WRITABLE:
            raise AccessError(
                _(
                    "Link messages change only through their actions (Reprocess, Retry, Cancel); "
                    "%(fields)s cannot be written.",
                    fields=", ".join(sorted(set(vals) - self._LINK_USER_WRITABLE)),
                )
            )
        self._link_store_error(vals)
        return super().write(vals)

    @api.model
    def _link_store_error(self, vals):
        """An ``error`` written as a translatable text (``_lt``, a format's
        Text) is stored as its source words and values (``error_data``) and,
        in ``error``, in English; a plain string as it is."""
        if "error" not in vals:
            return
        error = vals["error"]
        if is_translatable(error):
            vals["error_data"] = dump(error)
            vals["error"] = render(vals["error_data"], "en_US")
        else:
            vals["error_data"] = False

    @api.depends("error", "error_data")
    @api.depends_context("lang")
    def _compute_error_text(self):
        lang = self.env.lang or "en_US"
        for message in self:
            message.error_text = render(message.error_data, lang) if message.error_data else message.error

    def _search_error_text(self, operator, value):
        return [("error", operator, value)]

    def _link_lang(self):
        """The language of this message's company (its partner's), in which
        the Link writes its chatter entries and runs the handlers: what they
        write is read by the company's people. The current language when the
        company's is not installed."""
        self.ensure_one()
        lang = self.company_id.partner_id.lang
        if lang and lang in dict(self.env["res.lang"].get_installed()):
            return lang
        return self.env.lang or "en_US"

    def _link_post(self, body, to_html=False):
        """Post ``body`` (a plain or translatable text; ``to_html``: turn
        its lines into HTML paragraphs) on each message's chatter, in the
        language of its company."""
        for message in self:
            text = in_lang(body, message._link_lang())
            message.message_post(body=tools.plaintext2html(text) if to_html else text)

    def _link_check_user_access(self):
        """Actions a user starts act on his messages only: the record rules
        are checked explicitly before the Link's own code takes over."""
        if not self.env.su:
            self.check_access("write")

    def _compute_record_count(self):
        for message in self:
            message.record_count = len(message.link_ids)

    @api.constrains("company_id", "connection_id")
    def _check_connection_company(self):
        for message in self:
            connection = message.connection_id
            if connection and message.company_id not in connection.company_ids:
                raise ValidationError(
                    _(
                        "Message %(msg)s belongs to %(company)s, which connection %(conn)s does not serve.",
                        msg=message.name,
                        company=message.company_id.name,
                        conn=connection.name,
                    )
                )

    def _set_state(self, state, **vals):
        for message in self:
            if state != message.state and state not in TRANSITIONS[message.state]:
                raise UserError(
                    _(
                        "Message %(msg)s cannot go from %(old)s to %(new)s.",
                        msg=message.name,
                        old=message.state,
                        new=state,
                    )
                )
        vals["state"] = state
        self.sudo().write(vals)
        self._link_state_changed(state)

    def _link_state_changed(self, state):
        """Hook called after these messages entered ``state`` (addons react to
        delivery failures, acceptance, ...). Does nothing in the core."""

    @api.model
    def _link_commit(self):
        """Commit now, except inside tests (which roll back), test-mode
        registries and while modules are being loaded (the loader owns the
        transaction: demo data fetches its example files). Used between
        messages so one message's outcome is durable before the next starts,
        and before a remote side effect."""
        if not self._link_can_commit():
            return
        # one durable outcome per message
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _payload(self):
        self.ensure_one()
        if not self.attachment_id:
            return b""
        return self.attachment_id.sudo().raw or b""

    def _attach_payload(self, data, file_name, mimetype=None):
        self.ensure_one()
        if file_name:
            self.sudo().file_name = file_name
        return self._attach_payloads([data], mimetype)

    def _attach_payloads(self, payloads, mimetype=None):
        """Store one payload per message (same order) as attachments, in one batch."""
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": message.file_name or message.name,
                        "raw": data,
                        "res_model": self._name,
                        "res_id": message.id,
                        "company_id": message.company_id.id,
                        "mimetype": mimetype
                        or ("application/xml" if data.lstrip()[:1] == b"<" else "application/octet-stream"),
                    }
                    for message, data in zip(self, payloads)
                ]
            )
        )
        for message, attachment, data in zip(self, attachments, payloads):
            message.sudo().write(
                {
                    "attachment_id": attachment.id,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                }
            )
        return attachments

    def _link_records(self, records, role="result"):
        """Remember which business records this message produced or came from."""
        Link = self.env["heeros.link.message.link"].sudo()
        records = list(records)
        models_ = list({record._name for record in records})
        for message in self:
            Link.flush_model(["message_id", "res_model", "res_id"])
            self.env.cr.execute(
                "SELECT res_model, res_id FROM heeros_link_message_link WHERE message_id = %s AND res_model = ANY(%s)",
                [message.id, models_],
            )
            existing = set(self.env.cr.fetchall())
            Link.create(
                [
                    {"message_id": message.id, "res_model": record._name, "res_id": record.id, "role": role}
                    for record in records
                    if (record._name, record.id) not in existing
                ]
            )
            message.invalidate_recordset(["link_ids"])

    def _link_new_records(self, model, ids, role="result"):
        """Link records of ``model`` just created for this message, many at
        once (a bank file makes a hundred thousand statement lines): one
        insert, no look-up of existing links."""
        self.ensure_one()
        if not ids:
            return
        self.flush_recordset(["company_id"])
        now, uid = self.env.cr.now(), self.env.uid
        self.env.cr.execute(
            SQL(
                """INSERT INTO heeros_link_message_link
                      (message_id, company_id, res_model, res_id, role, create_uid, create_date, write_uid, write_date)
               SELECT %(message)s, %(company)s, %(model)s, v.id, %(role)s, %(uid)s, %(now)s, %(uid)s, %(now)s
                 FROM unnest(%(ids)s::int[]) AS v(id)""",
                message=self.id,
                company=self.company_id.id or None,
                model=model,
                role=role,
                uid=uid,
                now=now,
                ids=list(ids),
            )
        )
        self.invalidate_recordset(["link_ids"])

    def _linked(self, model, role=None):
        """The records of ``model`` linked to these messages."""
        ids = [link.res_id for link in self.link_ids if link.res_model == model and (role is None or link.role == role)]
        return self.env[model].browse(ids)

    # ------------------------------------------------------------------
    # inbound: intake and processing
    # ------------------------------------------------------------------
    @api.model
    def _link_max_size(self, connection=None):
        if connection and connection.max_file_size:
            return connection.max_file_size
        param = self.env["ir.config_parameter"].sudo().get_param("heeros_link.max_file_size")
        return int(param) if param else DEFAULT_MAX_SIZE

    @api.model
    def _link_oversize(self, file_name, size, limit, connection=None, company=None):
        company = company or (connection.company_id if connection else self.env.company)
        return self.sudo().create(
            {
                "direction": "in",
                "company_id": company.id,
                "connection_id": connection.id if connection else False,
                "file_name": file_name,
                "size": size,
                "state": "error",
                "document_type": "unknown",
                "error": _lt(
                    "%(name)s is %(size)s bytes, more than the limit of %(limit)s bytes. It was "
                    "not stored; raise the limit and fetch or upload it again.",
                    name=file_name,
                    size=size,
                    limit=limit,
                ),
            }
        )

    @api.model
    def _link_intake(self, files, connection=None, company=None, process=True):
        """Store payloads as inbound messages (state ``received``) and, if
        asked, process them. ``files`` is a list of ``(file name, bytes)``.

        The upload wizard, the CLI and the fetch cron all come through here.
        Returns the messages in the order of ``files``.
        """
        company = company or (connection.company_id if connection else self.env.company)
        self._link_check_intake_access(company, connection)
        files = [(self._link_storable_name(name), data) for name, data in files]
        limit = self._link_max_size(connection)
        oversize = {
            i: self._link_oversize(name, len(data), limit, connection, company)
            for i, (name, data) in enumerate(files)
            if limit and len(data) > limit
        }
        stored = [(i, name, data) for i, (name, data) in enumerate(files) if i not in oversize]
        created = self.sudo().create(
            [
                {
                    "direction": "in",
                    "company_id": company.id,
                    "connection_id": connection.id if connection else False,
                    "file_name": name,
                    "state": "received",
                }
                for _i, name, _data in stored
            ]
        )
        created._attach_payloads([data for _i, _name, data in stored])
        by_index = dict(oversize)
        by_index.update({i: message for (i, _n, _d), message in zip(stored, created)})
        messages = self.browse([by_index[i].id for i in range(len(files))])
        if process:
            messages._link_process_or_enqueue()
        return messages

    @api.model
    def _link_storable_name(self, name):
        """A received file's name as the message keeps it for people to read:
        as sent, except characters the database cannot hold (NUL) and beyond
        1 000 characters. It is never used as a path as such."""
        name = str(name or "").replace("\x00", "\ufffd")
        return name[:1000]

    @api.model
    def _link_check_intake_access(self, company, connection=None):
        """A user stores files only for a company he may access, and only
        through a connection he may see."""
        if self.env.su:
            return
        if company not in self.env.user.company_ids:
            raise AccessError(_("You cannot import files for %s: you have no access to that company.", company.name))
        if connection:
            connection.check_access("read")

    # ------------------------------------------------------------------
    # workers: advisory locks, claims, conflicts
    # ------------------------------------------------------------------
    @api.model
    def _link_can_commit(self):
        """Whether :meth:`_link_commit` commits (see there)."""
        return not (tools.config["test_enable"] or self.env.registry.in_test_mode() or not self.env.registry.ready)

    @api.model
    def _link_try_lock(self, space, key):
        """Take the session-level advisory lock ``(space, key)`` if free."""
        self.env.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", [space, key])
        return self.env.cr.fetchone()[0]

    @api.model
    def _link_wait_lock(self, space, key):
        self.env.cr.execute("SELECT pg_advisory_lock(%s, %s)", [space, key])

    @api.model
    def _link_unlock(self, space, key):
        self.env.cr.execute("SELECT pg_advisory_unlock(%s, %s)", [space, key])

    @api.model
    def _link_worker_name(self):
        return f"{socket.gethostname()}:{os.getpid()}"

    def _link_digest_key(self):
        """Lock key of this message's content: files with the same SHA-256
        are processed one after the other, whatever their company."""
        self.ensure_one()
        return int(self.sha256[:8], 16) - 2**31 if self.sha256 else None

    def _link_fresh_state(self):
        """The state as committed now (not as cached by this transaction)."""
        self.ensure_one()
        self.flush_recordset()
        self.invalidate_recordset()
        self.env.cr.execute("SELECT state FROM heeros_link_message WHERE id = %s", [self.id])
        row = self.env.cr.fetchone()
        return row[0] if row else None

    def _link_process(self, states=("received", "error", "duplicate", "cancelled")):
        """Detect and handle each message in one of ``states`` in its own
        transaction and savepoint; one failure never blocks the others, and
        any number of workers may process the same queue at once (see
        :meth:`_link_process_claimed`). Schedulers pass only ``received``, so
        a message another worker has just finished is not done again."""
        for message in self.sorted("id"):
            if message.state not in states or message.direction != "in":
                continue
            if not message.attachment_id:
                continue  # an oversize record: nothing to process
            message._link_process_claimed(message.state)
        return self

    def _link_process_claimed(self, expected_state):
        """Process this message if no other worker does or did meanwhile.

        The message is claimed with a session advisory lock (skipped when
        another worker holds it), then the lock of its content is waited for,
        so a file processed elsewhere at the same moment is seen and becomes
        ``duplicate``. A conflict between transactions is rolled back and
        tried again a few times; it never becomes an error of the message.
        Returns whether the message was processed here."""
        self.ensure_one()
        can_commit = self._link_can_commit()
        digest = self._link_digest_key()
        for attempt in range(CONFLICT_RETRIES):
            self._link_commit()
            if not self._link_try_lock(LOCK_PROCESS, self.id):
                return False
            try:
                if digest is not None:
                    self._link_wait_lock(LOCK_DIGEST, digest)
                # a new snapshot, taken after the locks: it sees what others committed
                self._link_commit()
                if self._link_fresh_state() != expected_state:
                    return False
                try:
                    self._process_one()
                    self._link_commit()
                    return True
                except (*RETRYABLE_DB_ERRORS, pg_errors.UniqueViolation) as exc:
                    if not can_commit:
                        raise
                    self.env.cr.rollback()
                    _logger.warning(
                        "Link message %s: conflict with another worker (%s), trying again", self.id, exc.pgcode
                    )
                    time.sleep(random.uniform(0.05, 0.3) * (attempt + 1))
            finally:
                if digest is not None:
                    self._link_unlock(LOCK_DIGEST, digest)
                self._link_unlock(LOCK_PROCESS, self.id)
        _logger.warning(
            "Link message %s: left for the next run after %s conflicts with other workers", self.id, CONFLICT_RETRIES
        )
        return False

    def _process_one(self):
        self.ensure_one()
        if self.state != "received":
            self._set_state("received")
        self._set_state("processing", attempts=self.attempts + 1, last_attempt=fields.Datetime.now())
        data = self._payload()
        try:
            doc_type = self._detect(data)
            self.sudo().document_type = doc_type.code
            duplicate = self._find_processed_duplicate()
            if duplicate:
                outcome = Outcome.duplicate(
                    _lt("the same file (SHA-256 %s) was already processed as %s", self.sha256[:12], duplicate.name),
                    duplicate_of=duplicate,
                )
            else:
                outcome = self._link_handle(doc_type)
        except DuplicateDocument as exc:
            # a format module's word that the document is known: as an outcome
            outcome = Outcome.duplicate(exc.message)
        except pg_errors.UniqueViolation as exc:
            if self._link_can_commit():
                raise  # a race with another worker: tried again, then it sees what the other made
            # another file with the same entries won a race; its records stand
            outcome = Outcome.duplicate(
                _lt(
                    "the same document was processed at the same moment by another worker "
                    "(unique key %s): nothing was created from this file",
                    exc.diag.constraint_name or "?",
                )
            )
        except RETRYABLE_DB_ERRORS:
            raise
        except (LinkFormatError, UserError, ValidationError, ChannelError) as exc:
            if isinstance(exc, LinkFormatError):
                text = exc.describe()
            elif exc.args and is_translatable(exc.args[0]):
                text = exc.args[0]
            else:
                text = str(exc.args[0] if exc.args else exc)
            self._fail(text, exc)
            return self
        except Exception as exc:
            _logger.exception("Link message %s: handler failed", self.name)
            self._fail(
                _lt("Unexpected error while processing (details in the server log): %s", exc),
                exc,
                trace=traceback.format_exc(limit=5),
            )
            return self
        self._link_apply_outcome(outcome)
        return self

    def _link_handle(self, doc_type):
        """Call the handler of ``doc_type`` on this message in a savepoint;
        returns its :class:`Outcome`. What the handler wrote is kept only
        when the outcome is ``processed``."""
        model, method = doc_type.handler
        with self.env.cr.savepoint() as savepoint:
            # in the company's language: what the handler writes is read by its people
            lang = self._link_lang()
            handler = self.env[model].sudo().with_company(self.company_id).with_context(lang=lang)
            outcome = Outcome.of(getattr(handler, method)(self.sudo().with_context(lang=lang)))
            if outcome.state != "processed":
                savepoint.close(rollback=True)
            elif outcome.records:
                self._link_records(outcome.records)
        return outcome

    def _link_apply_outcome(self, outcome):
        """Give the message the state of ``outcome`` (:class:`Outcome`)."""
        if outcome.state == "error":
            self._fail(outcome.text)
            return
        vals = {"processed_date": fields.Datetime.now(), "error": False}
        if outcome.state == "duplicate":
            vals["error"] = outcome.text
            if not self.document_type:
                vals["document_type"] = "unknown"
            if outcome.duplicate_of:
                vals["duplicate_of_id"] = outcome.duplicate_of.id
        self._set_state(outcome.state, **vals)
        if outcome.state == "processed" and outcome.text:
            self._link_post(outcome.text, to_html=True)

    def _fail(self, text, exc=None, trace=None):
        if isinstance(exc, UnrecognisedDocument) or not self.document_type:
            self.sudo().document_type = "unknown"
        if self.file_name and self.file_name not in in_lang(text, "en_US"):
            text = join(": ", [self.file_name, text])
        self._set_state("error", error=text)
        if trace:
            self.message_post(body=tools.plaintext2html(trace))

    def _find_processed_duplicate(self):
        if not self.sha256:
            return self.browse()
        companies = self.company_id | self.connection_id.company_ids
        return self.search(
            [
                ("id", "!=", self.id),
                ("direction", "=", "in"),
                ("sha256", "=", self.sha256),
                ("company_id", "in", companies.ids),
                ("state", "=", "processed"),
            ],
            limit=1,
            order="id",
        )

    def _detect(self, data):
        sniff = xmlsafe.sniff(data, self.file_name)
        types = {code: t for code, t in self._link_document_types().items() if t.handler}
        doc_type = detect(types, sniff)
        if not doc_type:
            known = ", ".join(sorted(types)) or _lt("none: no Link format addon is installed")
            raise UnrecognisedDocument(
                _lt(
                    "unrecognised document: %(seen)s; the Link knows these types: %(known)s",
                    seen=sniff.describe(),
                    known=known,
                ),
                file_name=self.file_name,
            )
        return doc_type

    def _link_route(self, companies, looked_for):
        """Move the message to the one company its content belongs to.

        ``companies`` are the candidates found by content; the connection must
        serve it. Raises :class:`RoutingError` naming what was looked for
        (:meth:`_link_find_route` says it without raising).
        """
        company, problem = self._link_find_route(companies, looked_for)
        if problem:
            raise RoutingError(problem, file_name=self.file_name)
        return company

    def _link_find_route(self, companies, looked_for):
        """``(company, None)``: the message moved to the one company of
        ``companies`` (the candidates found by content) the connection
        serves; or ``(empty, problem)`` where ``problem`` says, naming what
        was looked for, why there is none and what to do."""
        self.ensure_one()
        allowed = self.connection_id.company_ids if self.connection_id else self.company_id
        candidates = companies & allowed if self.connection_id else companies
        empty = self.env["res.company"]
        if not candidates:
            return empty, _lt(
                "no company served by this connection matches %s: add the company to the "
                "connection's companies (or correct the company's data), then reprocess the message",
                looked_for,
            )
        if len(candidates) > 1:
            return empty, _lt(
                "%(what)s matches several companies: %(names)s; keep it on one company only, then "
                "reprocess the message",
                what=looked_for,
                names=", ".join(candidates.mapped("name")),
            )
        if not self.connection_id and candidates != self.company_id and candidates not in self.env.user.company_ids:
            return empty, _lt(
                "%s belongs to a company you have no access to: ask an administrator to give you "
                "access to it, or to import the file",
                looked_for,
            )
        if candidates != self.company_id:
            self.attachment_id.sudo().company_id = candidates
            self.sudo().company_id = candidates
        return candidates, None

    # ------------------------------------------------------------------
    # outbound: queue and send
    # ------------------------------------------------------------------
    @api.model
    def _link_queue(
        self, document_type, file_name, data, company, connection=None, records=None, external_ref=None, parent=None
    ):
        """Create a queued outbound message for ``data``; returns it.

        Without ``connection`` the company's outbound connection is looked up;
        ``parent`` is the message this one accompanies or copies."""
        if connection is None:
            connection = self.env["heeros.link.connection"]._link_outbound_for(company)
        message = self.sudo().create(
            {
                "direction": "out",
                "document_type": document_type,
                "company_id": company.id,
                "connection_id": connection.id if connection else False,
                "file_name": file_name,
                "external_ref": external_ref,
                "remote_name": file_name,
                "state": "draft",
                "parent_id": parent.id if parent else False,
            }
        )
        message._attach_payload(data, file_name)
        if records:
            message._link_records(records, role="source")
        if connection:
            message._set_state("queued", next_attempt=fields.Datetime.now())
        else:
            message._set_state(
                "error", error=_lt("No outbound Link connection serves %s: add one, then retry.", company.name)
            )
        return message

    def _link_send(self):
        """Upload queued messages, one connection session per connection.

        Each message is claimed with a session advisory lock held while it is
        sent, so any number of workers share the queue and recovery knows at
        once when a sender is gone. ``sending`` is committed before the
        upload; on two-phase channels the file is staged under a name derived
        from the message's reference, ``staged`` is committed, then the file
        is moved into place and ``sent`` committed. A message found in
        ``sending`` later is decided by :meth:`_link_recover_sending`.
        """
        for connection, messages in (
            self.filtered(lambda m: m.direction == "out" and m.state == "queued").grouped("connection_id").items()
        ):
            if not connection:
                continue
            try:
                channel = connection._channel()
                channel.open()
            except ChannelError as exc:
                self._link_note_connection(connection, "_record_failure", exc)
                for message in messages:
                    if message._link_claim_send(count_attempt=False):
                        try:
                            message._schedule_retry(exc, count_attempt=True)
                            self._link_commit()
                        finally:
                            self._link_unlock(LOCK_SEND, message.id)
                self._link_commit()
                continue
            try:
                for message in messages.sorted("id"):
                    if not message._link_claim_send():
                        continue
                    try:
                        message._link_send_one(channel, connection)
                    finally:
                        self._link_unlock(LOCK_SEND, message.id)
            finally:
                channel.close()
        return self

    def _link_claim_send(self, count_attempt=True):
        """Take this queued message for sending (``sending`` committed, the
        session lock kept until :meth:`_link_unlock`). False when another
        worker has it or it is no longer queued."""
        self.ensure_one()
        self._link_commit()
        if not self._link_try_lock(LOCK_SEND, self.id):
            return False
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT state FROM heeros_link_message WHERE id = %s FOR UPDATE SKIP LOCKED", [self.id]
                )
                row = self.env.cr.fetchone()
        except RETRYABLE_DB_ERRORS:
            row = None
        self.invalidate_recordset()
        if not row or row[0] != "queued":
            self._link_unlock(LOCK_SEND, self.id)
            return False
        if count_attempt:
            self._set_state(
                "sending",
                attempts=self.attempts + 1,
                last_attempt=fields.Datetime.now(),
                send_stage="staging",
                send_worker=self._link_worker_name(),
            )
            self._link_commit()
        return True

    def _link_send_token(self):
        """Temporary remote name of this message's upload: the same for
        every attempt, so an interrupted one is found again."""
        self.ensure_one()
        return "hl-" + re.sub(r"[^A-Za-z0-9]+", "-", self.name or "").strip("-") + f"-{self.id}"

    def _link_send_one(self, channel, connection):
        name = self.remote_name or self.file_name
        token = self._link_send_token()
        try:
            if channel.two_phase:
                channel.stage(name, self._payload(), token)
                self.sudo().write({"send_stage": "staged"})
                self._link_commit()
                try:
                    remote = channel.publish(name, token)
                except ChannelError as exc:
                    self._link_recover_one(channel, exc)
                    self._link_commit()
                    return
            else:
                remote = channel.upload(name, self._payload())
        except ChannelError as exc:
            self.sudo().write({"send_stage": False})
            self._schedule_retry(exc)
            self._link_commit()
            self._link_note_connection(connection, "_record_failure", exc)
        else:
            self._link_mark_sent(remote, _lt("Sent through %(conn)s as %(name)s.", conn=connection.name, name=remote))
            self._link_commit()
            self._link_note_connection(connection, "_record_success", "last_send")
        self._link_commit()

    def _link_mark_sent(self, remote, note):
        self._set_state("sent", remote_name=remote, error=False, next_attempt=False, send_stage=False)
        self._link_post(note)

    @api.model
    def _link_note_connection(self, connection, method, *args):
        """Record a connection's health unless another worker is writing it
        at the same moment: never worth a conflict."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "SELECT id FROM heeros_link_connection WHERE id = %s FOR UPDATE SKIP LOCKED", [connection.id]
                )
                if self.env.cr.fetchone():
                    getattr(connection, method)(*args)
                    connection.flush_recordset()
        except RETRYABLE_DB_ERRORS:
            connection.invalidate_recordset()

    def _schedule_retry(self, error, count_attempt=False):
        """Back to ``queued`` with an exponential back-off, or ``error`` once
        the connection's attempts are used up."""
        for message in self:
            attempts = message.attempts + (1 if count_attempt else 0)
            connection = message.connection_id
            limit = connection.max_attempts or 5
            if getattr(error, "retryable", True) is False or attempts >= limit:
                message._set_state(
                    "error",
                    attempts=attempts,
                    next_attempt=False,
                    error=_lt("Sending failed after %(n)s attempt(s): %(error)s", n=attempts, error=error),
                )
                continue
            delay = timedelta(minutes=(connection.retry_delay or 5) * 2 ** max(attempts - 1, 0))
            message._set_state(
                "queued",
                attempts=attempts,
                next_attempt=fields.Datetime.now() + min(delay, MAX_BACKOFF),
                error=_lt(
                    "Attempt %(n)s failed: %(error)s; next try at %(when)s",
                    n=attempts,
                    error=error,
                    when=fields.Datetime.now() + min(delay, MAX_BACKOFF),
                ),
            )

    def _link_recover_sending(self):
        """Decide messages left in ``sending`` by a worker that is gone (its
        advisory lock can be taken; a message whose sender still runs is left
        alone). See :meth:`_link_recovery_action`."""
        stuck = self.search([("state", "=", "sending"), ("connection_id", "!=", False)], order="id")
        locked = stuck.filtered(lambda m: self._link_try_lock(LOCK_SEND, m.id))
        recovered = self.browse()
        try:
            self._link_commit()  # a snapshot taken after the locks
            gone = locked.filtered(lambda m: m._link_fresh_state() == "sending")
            for connection, messages in gone.grouped("connection_id").items():
                try:
                    with connection._channel() as channel:
                        for message in messages:
                            message._link_recover_one(channel)
                            recovered |= message
                            self._link_commit()
                except ChannelError as exc:
                    self._link_note_connection(connection, "_record_failure", exc)
        finally:
            for message in locked:
                self._link_unlock(LOCK_SEND, message.id)
        return recovered

    @api.model
    def _link_recovery_action(self, worker_gone, stage, staged, found, two_phase):
        """What to do with a message found in ``sending``:

        ``wait`` (its sender still runs), ``sent`` (the file is in the outbox,
        or was moved there and taken since), ``publish`` (staged completely,
        not moved yet: finish the move), ``requeue`` (the move cannot have
        started: send again) or ``check`` (the Link cannot know: a person
        decides)."""
        if not worker_gone:
            return "wait"
        if found:
            return "sent"
        if two_phase and stage == "staging":
            return "requeue"
        if two_phase and stage == "staged":
            return "publish" if staged else "sent"
        return "check"

    def _link_recover_one(self, channel, error=None):
        """Apply :meth:`_link_recovery_action` to this interrupted message."""
        self.ensure_one()
        name = self.remote_name or self.file_name
        token = self._link_send_token()
        try:
            found = channel.exists(name)
            staged = channel.staged(token) if channel.two_phase else False
        except ChannelError as exc:
            return self._link_to_check(_lt("the remote side could not be asked (%s)", exc))
        action = self._link_recovery_action(True, self.send_stage, staged, found, channel.two_phase)
        if action == "sent":
            if channel.two_phase and staged:
                channel.discard(token)
            self._link_mark_sent(
                name,
                _lt(
                    "Interrupted while sending; the file had reached the outbox of %(conn)s as %(name)s: "
                    "not sent again.",
                    conn=self.connection_id.name,
                    name=name,
                ),
            )
        elif action == "publish" and error is not None:
            # the move was refused and did not happen: an ordinary failed attempt
            self.sudo().write({"send_stage": False})
            self._schedule_retry(error)
        elif action == "publish":
            try:
                remote = channel.publish(name, token)
            except ChannelError as exc:
                return self._link_to_check(_lt("the staged file could not be moved into place (%s)", exc))
            self._link_mark_sent(
                remote,
                _lt("Interrupted after the file was written; moved into place as %s after the interruption.", remote),
            )
        elif action == "requeue":
            if channel.two_phase:
                channel.discard(token)
            text = _lt("Interrupted before the file was complete: nothing reached the remote side; queued again.")
            self._set_state(
                "queued",
                next_attempt=fields.Datetime.now(),
                send_stage=False,
                error=join(". ", [error, text]) if error else text,
            )
        else:
            reason = _lt("the file is not in the outbox, but the remote side may already have taken it")
            self._link_to_check(join(" ", [reason, join("", ["(", error, ")"])]) if error else reason)
        return self

    def _link_to_check(self, reason):
        """Ask a person: the outcome of the interrupted upload cannot be known."""
        self._set_state(
            "to_check",
            send_stage=False,
            next_attempt=False,
            error=_lt(
                "Delivery unknown: sending through %(conn)s was interrupted and %(reason)s. Ask the "
                "recipient whether %(name)s arrived, then choose Confirm delivered or Send again.",
                conn=self.connection_id.name,
                reason=reason,
                name=self.remote_name or self.file_name,
            ),
        )
        return self

    def _link_set_feedback(self, accepted, text=None, feedback=None):
        """Record the remote side's verdict on a sent message (pain.002,
        operator status): ``accepted`` or ``rejected``; ``feedback`` is the
        inbound message that carried it."""
        for message in self:
            message._set_state("accepted" if accepted else "rejected", error=False if accepted else text)
            if feedback:
                feedback.sudo().parent_id = message
            if text:
                message._link_post(text)

    # ------------------------------------------------------------------
    # user actions
    # ------------------------------------------------------------------
    def action_reprocess(self):
        self._link_check_user_access()
        for message in self:
            if message.direction != "in":
                raise UserError(_("Only inbound messages can be reprocessed."))
        self._link_process()
        return True

    def action_retry(self):
        self._link_check_user_access()
        for message in self:
            if message.direction != "out" or message.state not in ("error", "rejected", "cancelled"):
                raise UserError(_("Only failed, rejected or cancelled outbound messages can be retried."))
            message._set_state("queued", attempts=0, next_attempt=fields.Datetime.now(), error=False)
        self._link_send()
        return True

    def action_confirm_delivered(self):
        """A person confirmed that the recipient has the file."""
        for message in self:
            if message.state != "to_check":
                raise UserError(_("Only messages whose delivery is unknown can be confirmed."))
            message._set_state("sent", error=False, next_attempt=False)
            message._link_post(_lt("Delivery confirmed by %s.", self.env.user.name))
        return True

    def action_send_again(self):
        """A person checked that the recipient does not have the file."""
        for message in self:
            if message.state != "to_check":
                raise UserError(_("Only messages whose delivery is unknown can be sent again this way."))
            message._set_state("queued", next_attempt=fields.Datetime.now(), error=False)
            message._link_post(_lt("Sent again on request of %s.", self.env.user.name))
        self._link_send()
        return True

    def action_cancel(self):
        self._link_check_user_access()
        for message in self:
            if message.state not in ("draft", "queued", "error", "received", "to_check"):
                raise UserError(
                    _("Message %(msg)s is %(state)s and cannot be cancelled.", msg=message.name, state=message.state)
                )
        self._set_state("cancelled", next_attempt=False)
        return True

    def action_download(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(_("Message %s has no stored file.", self.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }

    def action_view_records(self):
        self.ensure_one()
        links = self.link_ids
        models_ = set(links.mapped("res_model"))
        if len(models_) != 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "heeros.link.message.link",
                "views": [(False, "list")],
                "domain": [("message_id", "=", self.id)],
                "name": _("Records"),
            }
        model = models_.pop()
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "name": _("Records"),
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", links.mapped("res_id"))],
        }

    # ------------------------------------------------------------------
    # crons
    # ------------------------------------------------------------------
    @api.model
    def _cron_process(self, batch=200):
        """Process received messages company by company; with job workers
        (see ``link_jobs``) only hand them to the workers, at most ``batch``
        times 25 new jobs per company and run (messages that have a job are
        skipped, so each run goes further)."""
        use_jobs = self._link_use_jobs()
        for company in self.env["res.company"].sudo().search([]):
            messages = self.sudo().search(
                [("direction", "=", "in"), ("state", "=", "received"), ("company_id", "=", company.id)],
                limit=None if use_jobs else batch,
                order="id",
            )
            if use_jobs:
                messages.with_company(company)._link_enqueue_processing(limit=batch * 25)
            else:
                messages.with_company(company)._link_process(states=("received",))

    @api.model
    def _cron_send(self, batch=200):
        """Recover interrupted sends, then send due queued messages company by
        company; with job workers only hand them to the workers."""
        self.sudo()._link_recover_sending()
        use_jobs = self._link_use_jobs()
        now = fields.Datetime.now()
        for company in self.env["res.company"].sudo().search([]):
            messages = self.sudo().search(
                [
                    ("direction", "=", "out"),
                    ("state", "=", "queued"),
                    ("company_id", "=", company.id),
                    "|",
                    ("next_attempt", "=", False),
                    ("next_attempt", "<=", now),
                ],
                limit=None if use_jobs else batch,
                order="id",
            )
            if use_jobs:
                messages.with_company(company)._link_enqueue_send(limit=batch * 25)
            else:
                messages.with_company(company)._link_send()

    # ------------------------------------------------------------------
    # statistics (CLI status, dashboards)
    # ------------------------------------------------------------------
    @api.model
    def _link_status(self):
        rows = self._read_group([], ["company_id", "document_type", "direction", "state"], ["__count"])
        return [
            {
                "company_id": company.id,
                "company": company.name,
                "type": doc_type or "unknown",
                "direction": direction,
                "state": state,
                "count": count,
            }
            for company, doc_type, direction, state, count in rows
        ]


class HeerosLinkMessageLink(models.Model):
    _name = "heeros.link.message.link"
    _description = "Business record of a Link message"
    _order = "id"

    message_id = fields.Many2one("heeros.link.message", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="message_id.company_id", store=True, index=True)
    res_model = fields.Char("Model", required=True, index=True)
    res_id = fields.Many2oneReference("Record id", model_field="res_model", required=True)
    role = fields.Selection([("source", "Came from"), ("result", "Produced")], required=True, default="result")
    record_name = fields.Char(compute="_compute_record_name")

    def _compute_record_name(self):
        for link in self:
            record = self.env[link.res_model].browse(link.res_id).exists() if link.res_model in self.env else None
            link.record_name = record.sudo().display_name if record else _("(deleted)")

    def action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "views": [(False, "form")],
        }


class HeerosLinkConnectionOutbound(models.Model):
    _inherit = "heeros.link.connection"

    @api.model
    def _link_outbound_for(self, company):
        """The connection that sends a company's documents: its own first,
        then a shared one that serves it."""
        connections = self.sudo().search([("direction", "in", ("out", "both")), ("company_ids", "in", company.id)])
        own = connections.filtered(lambda c: c.company_id == company)
        return (own or connections)[:1]


class HeerosLinkMessageReport(models.Model):
    _inherit = "heeros.link.message"

    def _link_result(self):
        """One plain dict per message: what the CLI prints and the API returns."""
        return [
            {
                "file": message.file_name,
                "message_id": message.id,
                "message": message.name,
                "type": message.document_type or "unknown",
                "company_id": message.company_id.id,
                "state": message.state,
                "error": message.error or None,
                "records": [{"model": link.res_model, "id": link.res_id} for link in message.link_ids],
            }
            for message in self
        ]
