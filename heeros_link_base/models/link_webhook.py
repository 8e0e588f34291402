"""Webhooks: the Link tells other systems what happened.

A subscription (``heeros.link.webhook``) names a company, a URL, the events
it wants and a secret. When an event happens, a delivery record is written
in the same transaction (so nothing is announced that was rolled back); the
delivery cron posts it later, outside any user's transaction, retries with
back-off and records every answer. An endpoint that keeps failing is
disabled with an activity for the Link manager responsible for it.

Each POST carries a JSON body and the headers ``X-Heeros-Link-Event``,
``X-Heeros-Link-Delivery`` (the delivery id, the same on every retry),
``X-Heeros-Link-Timestamp`` (Unix seconds) and ``X-Heeros-Link-Signature``:
``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` keyed with the
subscription's secret.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import plaintext2html

_logger = logging.getLogger(__name__)

#: Attempts of one delivery before it is given up.
DELIVERY_ATTEMPTS = 8
#: First retry after this delay, doubled on each further attempt.
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=12)
TIMEOUT = 10
#: How much of a receiver's answer is kept.
KEPT_ANSWER = 2000


#: System parameter (set by a system administrator only) that lets webhooks
#: post to loopback, private and link-local addresses: a receiver on the
#: Odoo server itself or in its own network.
PRIVATE_PARAM = "heeros_link.webhook_private_addresses"


def forbidden_address(host):
    """The first address ``host`` names or resolves to that is not a public
    one (loopback, private, link-local such as a cloud's metadata service,
    multicast, reserved, unspecified), else ``None``. A name that does not
    resolve gives ``None``: the delivery fails on it anyway."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def signature(secret, timestamp, body):
    """The value of ``X-Heeros-Link-Signature`` for ``body`` (bytes)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HeerosLinkWebhookEvent(models.Model):
    _name = "heeros.link.webhook.event"
    _description = "Link webhook event"
    _order = "code"
    _rec_name = "name"

    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, translate=True)
    description = fields.Text(translate=True)

    _sql_constraints = [("code_uniq", "unique(code)", "A webhook event code must be unique.")]


class HeerosLinkWebhook(models.Model):
    _name = "heeros.link.webhook"
    _description = "Link webhook"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "company_id, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    url = fields.Char("URL", required=True, tracking=True, help="Where the events are posted. Use https://.")
    event_ids = fields.Many2many("heeros.link.webhook.event", string="Events", required=True)
    secret = fields.Char(
        groups="heeros_link_base.group_link_manager",
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        help="Key of the HMAC-SHA256 signature of each delivery; the receiver checks it with the same secret.",
    )
    user_id = fields.Many2one(
        "res.users",
        "Responsible",
        default=lambda self: self.env.user,
        help="The Link manager who is told when the endpoint is disabled.",
    )
    max_failures = fields.Integer(
        "Disable after failures",
        default=20,
        help="Failed attempts in a row after which the subscription is disabled (0: never).",
    )
    failure_count = fields.Integer("Failures in a row", readonly=True, copy=False)
    last_success = fields.Datetime(readonly=True, copy=False)
    last_failure = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    delivery_ids = fields.One2many("heeros.link.webhook.delivery", "webhook_id", "Deliveries", readonly=True)
    delivery_count = fields.Integer(compute="_compute_delivery_count")

    @api.constrains("url")
    def _check_url(self):
        for webhook in self:
            parts = urlsplit(webhook.url or "")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValidationError(
                    _("Webhook %(name)s: %(url)s is not an http(s) URL.", name=webhook.name, url=webhook.url)
                )
            address = webhook._link_forbidden_address(parts.hostname)
            if address:
                raise ValidationError(
                    _(
                        "Webhook %(name)s: %(url)s points to %(address)s, a local or private address. Webhooks "
                        "post to public addresses only, unless a system administrator allows private ones "
                        "(system parameter %(param)s).",
                        name=webhook.name,
                        url=webhook.url,
                        address=address,
                        param=PRIVATE_PARAM,
                    )
                )

    def _link_forbidden_address(self, host):
        """Hook: the address of ``host`` a webhook must not post to, or ``None``."""
        allowed = self.env["ir.config_parameter"].sudo().get_param(PRIVATE_PARAM, "")
        if allowed.strip().lower() in ("1", "true", "yes"):
            return None
        return forbidden_address(host)

    def _compute_delivery_count(self):
        counts = dict(
            self.env["heeros.link.webhook.delivery"]._read_group(
                [("webhook_id", "in", self.ids)], ["webhook_id"], ["__count"]
            )
        )
        for webhook in self:
            webhook.delivery_count = counts.get(webhook, 0)

    def write(self, vals):
        if vals.get("active"):
            vals.setdefault("failure_count", 0)
        return super().write(vals)

    def action_new_secret(self):
        for webhook in self:
            webhook.secret = secrets.token_urlsafe(32)
            webhook.message_post(body=_("A new secret was made by %s.", self.env.user.name))
        return True

    def action_send_test(self):
        """Queue a ``ping`` delivery and try it at once."""
        deliveries = self.env["heeros.link.webhook.delivery"]
        for webhook in self:
            deliveries |= webhook._link_new_delivery("ping", {"webhook_id": webhook.id})
        deliveries.sudo()._link_deliver()
        return True

    def action_view_deliveries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_webhook_delivery_action")
        action["domain"] = [("webhook_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # events
    # ------------------------------------------------------------------
    @api.model
    def _link_has_subscribers(self, event, company):
        return bool(
            self.sudo().search_count(
                [("company_id", "=", company.id), ("active", "=", True), ("event_ids.code", "=", event)], limit=1
            )
        )

    @api.model
    def _link_notify(self, event, company, data):
        """Announce ``event`` of ``company`` with ``data`` (a JSON value) to
        the company's active subscriptions; returns the deliveries. Called
        inside the transaction that made the event happen: if it rolls back,
        nothing is announced."""
        webhooks = self.sudo().search(
            [("company_id", "=", company.id), ("active", "=", True), ("event_ids.code", "=", event)]
        )
        deliveries = self.env["heeros.link.webhook.delivery"].sudo()
        for webhook in webhooks:
            deliveries |= webhook._link_new_delivery(event, data)
        if deliveries:
            self.env.ref("heeros_link_base.ir_cron_heeros_link_webhook_deliver").sudo()._trigger()
        return deliveries

    def _link_new_delivery(self, event, data):
        self.ensure_one()
        now = fields.Datetime.now()
        delivery_id = str(uuid.uuid4())
        body = {
            "id": delivery_id,
            "event": event,
            "created_at": now.isoformat() + "Z",
            "company_id": self.company_id.id,
            "data": data,
        }
        return (
            self.env["heeros.link.webhook.delivery"]
            .sudo()
            .create(
                {
                    "webhook_id": self.id,
                    "uuid": delivery_id,
                    "event": event,
                    "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
                    "next_attempt": now,
                }
            )
        )

    def _link_record_failure(self, error):
        """One more failed attempt in a row; disable when there were too many."""
        for webhook in self:
            count = webhook.failure_count + 1
            vals = {"failure_count": count, "last_failure": fields.Datetime.now(), "last_error": error}
            webhook.sudo().write(vals)
            if webhook.max_failures and count >= webhook.max_failures and webhook.active:
                webhook._link_disable(count, error)

    def _link_disable(self, count, error):
        self.ensure_one()
        self.sudo().write({"active": False, "failure_count": count})
        text = _(
            "Webhook %(name)s was disabled after %(count)s failed deliveries in a row to %(url)s. Last "
            "error: %(error)s. Fix the receiver, then activate the webhook again: its waiting deliveries "
            "are sent then.",
            name=self.name,
            count=count,
            url=self.url,
            error=error,
        )
        self.sudo().message_post(body=plaintext2html(text))
        user = self._link_manager_to_tell()
        if user:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=_("Webhook disabled"),
                note=plaintext2html(text),
            )

    def _link_manager_to_tell(self):
        """The responsible user when he is a Link manager of the company,
        else any Link manager of it."""
        self.ensure_one()
        group = self.env.ref("heeros_link_base.group_link_manager")
        user = self.user_id
        if user and user.active and group in user.groups_id and self.company_id in user.company_ids:
            return user
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [("groups_id", "in", group.id), ("company_ids", "in", self.company_id.id), ("share", "=", False)],
                order="id",
                limit=1,
            )
        )


class HeerosLinkWebhookDelivery(models.Model):
    _name = "heeros.link.webhook.delivery"
    _description = "Link webhook delivery"
    _order = "id desc"
    _rec_name = "uuid"

    webhook_id = fields.Many2one("heeros.link.webhook", required=True, readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="webhook_id.company_id", store=True, index=True)
    uuid = fields.Char("Delivery id", required=True, readonly=True, index=True)
    event = fields.Char(required=True, readonly=True, index=True)
    body = fields.Text(required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Waiting"), ("delivered", "Delivered"), ("failed", "Given up")],
        required=True,
        default="pending",
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(readonly=True, index=True)
    last_attempt = fields.Datetime(readonly=True)
    response_code = fields.Integer("Response code", readonly=True, help="HTTP status of the last answer (0: none).")
    response_text = fields.Text("Response", readonly=True)
    error = fields.Text(readonly=True)

    @api.model
    def _cron_deliver(self, batch=200):
        """Post the waiting deliveries that are due, oldest first, each in
        its own transaction; deliveries of disabled webhooks wait."""
        due = self.search(
            [
                ("state", "=", "pending"),
                ("next_attempt", "<=", fields.Datetime.now()),
                ("webhook_id.active", "=", True),
            ],
            order="id",
            limit=batch,
        )
        due._link_deliver()

    def _link_deliver(self):
        Message = self.env["heeros.link.message"]
        for delivery in self.sorted("id"):
            Message._link_commit()
            self.env.cr.execute(
                "SELECT state FROM heeros_link_webhook_delivery WHERE id = %s FOR UPDATE SKIP LOCKED",
                [delivery.id],
            )
            row = self.env.cr.fetchone()
            delivery.invalidate_recordset()
            if not row or row[0] != "pending" or not delivery.webhook_id.active:
                continue
            delivery._link_post()
            Message._link_commit()

    def _link_post(self):
        """One attempt: POST, then record the answer (a 2xx status is success)."""
        self.ensure_one()
        webhook = self.webhook_id.sudo()
        body = self.body.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Heeros-Link-Webhook/1",
            "X-Heeros-Link-Event": self.event,
            "X-Heeros-Link-Delivery": self.uuid,
            "X-Heeros-Link-Timestamp": str(timestamp),
            "X-Heeros-Link-Signature": signature(webhook.secret or "", timestamp, body),
        }
        now = fields.Datetime.now()
        attempts = self.attempts + 1
        code, text, error = 0, False, False
        # checked again at each delivery: the name may resolve elsewhere now
        address = webhook._link_forbidden_address(urlsplit(webhook.url).hostname or "")
        if address:
            error = _(
                "not posted: %(url)s now points to %(address)s, a local or private address",
                url=webhook.url,
                address=address,
            )
        else:
            try:
                response = requests.post(
                    webhook.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
                )
                code, text = response.status_code, response.text[:KEPT_ANSWER]
                if not 200 <= code < 300:
                    error = _("the receiver answered HTTP %s", code)
            except requests.RequestException as exc:
                error = _("no answer from the receiver: %s", exc)
        vals = {"attempts": attempts, "last_attempt": now, "response_code": code, "response_text": text}
        if not error:
            vals.update({"state": "delivered", "next_attempt": False, "error": False})
            self.write(vals)
            webhook.write({"failure_count": 0, "last_success": now})
            return True
        if attempts >= DELIVERY_ATTEMPTS:
            vals.update({"state": "failed", "next_attempt": False, "error": error})
        else:
            delay = min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)
            vals.update({"next_attempt": now + delay, "error": error})
        self.write(vals)
        webhook._link_record_failure(error)
        return False

    def action_retry_now(self):
        self.filtered(lambda d: d.state != "delivered").sudo().write({"state": "pending", "next_attempt": False})
        self.sudo()._link_deliver()
        return True


class HeerosLinkMessageWebhook(models.Model):
    _inherit = "heeros.link.message"

    #: Message states announced to webhooks, and their event.
    _LINK_WEBHOOK_STATES = {"processed": "message.processed", "error": "message.error"}

    def _link_state_changed(self, state):
        super()._link_state_changed(state)
        event = self._LINK_WEBHOOK_STATES.get(state)
        if not event:
            return
        Webhook = self.env["heeros.link.webhook"].sudo()
        for company, messages in self.sudo().grouped("company_id").items():
            if not Webhook._link_has_subscribers(event, company):
                continue
            for values in messages._link_api_values():
                Webhook._link_notify(event, company, {"message": values})
