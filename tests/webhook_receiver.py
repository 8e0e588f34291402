"""A webhook receiver on 127.0.0.1 that checks the Link's signatures the way
the README tells integrators to: with the standard library only."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Deliveries older than this are refused (replayed requests).
TOLERANCE = 300


def verify(secret, headers, body):
    """Whether ``body`` (bytes) with ``headers`` was signed with ``secret``
    less than :data:`TOLERANCE` seconds ago."""
    timestamp = headers.get("X-Heeros-Link-Timestamp", "")
    received = headers.get("X-Heeros-Link-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


class Receiver:
    """Records every POST; answers with the next status of ``statuses``
    (then 200), or 401 when the signature does not verify."""

    def __init__(self, secret=""):
        self.secret = secret
        self.statuses = []
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verified = verify(receiver.secret, self.headers, body)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if not verified:
                    status = 401
                receiver.received.append(
                    {
                        "headers": dict(self.headers),
                        "body": json.loads(body or b"null"),
                        "verified": verified,
                        "status": status,
                    }
                )
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/link"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
