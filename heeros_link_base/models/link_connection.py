import logging
import os
from datetime import timedelta
from secrets import token_urlsafe

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config as odoo_config

from ..channels import ChannelConfig, ChannelConfigError, ChannelError, is_operator, open_channel, protocols
from ..channels.sftp import fetch_host_key
from ..texts import in_lang
from .locks import LOCK_FETCH

_logger = logging.getLogger(__name__)

SECRET_FIELDS = ("password", "private_key", "passphrase", "vendor_api_key", "webhook_token")
#: Where the connection goes: changing one of these by anyone but a system
#: administrator clears the stored credentials (see ``_link_endpoint_fields``).
ENDPOINT_FIELDS = ("protocol", "host", "port", "username", "host_key", "local_root", "operator_endpoint_id")
#: System parameter (or option of the Odoo configuration file, which wins)
#: naming the folder that every local-folder connection must stay inside.
FOLDER_ROOT_PARAM = "heeros_link.local_folder_root"
FOLDER_ROOT_OPTION = "heeros_link_local_folder_root"
DEFAULT_MAX_SIZE = 256 * 1024 * 1024  # a camt.053 of 100 000 entries is about 110 MB


class HeerosLinkConnection(models.Model):
    _name = "heeros.link.connection"
    _description = "Link connection"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        string="Owner company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="The company that holds the agreement and configures the connection.",
    )
    company_ids = fields.Many2many(
        "res.company",
        "heeros_link_connection_company_rel",
        "connection_id",
        "company_id",
        string="Companies served",
        required=True,
        default=lambda self: self.env.company,
        help="Companies whose documents travel through this connection. A bureau's shared "
        "bank or operator agreement serves all its client companies; inbound files are "
        "routed to the right company by their content.",
    )
    protocol = fields.Selection(selection="_selection_protocol", required=True, default="local", tracking=True)
    direction = fields.Selection(
        [("in", "Receive"), ("out", "Send"), ("both", "Send and receive")], required=True, default="both", tracking=True
    )
    # endpoint settings
    local_root = fields.Char(
        "Folder",
        groups="base.group_system",
        tracking=True,
        help="Folder on the Odoo server holding the inbox, outbox and archive sub-folders, "
        "relative to the Link's folder root (or an absolute path inside it). Only system "
        "administrators can set it, since it gives access to the server's files.",
    )
    host = fields.Char(
        tracking=True, help=("Changed by anyone but a system administrator, the stored credentials are cleared.")
    )
    port = fields.Integer(default=22, tracking=True)
    username = fields.Char(tracking=True)
    host_key = fields.Char(
        "Pinned host key",
        tracking=True,
        copy=False,
        help="The server's public host key, as in known_hosts: 'ssh-ed25519 AAAA...'. "
        "A server presenting another key is refused. Only system administrators pin keys.",
    )
    host_key_fingerprint = fields.Char(compute="_compute_host_key_fingerprint")
    can_pin_host_key = fields.Boolean(compute="_compute_can_pin_host_key")
    password = fields.Char(groups="base.group_system", copy=False)
    private_key = fields.Text(groups="base.group_system", copy=False)
    passphrase = fields.Char(groups="base.group_system", copy=False)
    has_credentials = fields.Boolean(compute="_compute_has_credentials", compute_sudo=True)
    # e-invoice operators' web services
    operator_endpoint_id = fields.Many2one(
        "heeros.link.operator.endpoint",
        "Service address",
        tracking=True,
        domain="[('protocol', '=', protocol)]",
        help="The operator's test or production service. Changed by anyone but a system "
        "administrator, the stored credentials are cleared.",
    )
    operator_environment = fields.Selection(related="operator_endpoint_id.environment", string="Environment")
    vendor_api_key = fields.Char(
        "Vendor API key",
        groups="base.group_system",
        copy=False,
        help="Maventa: the software vendor's API key, given by Maventa to the vendor of the invoicing software.",
    )
    webhook_token = fields.Char(
        groups="base.group_system",
        copy=False,
        index="btree_not_null",
        help="Secret part of the address the operator posts its notifications to.",
    )
    operator_since = fields.Datetime(
        "Received listed up to",
        readonly=True,
        copy=False,
        help="The next listing of received documents starts here (a little earlier, to miss nothing).",
    )
    inbox_folder = fields.Char("Inbox folder", default="inbox", tracking=True)
    outbox_folder = fields.Char("Outbox folder", default="outbox", tracking=True)
    archive_folder = fields.Char("Archive folder", default="archive", tracking=True)
    after_download = fields.Selection(
        [("move", "Move to the archive folder"), ("delete", "Delete")],
        default="move",
        required=True,
        tracking=True,
        help="What happens to a remote file once it is stored safely as a Link message.",
    )
    timeout = fields.Integer("Timeout (s)", default=30)
    max_file_size = fields.Integer(
        "Largest file (bytes)",
        default=DEFAULT_MAX_SIZE,
        help="Larger files are not downloaded: a message in error records them and they "
        "stay on the remote side until the limit is raised.",
    )
    # scheduling
    fetch_scheduled = fields.Boolean(
        "Fetch on schedule",
        default=True,
        tracking=True,
        help="Fetch new files every few minutes. Off: files are fetched only when someone presses Fetch now.",
    )
    fetch_interval = fields.Integer("Fetch every (minutes)", default=15)
    next_fetch = fields.Datetime(copy=False)
    max_attempts = fields.Integer("Attempts before giving up", default=5)
    retry_delay = fields.Integer(
        "First retry after (minutes)", default=5, help="Each further attempt waits twice as long as the previous one."
    )
    # health
    last_fetch = fields.Datetime("Last successful fetch", readonly=True, copy=False)
    last_send = fields.Datetime("Last successful send", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_date = fields.Datetime(readonly=True, copy=False)
    health = fields.Selection(
        [("ok", "Healthy"), ("warning", "Not used yet"), ("error", "Failing")], compute="_compute_health"
    )
    link_message_ids = fields.One2many("heeros.link.message", "connection_id", "Link messages")
    message_count = fields.Integer(compute="_compute_message_counts")
    error_count = fields.Integer(compute="_compute_message_counts")

    _sql_constraints = [
        ("max_attempts_positive", "CHECK(max_attempts > 0)", "Attempts before giving up must be positive."),
    ]

    @api.model
    def _selection_protocol(self):
        return [(code, in_lang(label, self.env.lang)) for code, label in protocols()]

    @api.depends("host_key")
    def _compute_host_key_fingerprint(self):
        from ..channels.sftp import fingerprint, parse_host_key

        for connection in self:
            try:
                connection.host_key_fingerprint = (
                    fingerprint(parse_host_key(connection.host_key)[1]) if connection.host_key else False
                )
            except ChannelError as exc:
                connection.host_key_fingerprint = str(exc)

    def _compute_can_pin_host_key(self):
        self.can_pin_host_key = self._link_is_administrator()

    @api.depends(*SECRET_FIELDS)
    def _compute_has_credentials(self):
        for connection in self:
            connection.has_credentials = any(connection[f] for f in SECRET_FIELDS)

    @api.depends("last_error_date", "last_fetch", "last_send")
    def _compute_health(self):
        for connection in self:
            last_ok = max(filter(None, [connection.last_fetch, connection.last_send]), default=None)
            if connection.last_error_date and (not last_ok or connection.last_error_date >= last_ok):
                connection.health = "error"
            elif last_ok:
                connection.health = "ok"
            else:
                connection.health = "warning"

    def _compute_message_counts(self):
        groups = self.env["heeros.link.message"]._read_group(
            [("connection_id", "in", self.ids)], ["connection_id", "state"], ["__count"]
        )
        totals, errors = {}, {}
        for connection, state, count in groups:
            totals[connection.id] = totals.get(connection.id, 0) + count
            if state == "error":
                errors[connection.id] = errors.get(connection.id, 0) + count
        for connection in self:
            connection.message_count = totals.get(connection.id, 0)
            connection.error_count = errors.get(connection.id, 0)

    @api.constrains("company_id", "company_ids")
    def _check_owner_served(self):
        for connection in self:
            if connection.company_id not in connection.company_ids:
                raise ValidationError(
                    _(
                        "Connection %(name)s: the owner company %(company)s must be among the companies it serves.",
                        name=connection.name,
                        company=connection.company_id.name,
                    )
                )

    @api.constrains("protocol", "local_root", "inbox_folder", "outbox_folder", "archive_folder")
    def _check_local_folders(self):
        for connection in self.filtered(lambda c: c.protocol == "local"):
            try:
                open_channel(connection._channel_config()).check_paths()
            except ChannelConfigError as exc:
                raise ValidationError(_("Connection %(name)s: %(error)s.", name=connection.name, error=exc)) from None

    # ------------------------------------------------------------------
    # who may change where a connection goes
    # ------------------------------------------------------------------
    def _link_is_administrator(self):
        """Whether the real user (also under ``sudo()``) is a system
        administrator: only they may keep credentials across an endpoint
        change, enter credentials and pin host keys."""
        user = self.env.user
        return user._is_superuser() or user._is_system()

    def _link_endpoint_fields(self):
        """Fields that say where the connection goes; add-ons adding an
        endpoint add it here (fields ending in ``_url`` are included)."""
        return [*ENDPOINT_FIELDS, *(name for name in self._fields if name.endswith("_url"))]

    def _link_changed_fields(self, vals, names):
        """``{connection: [changed field names]}`` for the fields of ``names``
        whose value in ``vals`` differs from the stored one."""
        names = [name for name in names if name in vals]
        changes = {}
        for connection in self.sudo():
            changed = []
            for name in names:
                field = self._fields[name]
                new = field.convert_to_record(field.convert_to_cache(vals[name], connection), connection)
                if (connection[name] or False) != (new or False):
                    changed.append(name)
            if changed:
                changes[connection.with_env(self.env)] = changed
        return changes

    def _link_check_may_pin(self):
        if not self._link_is_administrator():
            raise AccessError(
                _(
                    "Only a system administrator can pin an SFTP server's host key: the key decides "
                    "which server receives the connection's credentials."
                )
            )

    def _link_check_may_set_credentials(self, vals):
        if not self._link_is_administrator() and any(vals.get(name) for name in SECRET_FIELDS):
            raise AccessError(_("Only a system administrator can enter a connection's credentials."))

    def _link_clear_credentials(self, changes):
        """Forget the credentials of connections whose endpoint is being
        changed by someone who is not a system administrator, so that they
        are never sent to the new endpoint, and say so in the chatter."""
        for connection, names in changes.items():
            if not connection.sudo().has_credentials:
                continue
            connection.sudo().write(dict.fromkeys(SECRET_FIELDS, False))
            labels = ", ".join(self._fields[name].get_description(self.env)["string"] for name in names)
            connection.message_post(
                body=_(
                    "%(user)s changed where this connection goes (%(fields)s): its stored credentials "
                    "were cleared so that they are never sent to the new endpoint. A system "
                    "administrator must enter them again.",
                    user=self.env.user.name,
                    fields=labels,
                )
            )

    def _link_note_host_key(self, connections):
        for connection in connections:
            if connection.host_key:
                connection.message_post(
                    body=_(
                        "Host key pinned by %(user)s: %(fp)s. Compare it with the fingerprint the "
                        "server's administrator gives you.",
                        user=self.env.user.name,
                        fp=connection.host_key_fingerprint,
                    )
                )
            else:
                connection.message_post(
                    body=_(
                        "Host key removed by %(user)s: the connection refuses to connect until a key is pinned.",
                        user=self.env.user.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._link_check_may_set_credentials(vals)
            if vals.get("host_key"):
                self._link_check_may_pin()
        return super().create(vals_list)

    def copy_data(self, default=None):
        # A copy never carries credentials or the pinned key (copy=False);
        # the folder of a local connection is copied even when a Link manager,
        # who cannot read it, makes the copy.
        if self.env.su or self._link_is_administrator():
            return super().copy_data(default)
        return super(HeerosLinkConnection, self.sudo()).copy_data(default)

    def write(self, vals):
        self._link_check_may_set_credentials(vals)
        repinned = self._link_changed_fields(vals, ["host_key"])
        if repinned:
            self._link_check_may_pin()
        if not self._link_is_administrator():
            moved = self._link_changed_fields(vals, self._link_endpoint_fields())
            if moved:
                self.check_access("write")  # clear nothing for someone who may not change it
                self._link_clear_credentials(moved)
        result = super().write(vals)
        self._link_note_host_key(self.browse([c.id for c in repinned]))
        return result

    # ------------------------------------------------------------------
    # channel access
    # ------------------------------------------------------------------
    @api.model
    def _link_local_folder_root(self):
        """The folder every local-folder connection must stay inside: the
        ``heeros_link_local_folder_root`` option of the Odoo configuration
        file, else the system parameter ``heeros_link.local_folder_root``,
        else ``<data_dir>/heeros_link_folders/<database>``."""
        configured = odoo_config.get(FOLDER_ROOT_OPTION) or self.env["ir.config_parameter"].sudo().get_param(
            FOLDER_ROOT_PARAM
        )
        root = configured or os.path.join(odoo_config["data_dir"], "heeros_link_folders", self.env.cr.dbname)
        return os.path.realpath(os.path.expanduser(root))

    def _channel_config(self):
        """Plain settings for the channel, secrets included. Never log this."""
        self.ensure_one()
        secrets = self.sudo()
        return ChannelConfig(
            protocol=self.protocol,
            inbox=self.inbox_folder or "",
            outbox=self.outbox_folder or "",
            archive=self.archive_folder or "",
            after_download=self.after_download,
            root=secrets.local_root or "",
            allowed_root=self._link_local_folder_root(),
            host=self.host or "",
            port=self.port or 22,
            username=self.username or "",
            password=secrets.password or "",
            private_key=secrets.private_key or "",
            passphrase=secrets.passphrase or "",
            host_key=self.host_key or "",
            timeout=float(self.timeout or 30),
            max_size=self.max_file_size or 0,
            url=self.operator_endpoint_id.url or "",
            vendor_key=secrets.vendor_api_key or "",
            since=self.operator_since or None,
        )

    def _channel(self):
        return open_channel(self._channel_config())

    def _link_is_operator(self):
        """Whether this connection hands documents to an operator's web service."""
        self.ensure_one()
        return is_operator(self.protocol)

    def _link_reports_delivery(self):
        """Whether the operator of this connection reports deliveries."""
        self.ensure_one()
        from ..channels.base import _REGISTRY

        return bool(getattr(_REGISTRY.get(self.protocol), "reports_status", False))

    def action_new_webhook_token(self):
        """Give the connection a new secret notification address."""
        self.ensure_one()
        if not self._link_is_administrator():
            raise AccessError(_("Only a system administrator can make a connection's notification address."))
        self.sudo().webhook_token = token_urlsafe(32)
        return True

    def _record_success(self, what):
        self.sudo().write({what: fields.Datetime.now()})

    def _record_failure(self, error):
        self.sudo().write({"last_error": str(error), "last_error_date": fields.Datetime.now()})
        _logger.warning("Link connection %s (id %s): %s", self.name, self.id, error)

    def action_test_connection(self):
        """Try the channel; the outcome is recorded on the connection (a failure
        is shown as a notification, not raised, so that it is kept)."""
        self.ensure_one()
        try:
            with self._channel() as channel:
                result = channel.test()
        except ChannelError as exc:
            self._record_failure(exc)
            return self._notify(_("Connection %s failed", self.name), self._link_exc_text(exc), "danger")
        self.sudo().write({"last_error": False, "last_error_date": False})
        return self._notify(_("Connection works"), in_lang(result, self.env.lang), "success")

    def _link_exc_text(self, exc):
        """A channel's error in the current user's language."""
        return in_lang(exc.args[0], self.env.lang) if exc.args else str(exc)

    def _notify(self, title, text, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": title, "message": text, "type": kind, "sticky": kind == "danger"},
        }

    def action_fetch_host_key(self):
        """Read the key the server presents and pin it (trust on first use).

        The chatter records the fingerprint so it can be compared with what
        the server's administrator says."""
        self.ensure_one()
        self._link_check_may_pin()
        if self.protocol != "sftp":
            raise UserError(_("Only SFTP connections have a host key."))
        try:
            key, _fp = fetch_host_key(self._channel_config())
        except ChannelError as exc:
            raise UserError(str(exc)) from None
        self.host_key = key  # the write records the fingerprint and who pinned it
        return True

    def action_fetch_now(self):
        messages = self._link_fetch()
        messages._link_process()
        return self.action_view_messages()

    def action_view_messages(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        action["domain"] = [("connection_id", "in", self.ids)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # fetching
    # ------------------------------------------------------------------
    def _link_fetch(self):
        """Download every waiting file of these connections into messages.

        A file is confirmed on the remote side only after its message is
        committed, so a crash in between leaves it remote (fetched again,
        then recognised as a duplicate), never lost.
        """
        Message = self.env["heeros.link.message"]
        fetched = Message
        for connection in self.filtered(lambda c: c.direction in ("in", "both")):
            if not connection._link_claim_fetch():
                continue  # another worker is fetching from it right now
            try:
                try:
                    with connection._channel() as channel:
                        for remote in channel.list():
                            message = connection._fetch_one(channel, remote)
                            if message:
                                fetched |= message
                        if getattr(channel, "next_since", None):
                            connection.sudo().operator_since = channel.next_since
                    Message._link_note_connection(connection, "_record_success", "last_fetch")
                except ChannelError as exc:
                    Message._link_note_connection(connection, "_record_failure", exc)
                Message._link_commit()
            finally:
                Message._link_unlock(LOCK_FETCH, connection.id)
        return fetched

    def _link_claim_fetch(self):
        """Hold the connection's fetch lock (session-level, released by
        PostgreSQL if this worker dies); False when another worker has it."""
        self.ensure_one()
        Message = self.env["heeros.link.message"]
        Message._link_commit()
        if not Message._link_try_lock(LOCK_FETCH, self.id):
            return False
        Message._link_commit()  # a snapshot that sees what the last holder committed
        return True

    def _fetch_one(self, channel, remote):
        Message = self.env["heeros.link.message"]
        if self.max_file_size and remote.size and remote.size > self.max_file_size:
            known = Message.search_count(
                [
                    ("connection_id", "=", self.id),
                    ("file_name", "=", remote.name),
                    ("size", "=", remote.size),
                    ("state", "=", "error"),
                    ("attachment_id", "=", False),
                ]
            )
            if not known:
                Message._link_oversize(remote.name, remote.size, self.max_file_size, connection=self)
                Message._link_commit()
            return Message
        remote_id = remote.path if getattr(channel, "download_parts", None) else None
        if remote_id and Message.sudo().search_count(
            [("connection_id", "=", self.id), ("direction", "=", "in"), ("remote_id", "=", remote_id)], limit=1
        ):
            channel.confirm(remote)  # held already: an earlier run stored it
            return Message
        if remote_id:
            parts = channel.download_parts(remote)
            name, data = parts[0]
        else:
            parts, name, data = [], remote.name, channel.download(remote)
        message = Message._link_intake([(name, data)], connection=self, process=False)
        if remote_id:
            message.sudo().remote_id = remote_id
            message._link_attach_parts(parts[1:])
        Message._link_commit()
        try:
            channel.confirm(remote)
        except ChannelError as exc:
            message.message_post(body=_("Stored, but the remote file could not be confirmed: %s", exc))
        return message

    @api.model
    def _cron_fetch(self):
        """Fetch from every connection that is due; with job workers only
        enqueue one fetch job per connection."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("direction", "in", ("in", "both")),
                ("fetch_scheduled", "=", True),
                "|",
                ("next_fetch", "=", False),
                ("next_fetch", "<=", now),
            ]
        )
        Message = self.env["heeros.link.message"]
        use_jobs = Message._link_use_jobs()
        for connection in due:
            if not connection._link_claim_fetch():
                continue
            try:
                connection.invalidate_recordset(["next_fetch"])
                if connection.next_fetch and connection.next_fetch > now:
                    continue  # fetched by another worker meanwhile
                connection.next_fetch = now + timedelta(minutes=max(connection.fetch_interval, 1))
                Message._link_commit()
                if use_jobs:
                    connection._link_enqueue_fetch()
                    Message._link_commit()
                else:
                    connection.with_company(connection.company_id)._link_fetch()
            finally:
                Message._link_unlock(LOCK_FETCH, connection.id)


class HeerosLinkConnectionDemo(models.Model):
    _inherit = "heeros.link.connection"

    @api.model
    def _link_demo_seed(self, xmlid_folders):
        """Give demo folder connections a root under Odoo's data directory and
        put example files into their inboxes, then fetch and process them so
        the Link has something to show. ``xmlid_folders`` maps a connection's
        xml id to a folder of example files (relative to the addons path)."""
        import shutil
        from pathlib import Path

        from odoo.tools.misc import file_path

        fetched = self.env["heeros.link.message"]
        for xmlid, folder in xmlid_folders.items():
            connection = self.env.ref(xmlid)
            relative = f"demo/{connection.id}"
            root = Path(self._link_local_folder_root()) / relative
            inbox = root / (connection.inbox_folder or "inbox")
            shutil.rmtree(root, ignore_errors=True)
            inbox.mkdir(parents=True, exist_ok=True)
            source = Path(file_path(folder))
            # files named next_* wait in the inbox for the "Fetch now" button
            waiting = [path for path in sorted(source.iterdir()) if path.name.startswith("next_")]
            for path in sorted(source.iterdir()):
                if path not in waiting:
                    shutil.copyfile(path, inbox / path.name)
            connection.sudo().local_root = relative
            fetched |= connection._link_fetch()
            for path in waiting:
                shutil.copyfile(path, inbox / path.name[len("next_") :])
        fetched._link_process()
        return fetched
