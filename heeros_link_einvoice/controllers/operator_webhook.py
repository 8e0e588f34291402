"""Maventa's webhook notifications.

Maventa posts an event (an invoice delivered, failed, received) to the
address registered for the company: here
``/heeros_link/operator/maventa/<token>``, where ``token`` is the secret of
one Maventa connection (made by a system administrator with *New
notification address*). A notification is never taken at its word: it only
tells the Link which invoice to ask Maventa about, through the connection's
own authenticated channel, or that received invoices are waiting (the next
fetch is brought forward). A forged or replayed notification therefore
changes nothing that Maventa itself does not confirm.
"""

import hmac
import json

from odoo import SUPERUSER_ID, http
from odoo.http import request

#: A notification is a small JSON document.
MAX_BODY = 64 * 1024


def _event_ids(payload):
    """``(event name, [invoice ids])`` of a notification, whatever its nesting."""
    if not isinstance(payload, dict):
        return "", []
    event = str(payload.get("event") or payload.get("type") or payload.get("event_type") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else payload
    ids = []
    for key in ("invoice_id", "document_id", "id"):
        value = data.get(key)
        if isinstance(value, str | int) and str(value):
            ids.append(str(value))
            break
    return event.upper(), ids


class MaventaNotifications(http.Controller):
    @http.route(
        "/heeros_link/operator/maventa/<string:token>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def maventa_notification(self, token, **_kw):
        connection = self._heeros_link_connection(token)
        if not connection:
            return request.make_json_response({"error": "unknown address"}, status=404)
        body = request.httprequest.get_data(cache=True, as_text=False)
        if len(body) > MAX_BODY:
            return request.make_json_response({"error": "notification too large"}, status=413)
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return request.make_json_response({"error": "the notification is not JSON"}, status=400)
        event, ids = _event_ids(payload)
        # what follows runs as the Link's crons do: the notification only names what to ask about
        request.update_env(user=SUPERUSER_ID)
        handled = connection.with_env(request.env)._heeros_link_maventa_event(event, ids)
        return request.make_json_response({"ok": True, "checked": handled})

    def _heeros_link_connection(self, token):
        if not token or len(token) < 20:
            return None
        Connection = request.env["heeros.link.connection"].sudo()
        candidate = Connection.search([("protocol", "=", "maventa"), ("webhook_token", "=", token)], limit=1)
        if candidate and hmac.compare_digest(candidate.webhook_token.encode(), token.encode()):
            return candidate
        return None
