"""Finnish bank Web Services: bank profiles, the connection's agreement and
certificate, enrolment and renewal, and fetching by the bank's file
reference.

A bank is a :class:`HeerosLinkBankProfile` record (addresses, algorithms,
canonicalisation, how the PIN is sent, file-type codes, the bank's root
certificate): a new bank is a new record, never a code branch. A connection
with the ``bank_ws`` protocol holds one agreement (customer id, target id,
environment) and its certificate, and may serve many companies of a bureau:
downloaded files are routed by their content (IBAN) as every inbound file is.
"""

import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..channels import ChannelConfigError, ChannelError
from ..channels.bank_ws import BankWsConfig, CertificateService
from ..formats import bank_ws as ws

_logger = logging.getLogger(__name__)

#: Days before expiry at which a person is warned (an activity on the connection).
WARNING_DAYS = (60, 30, 7)
BANK_SECRET_FIELDS = ("bank_private_key", "bank_pin")
DOWNLOAD, UPLOAD = "download", "upload"


class HeerosLinkBankProfile(models.Model):
    _name = "heeros.link.bank.profile"
    _description = "Bank Web Services profile"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code of the profile, e.g. nordea, op, samlink.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    bic = fields.Char("BIC", help="The bank's BIC (first letters), to recognise the bank of an account.")
    file_service_url = fields.Char("File service (production)")
    file_service_test_url = fields.Char("File service (test)")
    cert_service_url = fields.Char("Certificate service (production)")
    cert_service_test_url = fields.Char("Certificate service (test)")
    algorithm = fields.Selection(
        [("sha1", "SHA-1"), ("sha256", "SHA-256")],
        "Signature algorithm",
        default="sha256",
        required=True,
        help="Digest and RSA signature of the ApplicationRequest and of the SOAP message.",
    )
    canonicalization = fields.Selection(
        [("inclusive", "Inclusive (C14N 1.0)"), ("exclusive", "Exclusive (exc-C14N)")],
        "Canonicalisation of the ApplicationRequest",
        default="inclusive",
        required=True,
    )
    renew_canonicalization = fields.Selection(
        [("inclusive", "Inclusive (C14N 1.0)"), ("exclusive", "Exclusive (exc-C14N)")],
        "Canonicalisation of a renewal",
        default="inclusive",
        required=True,
        help="Danske Bank's certificate renewal needs exclusive canonicalisation.",
    )
    cert_request_family = fields.Selection(
        [("nordea", "Nordea (filetransfer.nordea.com)"), ("op", "OP and Samlink (op.fi/mlp)")],
        "Certificate request format",
        default="nordea",
        required=True,
    )
    pin_as = fields.Selection(
        [("hmac", "HMAC of the request keyed with the PIN"), ("transfer_key", "PIN as transfer key")],
        "How the PIN is sent",
        default="hmac",
        required=True,
    )
    cert_service = fields.Char(
        "Certificate service code", default="MATU", help="Nordea: MATU; OP: MATU; Samlink: MATU."
    )
    renew_command = fields.Char(
        "Renewal command", default="RenewCertificate", help="Command of a renewal signed with the current certificate."
    )
    uses_target_id = fields.Boolean("Uses a target id", help="Nordea and OP: the agreement's target id (folder).")
    encryption = fields.Boolean(
        "Encrypted application requests",
        help="Danske Bank encrypts the ApplicationRequest with the bank's encryption certificate and "
        "uses separate signing and encryption certificates.",
    )
    confirm_mode = fields.Selection(
        [("none", "The bank marks a downloaded file itself"), ("delete", "Delete the file (DeleteFile)")],
        "After a download",
        default="none",
        required=True,
    )
    list_status = fields.Selection(
        [("NEW", "New files"), ("ALL", "All files")],
        "Files listed",
        default="NEW",
        required=True,
        help="Listing all files is safe: a file already stored is recognised by its file reference "
        "and not fetched again.",
    )
    certificate_years = fields.Integer("Certificate lasts (years)", default=2)
    root_certificate = fields.Text(
        "Bank root certificate (PEM)",
        help="The bank's root (and intermediate) certificates in PEM form: every answer of the bank "
        "must be signed by a certificate they issued. Replace it when the bank announces a new root.",
    )
    root_certificate_info = fields.Char("Root certificates in use", compute="_compute_root_certificate_info")
    file_type_ids = fields.One2many("heeros.link.bank.file.type", "profile_id", "File types", copy=True)
    note = fields.Text(translate=True, help="What to ask the bank for when setting up an agreement.")

    _sql_constraints = [("code_uniq", "unique(code)", "A bank profile code is used once.")]

    @api.depends("root_certificate")
    def _compute_root_certificate_info(self):
        for profile in self:
            try:
                certs = ws.load_certificates(profile.root_certificate or "")
                profile.root_certificate_info = "; ".join(
                    f"{ws.describe_certificate(c)} (until {ws.not_after(c):%Y-%m-%d})" for c in certs
                ) or _("none")
            except ws.BankWsError as exc:
                profile.root_certificate_info = str(exc)

    def _link_bank_code(self, document_type, direction):
        """The bank's file-type code of a Link document type, or ''."""
        self.ensure_one()
        line = self.file_type_ids.filtered(
            lambda t: t.document_type == document_type and t.direction in (direction, "both")
        )[:1]
        return line.code or ""


class HeerosLinkBankFileType(models.Model):
    _name = "heeros.link.bank.file.type"
    _description = "Bank file type"
    _order = "profile_id, sequence, id"

    profile_id = fields.Many2one("heeros.link.bank.profile", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    document_type = fields.Char(required=True, help="The Link's document type, e.g. pain.001, camt.053, tito.")
    code = fields.Char("Bank code", required=True, help="The bank's FileType, e.g. NDCORPAYS, XT.")
    direction = fields.Selection(
        [(DOWNLOAD, "Download"), (UPLOAD, "Upload"), ("both", "Both")], required=True, default=DOWNLOAD
    )
    listed = fields.Boolean("Fetch", default=True, help="Listed and downloaded by the fetch cron.")


class HeerosLinkConnectionBankWs(models.Model):
    _name = "heeros.link.connection"
    _inherit = ["heeros.link.connection", "mail.activity.mixin"]

    bank_profile_id = fields.Many2one("heeros.link.bank.profile", "Bank", tracking=True)
    bank_environment = fields.Selection(
        [("PRODUCTION", "Production"), ("TEST", "Test")], "Bank environment", default="PRODUCTION", tracking=True
    )
    bank_customer_id = fields.Char("Customer id (UserID)", tracking=True)
    bank_target_id = fields.Char("Target id", tracking=True)
    bank_service_url = fields.Char(
        "File service address",
        tracking=True,
        help="Leave empty to use the bank profile's address for the environment.",
    )
    bank_cert_service_url = fields.Char("Certificate service address", tracking=True)
    bank_signer_name = fields.Char("Name in the certificate", help="Defaults to the owner company's name.")
    bank_private_key = fields.Text("Private key (PEM)", groups="base.group_system", copy=False)
    bank_certificate = fields.Text("Certificate (PEM)", groups="base.group_system", copy=False)
    bank_pin = fields.Char(
        "PIN (activation code)",
        groups="base.group_system",
        copy=False,
        help="The one-time code the bank gave for this agreement; forgotten once the certificate is fetched.",
    )
    bank_tls_ca = fields.Text(
        "Extra HTTPS authority (PEM)",
        groups="base.group_system",
        copy=False,
        help="Only for a bank test environment whose HTTPS certificate is not issued by a public authority.",
    )
    bank_cert_subject = fields.Char("Certificate subject", readonly=True, copy=False)
    bank_cert_expiry = fields.Datetime("Certificate valid until", readonly=True, copy=False)
    bank_cert_warned = fields.Integer(
        "Warned at (days)", readonly=True, copy=False, help="Smallest warning threshold already announced."
    )
    bank_cert_days = fields.Integer("Days of certificate left", compute="_compute_bank_cert_state")
    bank_cert_state = fields.Selection(
        [("none", "No certificate"), ("valid", "Valid"), ("expiring", "Expires soon"), ("expired", "Expired")],
        "Certificate",
        compute="_compute_bank_cert_state",
    )
    bank_auto_renew = fields.Boolean(
        "Renew automatically", default=True, help="Renew the certificate 60 days before it expires."
    )

    @api.depends("bank_cert_expiry", "protocol")
    def _compute_bank_cert_state(self):
        now = fields.Datetime.now()
        for connection in self:
            expiry = connection.bank_cert_expiry
            if connection.protocol != "bank_ws" or not expiry:
                connection.bank_cert_state = "none"
                connection.bank_cert_days = 0
                continue
            days = (expiry - now).days
            connection.bank_cert_days = days
            if expiry <= now:
                connection.bank_cert_state = "expired"
            elif days <= WARNING_DAYS[0]:
                connection.bank_cert_state = "expiring"
            else:
                connection.bank_cert_state = "valid"

    # ------------------------------------------------------------------
    # guards
    # ------------------------------------------------------------------
    def _link_endpoint_fields(self):
        return [*super()._link_endpoint_fields(), "bank_profile_id", "bank_customer_id", "bank_environment"]

    def _link_check_may_set_credentials(self, vals):
        super()._link_check_may_set_credentials(vals)
        if not self._link_is_administrator() and any(
            vals.get(name) for name in (*BANK_SECRET_FIELDS, "bank_certificate", "bank_tls_ca")
        ):
            raise AccessError(_("Only a system administrator can enter a bank agreement's PIN, key or certificates."))

    def _link_clear_credentials(self, changes):
        super()._link_clear_credentials(changes)
        for connection in changes:
            secrets = connection.sudo()
            if secrets.bank_private_key or secrets.bank_certificate:
                secrets.write(
                    {
                        "bank_private_key": False,
                        "bank_certificate": False,
                        "bank_pin": False,
                        "bank_cert_expiry": False,
                        "bank_cert_subject": False,
                    }
                )

    # ------------------------------------------------------------------
    # channel
    # ------------------------------------------------------------------
    def _link_bank_url(self, which="file"):
        self.ensure_one()
        profile = self.bank_profile_id
        test = self.bank_environment == "TEST"
        if which == "file":
            return self.bank_service_url or (profile.file_service_test_url if test else profile.file_service_url) or ""
        return self.bank_cert_service_url or (profile.cert_service_test_url if test else profile.cert_service_url) or ""

    def _link_bank_download_types(self):
        self.ensure_one()
        lines = self.bank_profile_id.file_type_ids.filtered(lambda t: t.listed and t.direction in (DOWNLOAD, "both"))
        return tuple(dict.fromkeys(lines.mapped("code")))

    def _channel_config(self):
        if self.protocol != "bank_ws":
            return super()._channel_config()
        self.ensure_one()
        profile = self.bank_profile_id
        if not profile:
            raise ChannelConfigError(f"connection {self.name} has no bank profile")
        if profile.encryption:
            raise ChannelConfigError(
                f"{profile.name} encrypts its application requests; the Link does not encrypt them yet"
            )
        secrets = self.sudo()
        return BankWsConfig(
            protocol="bank_ws",
            url=self._link_bank_url("file"),
            customer_id=self.bank_customer_id or "",
            target_id=(self.bank_target_id or "") if profile.uses_target_id else "",
            environment=self.bank_environment or "PRODUCTION",
            algorithm=profile.algorithm,
            c14n=profile.canonicalization,
            signing_key=secrets.bank_private_key or "",
            signing_cert=secrets.bank_certificate or "",
            bank_roots=profile.sudo().root_certificate or "",
            tls_ca=secrets.bank_tls_ca or "",
            download_types=self._link_bank_download_types(),
            list_status=profile.list_status,
            confirm_mode=profile.confirm_mode,
            timeout=float(self.timeout or 30),
            max_size=self.max_file_size or 0,
        )

    def _link_bank_file_type(self, document_type):
        """The bank's code for uploading a document of ``document_type``."""
        self.ensure_one()
        return self.bank_profile_id._link_bank_code(document_type, UPLOAD) if self.bank_profile_id else ""

    # ------------------------------------------------------------------
    # fetching: one message per bank file reference
    # ------------------------------------------------------------------
    def _link_bank_known(self, reference):
        """The message already holding the bank file ``reference``."""
        return (
            self.env["heeros.link.message"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", self.id),
                    ("direction", "=", "in"),
                    ("heeros_link_bank_file_ref", "=", reference),
                ],
                limit=1,
            )
        )

    def _fetch_one(self, channel, remote):
        if self.protocol != "bank_ws":
            return super()._fetch_one(channel, remote)
        Message = self.env["heeros.link.message"]
        known = self._link_bank_known(remote.name)
        if not known:
            data = channel.download(remote)
            known = Message._link_intake([(self._link_bank_file_name(remote), data)], connection=self, process=False)
            known.sudo().write({"external_ref": remote.name, "heeros_link_bank_file_ref": remote.name})
            Message._link_commit()
            fetched = known
        else:
            fetched = Message
        try:
            channel.confirm(remote)
        except ChannelError as exc:
            known.message_post(body=_("Stored, but the bank file could not be confirmed: %s", exc))
        return fetched

    def _link_bank_file_name(self, remote):
        """The name a downloaded bank file is kept under: its type and reference."""
        return f"{remote.path or 'bank'}_{remote.name}".replace("/", "_")

    # ------------------------------------------------------------------
    # certificate service
    # ------------------------------------------------------------------
    def _link_bank_cert_service(self, c14n=None):
        self.ensure_one()
        profile = self.bank_profile_id
        if not profile:
            raise UserError(_("Choose the bank of connection %s first.", self.name))
        namespace = ws.CERT_NS_NORDEA if profile.cert_request_family == "nordea" else ws.CERT_NS_OP
        return CertificateService(
            self._link_bank_url("cert"),
            customer_id=self.bank_customer_id or "",
            environment=self.bank_environment or "PRODUCTION",
            namespace=namespace,
            pin_as=profile.pin_as,
            service=profile.cert_service or None,
            bank_roots=profile.sudo().root_certificate or "",
            tls_ca=self.sudo().bank_tls_ca or "",
            timeout=float(self.timeout or 30),
            algorithm=profile.algorithm,
            c14n=c14n or profile.canonicalization,
            renew_command=profile.renew_command or "RenewCertificate",
        )

    def _link_bank_new_key(self):
        """A new key pair and its PKCS#10 request: ``(key PEM, CSR DER)``."""
        self.ensure_one()
        name = self.bank_signer_name or self.company_id.name
        return ws.make_key_and_csr(name, self.bank_customer_id or "")

    def _link_bank_store_certificate(self, key_pem, cert, note):
        """Keep the new key and certificate (administrators only) and record
        what people may read: subject and validity, never the key."""
        self.sudo().write(
            {
                "bank_private_key": key_pem,
                "bank_certificate": ws.certificate_pem(cert),
                "bank_pin": False,
                "bank_cert_subject": ws.describe_certificate(cert),
                "bank_cert_expiry": ws.not_after(cert).replace(tzinfo=None),
                "bank_cert_warned": 0,
                "last_error": False,
                "last_error_date": False,
            }
        )
        self.message_post(body=note)

    def action_bank_enrol(self):
        """Fetch the agreement's first certificate with the bank's PIN."""
        self.ensure_one()
        if not self._link_is_administrator():
            raise AccessError(_("Only a system administrator can enrol a bank certificate."))
        if self.protocol != "bank_ws":
            raise UserError(_("Only bank Web Services connections have certificates."))
        pin = self.sudo().bank_pin
        if not pin:
            raise UserError(_("Enter the PIN (activation code) the bank gave for this agreement, then try again."))
        key_pem, csr = self._link_bank_new_key()
        try:
            cert = self._link_bank_cert_service().enrol(csr, pin)
        except ChannelError as exc:
            self._record_failure(exc)
            raise UserError(_("The bank did not issue a certificate: %s", exc)) from None
        self._link_bank_store_certificate(
            key_pem,
            cert,
            _(
                "Certificate fetched by %(user)s: %(subject)s, valid until %(until)s.",
                user=self.env.user.name,
                subject=ws.describe_certificate(cert),
                until=ws.not_after(cert).strftime("%Y-%m-%d"),
            ),
        )
        return True

    def _link_bank_renew(self):
        """A new certificate signed with the current one (before it expires:
        an expired certificate cannot sign its renewal; enrol again)."""
        self.ensure_one()
        secrets = self.sudo()
        if not secrets.bank_private_key or not secrets.bank_certificate:
            raise UserError(_("Connection %s has no certificate to renew: enrol with the bank's PIN.", self.name))
        if self.bank_cert_expiry and self.bank_cert_expiry <= fields.Datetime.now():
            raise UserError(
                _("The certificate of %s has expired: ask the bank for a new PIN and enrol again.", self.name)
            )
        key_pem, csr = self._link_bank_new_key()
        service = self._link_bank_cert_service(c14n=self.bank_profile_id.renew_canonicalization)
        cert = service.renew(csr, secrets.bank_private_key, secrets.bank_certificate)
        self._link_bank_store_certificate(
            key_pem,
            cert,
            _(
                "Certificate renewed: %(subject)s, valid until %(until)s.",
                subject=ws.describe_certificate(cert),
                until=ws.not_after(cert).strftime("%Y-%m-%d"),
            ),
        )
        return cert

    def action_bank_renew(self):
        self.ensure_one()
        if not self._link_is_administrator():
            raise AccessError(_("Only a system administrator can renew a bank certificate."))
        try:
            self._link_bank_renew()
        except ChannelError as exc:
            self._record_failure(exc)
            raise UserError(_("The certificate was not renewed: %s", exc)) from None
        return True

    def _link_bank_warn(self, days):
        """An activity for the connection's responsible people, once per threshold."""
        self.ensure_one()
        threshold = min((d for d in WARNING_DAYS if days <= d), default=None)
        if threshold is None or (self.bank_cert_warned and self.bank_cert_warned <= threshold):
            return False
        summary = _("Bank certificate expires in %s days", max(days, 0))
        note = _(
            "The Web Services certificate of %(conn)s expires on %(when)s. Renew it (button Renew "
            "certificate) or, once expired, ask the bank for a new PIN and enrol again.",
            conn=self.name,
            when=fields.Date.to_string(self.bank_cert_expiry.date()),
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=(self.create_uid or self.env.user).id,
        )
        self.sudo().bank_cert_warned = threshold
        return True

    @api.model
    def _cron_bank_certificates(self):
        """Daily: renew certificates due for renewal, warn 60, 30 and 7
        days before one expires."""
        Message = self.env["heeros.link.message"]
        connections = self.search([("protocol", "=", "bank_ws"), ("bank_cert_expiry", "!=", False)])
        now = fields.Datetime.now()
        for connection in connections:
            days = (connection.bank_cert_expiry - now).days
            if days <= WARNING_DAYS[0] and connection.bank_auto_renew and connection.bank_cert_expiry > now:
                try:
                    with self.env.cr.savepoint():
                        connection.with_company(connection.company_id)._link_bank_renew()
                    Message._link_commit()
                    continue
                except (ChannelError, UserError) as exc:
                    Message._link_note_connection(connection, "_record_failure", exc)
            connection._link_bank_warn(days)
            Message._link_commit()
        return True


class HeerosLinkMessageBankWs(models.Model):
    _inherit = "heeros.link.message"

    heeros_link_bank_file_ref = fields.Char(
        "Bank file reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The bank's reference of a file fetched over Web Services: the same file is fetched once.",
    )

    def _link_send_one(self, channel, connection):
        if connection.protocol == "bank_ws" and hasattr(channel, "prepare_upload"):
            channel.prepare_upload(connection._link_bank_file_type(self.document_type))
        return super()._link_send_one(channel, connection)
