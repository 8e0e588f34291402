"""Job workers: when OCA's ``queue_job`` is installed in the database, the
Link's crons only hand work to its job workers (channels under
``root.heeros_link``), so a bureau that outgrows one machine adds workers
instead of waiting for one cron. Without it the crons do the work themselves.

The base addon does not depend on ``queue_job``: whether it is installed is
looked up at run time, and its channels and job functions are created when
first needed. Every job checks first that its work is still to be done and
claims it with the same advisory locks as the crons, so a job run twice, or
at the same moment as a cron or another worker, does nothing the second time.
"""

import hashlib
import logging

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models, tools

from .link_message import RETRYABLE_DB_ERRORS

_logger = logging.getLogger(__name__)

#: System parameter: ``auto`` (default) lets job workers do the work whenever
#: queue_job is installed; ``off`` keeps it in the crons.
JOBS_PARAM = "heeros_link.job_workers"
#: System parameter: an import of at least this many files is processed by job
#: workers; a smaller one at once, so its result shows right away.
IMPORT_THRESHOLD_PARAM = "heeros_link.job_import_threshold"
DEFAULT_IMPORT_THRESHOLD = 20
#: System parameter: how many outbound messages one send job takes (they share
#: one session with the connection).
SEND_CHUNK_PARAM = "heeros_link.job_send_chunk"
DEFAULT_SEND_CHUNK = 50

CHANNEL_ROOT = "root.heeros_link"
CHANNELS = {
    "import": "root.heeros_link.import",
    "send": "root.heeros_link.send",
    "fetch": "root.heeros_link.fetch",
}
#: ``(model, method, channel)`` of every job the Link enqueues.
JOB_FUNCTIONS = (
    ("heeros.link.message", "_link_job_process", "import"),
    ("heeros.link.message", "_link_job_send", "send"),
    ("heeros.link.connection", "_link_job_fetch", "fetch"),
)
#: A job that met another worker is tried again: every 10 s for the first
#: tries, then every minute, then every 5 minutes.
RETRY_PATTERN = {1: 10, 5: 60, 10: 300}
MAX_RETRIES = 30
#: States of a job that will still run (or runs now).
LIVE_JOB_STATES = ("wait_dependencies", "pending", "enqueued", "started")
JOB_KEY_PREFIX = "heeros_link"


class HeerosLinkMessageJobs(models.Model):
    _inherit = "heeros.link.message"

    # ------------------------------------------------------------------
    # detection and configuration
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _link_queue_job_installed(self):
        """Whether queue_job is installed in this database (cached per
        registry: installing or removing a module loads a new one)."""
        if "queue.job" not in self.env.registry:
            return False
        self.env.cr.execute("SELECT state FROM ir_module_module WHERE name = 'queue_job'")
        row = self.env.cr.fetchone()
        return bool(row) and row[0] in ("installed", "to upgrade")

    @api.model
    def _link_use_jobs(self):
        """Whether the crons hand work to job workers instead of doing it."""
        if not self._link_queue_job_installed():
            return False
        mode = self.env["ir.config_parameter"].sudo().get_param(JOBS_PARAM) or "auto"
        return mode.strip().lower() not in ("off", "0", "false", "no")

    @api.model
    def _link_job_int_param(self, name, default):
        value = self.env["ir.config_parameter"].sudo().get_param(name)
        try:
            return max(int(value), 1) if value else default
        except ValueError:
            _logger.warning("System parameter %s=%r is not a number; using %s", name, value, default)
            return default

    @api.model
    def _link_job_channel(self, kind):
        """Complete name of the job channel of ``kind`` (import, send, fetch)."""
        return CHANNELS[kind]

    @api.model
    def _link_job_key(self, kind, ids):
        """Identity key of a job: while one with this key waits or runs, the
        same work is not enqueued again."""
        ids = sorted(ids)
        if len(ids) == 1:
            return f"{JOB_KEY_PREFIX}-{kind}-{ids[0]}"
        digest = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:20]
        return f"{JOB_KEY_PREFIX}-{kind}-{ids[0]}-{len(ids)}-{digest}"

    @api.model
    def _link_job_keys_alive(self, keys):
        """Those of ``keys`` that belong to a job still waiting or running."""
        keys = list(keys)
        if not keys:
            return set()
        self.env["queue.job"].flush_model(["identity_key", "state"])
        self.env.cr.execute(
            "SELECT identity_key FROM queue_job WHERE identity_key = ANY(%s) AND state = ANY(%s)",
            [keys, list(LIVE_JOB_STATES)],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _link_job_setup(self):
        """Create the Link's channels and job functions in queue_job's
        configuration when missing. They cannot be data of the base addon,
        which does not depend on queue_job. A channel's capacity is set in
        the workers' configuration (see the README); the job functions allow
        commits because each message's outcome is committed on its own."""
        if not self._link_queue_job_installed():
            return False
        try:
            with self.env.cr.savepoint():
                self._link_job_setup_records()
        except (pg_errors.UniqueViolation, *RETRYABLE_DB_ERRORS):
            # another worker creates them at the same moment
            self.env["queue.job.channel"].invalidate_model()
            self.env["queue.job.function"].invalidate_model()
        return True

    @api.model
    def _link_job_setup_records(self):
        Channel = self.env["queue.job.channel"].sudo()

        def ensure(complete_name, parent):
            channel = Channel.search([("complete_name", "=", complete_name)], limit=1)
            return channel or Channel.create({"name": complete_name.rsplit(".", 1)[1], "parent_id": parent.id})

        root = Channel.search([("complete_name", "=", "root")], limit=1)
        link_root = ensure(CHANNEL_ROOT, root)
        channels = {kind: ensure(name, link_root) for kind, name in CHANNELS.items()}
        Function = self.env["queue.job.function"].sudo()
        for model, method, kind in JOB_FUNCTIONS:
            name = Function.job_function_name(model, method)
            function = Function.search([("name", "=", name)], limit=1)
            if not function:
                Function.create(
                    {
                        "model_id": self.env["ir.model"]._get_id(model),
                        "method": method,
                        "channel_id": channels[kind].id,
                        "allow_commit": True,
                        "retry_pattern": RETRY_PATTERN,
                    }
                )
            elif not function.allow_commit:
                function.allow_commit = True

    def _register_hook(self):
        super()._register_hook()
        if self._link_queue_job_installed():
            try:
                self._link_job_setup()
            except Exception:  # never let it stop the server from loading
                _logger.exception("Heeros Link: the job channels could not be created")

    @api.model
    def _link_job_retryable(self, text, seconds=None):
        """queue_job's error that makes a job run again later."""
        from odoo.addons.queue_job.exception import RetryableJobError

        return RetryableJobError(text, seconds=seconds)

    # ------------------------------------------------------------------
    # enqueue
    # ------------------------------------------------------------------
    def _link_process_or_enqueue(self):
        """Process these just stored messages now, or hand a large import
        (``heeros_link.job_import_threshold`` files or more) to job workers."""
        received = self.filtered(lambda m: m.direction == "in" and m.state == "received")
        if (
            received
            and self._link_use_jobs()
            and len(received) >= self._link_job_int_param(IMPORT_THRESHOLD_PARAM, DEFAULT_IMPORT_THRESHOLD)
        ):
            received._link_enqueue_processing()
            return self
        return self._link_process(states=("received",))

    def _link_enqueue_processing(self, limit=None):
        """One job per received message in the import channel, unless a job
        for it waits or runs already; at most ``limit`` new jobs (the oldest
        messages first). Returns the new jobs."""
        messages = self.filtered(lambda m: m.direction == "in" and m.state == "received" and m.attachment_id)
        if not messages:
            return []
        self._link_job_setup()
        keys = {message: self._link_job_key("process", message.ids) for message in messages.sorted("id")}
        alive = self._link_job_keys_alive(keys.values())
        todo = [(message, key) for message, key in keys.items() if key not in alive][:limit]
        channel = self._link_job_channel("import")
        return [
            message.with_delay(
                channel=channel,
                identity_key=key,
                max_retries=MAX_RETRIES,
                description=_("Heeros Link: process %s", message.name),
            )._link_job_process()
            for message, key in todo
        ]

    def _link_enqueue_send(self, limit=None):
        """Jobs in the send channel for these queued messages, one per
        connection and chunk (``heeros_link.job_send_chunk`` messages) so a
        chunk shares one session with the remote side; at most ``limit`` new
        jobs. Returns the new jobs."""
        due = self.filtered(lambda m: m.direction == "out" and m.state == "queued" and m.connection_id)
        if not due:
            return []
        self._link_job_setup()
        size = self._link_job_int_param(SEND_CHUNK_PARAM, DEFAULT_SEND_CHUNK)
        chunks = []
        for _connection, messages in due.grouped("connection_id").items():
            messages = messages.sorted("id")
            chunks += [messages[start : start + size] for start in range(0, len(messages), size)]
        keys = [self._link_job_key("send", chunk.ids) for chunk in chunks]
        alive = self._link_job_keys_alive(keys)
        todo = [(chunk, key) for chunk, key in zip(chunks, keys) if key not in alive][:limit]
        channel = self._link_job_channel("send")
        return [
            chunk.with_delay(
                channel=channel,
                identity_key=key,
                max_retries=MAX_RETRIES,
                description=_(
                    "Heeros Link: send %(count)s message(s) through %(conn)s",
                    count=len(chunk),
                    conn=chunk.connection_id.name,
                ),
            )._link_job_send()
            for chunk, key in todo
        ]

    # ------------------------------------------------------------------
    # jobs
    # ------------------------------------------------------------------
    def _link_job_process(self):
        """Job of the import channel: process this message if it is still
        ``received``. Claimed like the cron claims it (advisory locks, one
        transaction per message); a message another worker holds, or that
        met conflicts with other workers, is tried again later; a file that
        cannot be processed goes to ``error`` as always."""
        self.ensure_one()
        message = self.sudo().exists()
        if not message:
            return _("The message no longer exists: nothing to do.")
        message = message.with_company(message.company_id)
        state = message._link_fresh_state()
        if message.direction != "in" or state != "received" or not message.attachment_id:
            return _("Message %(msg)s is %(state)s: nothing to do.", msg=message.name, state=state)
        try:
            done = message._link_process_claimed("received")
        except RETRYABLE_DB_ERRORS as exc:
            raise self._link_job_retryable(
                _(
                    "Message %(msg)s met another worker (%(code)s); tried again later.",
                    msg=message.name,
                    code=exc.pgcode,
                )
            ) from exc
        state = message._link_fresh_state()
        if not done and state == "received":
            raise self._link_job_retryable(
                _("Message %s is being processed by another worker or met conflicts; tried again later.", message.name)
            )
        return _("Message %(msg)s is %(state)s.", msg=message.name, state=state)

    def _link_job_send(self):
        """Job of the send channel: send those of these messages that are
        still queued and due. A message another worker is sending is left to
        it; a failed upload is scheduled again by the message's own back-off
        (the send cron enqueues it when due)."""
        messages = self.sudo().exists()
        now = fields.Datetime.now()
        due = messages.filtered(
            lambda m: m.direction == "out" and m.state == "queued" and (not m.next_attempt or m.next_attempt <= now)
        )
        if not due:
            return _("No message left to send.")
        for company, group in due.grouped("company_id").items():
            group.with_company(company)._link_send()
        due.invalidate_recordset(["state"])
        sent = due.filtered(lambda m: m.state == "sent")
        return _("%(sent)s of %(count)s message(s) sent.", sent=len(sent), count=len(due))


class HeerosLinkConnectionJobs(models.Model):
    _inherit = "heeros.link.connection"

    def _link_enqueue_fetch(self):
        """A job in the fetch channel per connection, unless one waits or
        runs already. Returns the new jobs."""
        Message = self.env["heeros.link.message"]
        connections = self.filtered(lambda c: c.direction in ("in", "both"))
        if not connections:
            return []
        Message._link_job_setup()
        keys = {connection: Message._link_job_key("fetch", connection.ids) for connection in connections}
        alive = Message._link_job_keys_alive(keys.values())
        channel = Message._link_job_channel("fetch")
        return [
            connection.with_delay(
                channel=channel,
                identity_key=key,
                max_retries=MAX_RETRIES,
                description=_("Heeros Link: fetch from %s", connection.name),
            )._link_job_fetch()
            for connection, key in keys.items()
            if key not in alive
        ]

    def _link_job_fetch(self):
        """Job of the fetch channel: download the connection's waiting files
        (nothing when another worker fetches from it now), then enqueue their
        processing."""
        self.ensure_one()
        connection = self.sudo().exists()
        if not connection or not connection.active or connection.direction not in ("in", "both"):
            return _("The connection no longer receives: nothing to do.")
        fetched = connection.with_company(connection.company_id)._link_fetch()
        jobs = fetched._link_enqueue_processing()
        return _("%(count)s file(s) fetched, %(jobs)s queued for processing.", count=len(fetched), jobs=len(jobs))
