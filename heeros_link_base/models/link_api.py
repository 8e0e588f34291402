import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class HeerosLinkMessageApi(models.Model):
    _inherit = "heeros.link.message"

    def _link_api_values(self):
        """One dict per message as the integration API returns it."""
        to_iso = self.env["heeros.link.api.idempotency"]._link_iso
        return [
            {
                "id": message.id,
                "name": message.name,
                "direction": message.direction,
                "document_type": message.document_type or None,
                "company_id": message.company_id.id,
                "connection_id": message.connection_id.id or None,
                "file_name": message.file_name or None,
                "sha256": message.sha256 or None,
                "size": message.size,
                "external_ref": message.external_ref or None,
                "state": message.state,
                "error": message.error or None,
                "attempts": message.attempts,
                "parent_id": message.parent_id.id or None,
                "duplicate_of_id": message.duplicate_of_id.id or None,
                "created_at": to_iso(message.create_date),
                "changed_at": to_iso(message.write_date),
                "processed_at": to_iso(message.processed_date),
                "next_attempt_at": to_iso(message.next_attempt),
                "records": [
                    {"model": link.res_model, "id": link.res_id, "role": link.role} for link in message.sudo().link_ids
                ],
            }
            for message in self
        ]

    @api.model
    def _link_api_outbound_types(self):
        """Codes of the document types a client may upload to be sent."""
        return sorted(
            code for code, described in self._link_document_types().items() if described.direction in ("out", "both")
        )

    @api.model
    def _link_api_upload(self, direction, company, file_name, data, document_type=None, connection=None):
        """Store a document a client sent through the API: inbound, processed
        as if fetched through ``connection``; outbound, queued to be sent
        through it (or the company's outbound connection). The user's own
        rights are checked as for the upload wizard."""
        connection = connection or None
        self._link_check_intake_access(company, connection)
        if direction == "in":
            return self.with_company(company)._link_intake(
                [(file_name, data)], connection=connection, company=company, process=True
            )
        if document_type not in self._link_api_outbound_types():
            raise UserError(
                _(
                    "%(type)s is not a document type the Link sends; it sends: %(known)s",
                    type=document_type,
                    known=", ".join(self._link_api_outbound_types()) or "-",
                )
            )
        message = self.with_company(company)._link_queue(
            document_type, self._link_storable_name(file_name), data, company, connection=connection
        )
        return message.with_env(self.env)


class HeerosLinkApiIdempotency(models.Model):
    """The answers of API requests sent with an ``Idempotency-Key``, so that a
    client repeating a request (after a timeout, from two workers) gets the
    first answer again and nothing is created twice."""

    _name = "heeros.link.api.idempotency"
    _description = "Link API request answered once"
    _order = "id desc"

    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade", index=True)
    key = fields.Char(required=True, readonly=True)
    request_sha256 = fields.Char("Request SHA-256", required=True, readonly=True)
    status_code = fields.Integer(readonly=True)
    response = fields.Text(readonly=True)

    _sql_constraints = [
        ("user_key_uniq", "unique(user_id, key)", "An Idempotency-Key is used once per user."),
    ]

    @api.model
    def _link_iso(self, value):
        return value.replace(microsecond=0).isoformat() + "Z" if value else None

    @api.model
    def _link_claim(self, key, digest):
        """Claim ``key`` for this user and request ``digest``.

        Returns ``("new", id)`` when the request is to be done (then
        :meth:`_link_store_answer`), ``("replay", status, value)`` when it was
        done already, ``("conflict", None)`` when the key was used for another
        request. The key is inserted first: a concurrent request with the same
        key waits on the unique index until the first one commits, then (Odoo
        runs it again after the serialization conflict) finds its answer."""
        self.flush_model()
        self.env.cr.execute(
            """INSERT INTO heeros_link_api_idempotency
                      (user_id, key, request_sha256, create_uid, create_date, write_uid, write_date)
               VALUES (%(uid)s, %(key)s, %(digest)s, %(uid)s, now() at time zone 'utc', %(uid)s,
                       now() at time zone 'utc')
               ON CONFLICT (user_id, key) DO NOTHING
               RETURNING id""",
            {"uid": self.env.uid, "key": key, "digest": digest},
        )
        row = self.env.cr.fetchone()
        if row:
            return ("new", row[0])
        self.env.cr.execute(
            "SELECT request_sha256, status_code, response FROM heeros_link_api_idempotency "
            "WHERE user_id = %s AND key = %s",
            [self.env.uid, key],
        )
        stored_digest, status, response = self.env.cr.fetchone()
        if stored_digest != digest or response is None:
            return ("conflict", None)
        return ("replay", status, json.loads(response))

    @api.model
    def _link_store_answer(self, claim_id, status, value):
        self.env.cr.execute(
            "UPDATE heeros_link_api_idempotency SET status_code = %s, response = %s WHERE id = %s",
            [status, json.dumps(value, default=str), claim_id],
        )

    @api.autovacuum
    def _gc_old_answers(self):
        """Keys are remembered for 30 days."""
        limit = fields.Datetime.subtract(fields.Datetime.now(), days=30)
        self.search([("create_date", "<", limit)]).unlink()


class HeerosLinkApiRate(models.Model):
    """Requests counted per API key and fixed window, in the database, so
    that every server process and worker shares one count."""

    _name = "heeros.link.api.rate"
    _description = "Link API requests counted per key"
    _log_access = False

    bucket = fields.Char(required=True, index=False, readonly=True)
    window = fields.Integer(required=True, readonly=True)
    hits = fields.Integer(required=True, readonly=True)

    _sql_constraints = [("bucket_unique", "UNIQUE(bucket)", "One count per API key.")]

    @api.model
    def _link_hit(self, bucket, window):
        """Count one request of ``bucket`` in ``window``; returns the count so
        far in that window. Its own transaction: a read-only request counts
        too, and the count stays when the request's own work is rolled back."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                """
                INSERT INTO heeros_link_api_rate (bucket, "window", hits) VALUES (%s, %s, 1)
                ON CONFLICT (bucket) DO UPDATE SET
                    hits = CASE WHEN heeros_link_api_rate."window" = EXCLUDED."window"
                                THEN heeros_link_api_rate.hits + 1 ELSE 1 END,
                    "window" = EXCLUDED."window"
                RETURNING hits
                """,
                (bucket, window),
            )
            return cr.fetchone()[0]

    @api.autovacuum
    def _gc_old_windows(self):
        """Counts of windows older than an hour go."""
        import time

        self.env.cr.execute('DELETE FROM heeros_link_api_rate WHERE "window" < %s', (int(time.time() // 60) - 60,))


class ResUsersApiDemo(models.Model):
    _inherit = "res.users"

    #: Where the demo database keeps its example API key in clear, for
    #: ``bash .ci/link run`` to print (demo data only: a real key is shown once).
    _HEEROS_LINK_DEMO_KEY_PARAM = "heeros_link.demo_api_key"

    @api.model
    def _heeros_link_demo_api_key(self, user_id):
        """Give the demo's bureau operator an API key (once) and remember it."""
        Param = self.env["ir.config_parameter"].sudo()
        user = self.browse(user_id)
        known = Param.get_param(self._HEEROS_LINK_DEMO_KEY_PARAM)
        Keys = self.env["res.users.apikeys"].sudo()
        if known and Keys._check_credentials(scope="rpc", key=known) == user.id:
            return known
        key = Keys.with_user(user).sudo()._generate("rpc", "Integration API (demo)", None)
        Param.set_param(self._HEEROS_LINK_DEMO_KEY_PARAM, key)
        return key
