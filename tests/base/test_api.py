"""The integration API over real HTTP: API keys, company isolation, message
endpoints, uploads with Idempotency-Key, paging, limits and the OpenAPI
document every answer is checked against."""

import hashlib
import threading
import time
from datetime import timedelta

from odoo import fields
from odoo.addons.heeros_link_base.controllers import api as api_module
from odoo.addons.heeros_link_base.controllers.api import RATE_WINDOW, rate_wait
from tests.api_common import ApiCase, api_key
from tests.common import link_folder

NOTE = b"NOTE payroll run 2026-12"


class TestApi(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.own = Company.create({"name": "API Oma Oy"})
        cls.other = Company.create({"name": "API Muu Oy"})
        cls.user = cls.new_user("api-user", cls.own)
        cls.other_user = cls.new_user("api-other", cls.other)
        cls.outsider = cls.new_user("api-outsider", cls.own, groups="base.group_user")
        cls.key = api_key(cls.user)
        cls.other_key = api_key(cls.other_user)
        cls.outsider_key = api_key(cls.outsider)
        folder = link_folder(cls.env)
        Connection = cls.env["heeros.link.connection"]
        cls.connection = Connection.create(
            {
                "name": "API own out",
                "protocol": "local",
                "local_root": folder,
                "direction": "both",
                "company_id": cls.own.id,
                "company_ids": [(6, 0, cls.own.ids)],
            }
        )
        cls.other_connection = Connection.create(
            {
                "name": "API other out",
                "protocol": "local",
                "local_root": link_folder(cls.env),
                "direction": "both",
                "company_id": cls.other.id,
                "company_ids": [(6, 0, cls.other.ids)],
            }
        )
        Message = cls.env["heeros.link.message"]
        cls.own_message = Message._link_intake([("own.txt", b"NOTE own")], company=cls.own, process=False)
        cls.other_message = Message._link_intake([("secret.txt", b"NOTE secret")], company=cls.other, process=False)
        cls.env.flush_all()

    def setUp(self):
        super().setUp()
        self.env.cr.execute("DELETE FROM heeros_link_api_rate")

    def processed(self, message):
        return self.env["res.partner"].sudo().create({"name": f"From {message.file_name}"})

    # ------------------------------------------------------------------
    # the document
    # ------------------------------------------------------------------
    def test_openapi_document_is_valid_and_lists_the_endpoints(self):
        document = self.openapi()
        self.assertEqual(document["openapi"], "3.1.0")
        operations = {op["operationId"] for item in document["paths"].values() for op in item.values()}
        for declared in api_module.ENDPOINTS.values():
            self.assertIn(declared.operation_id, operations)
        self.assertIn("/messages/{message_id}/payload", document["paths"])

    # ------------------------------------------------------------------
    # authentication
    # ------------------------------------------------------------------
    def test_no_key_wrong_key_revoked_key_expired_key(self):
        response = self.api("GET", "/messages", expect=401)
        self.assertEqual(response.json()["error"]["code"], "unauthorized")
        self.assertIn("Bearer", response.headers["WWW-Authenticate"])
        self.api("GET", "/messages", key="not-a-key-" + "x" * 30, expect=401)
        self.api("GET", "/messages", headers={"Authorization": f"Basic {self.key}"}, expect=401)
        revoked = api_key(self.user, "revoked")
        self.api("GET", "/messages", key=revoked, expect=200)
        self.env["res.users.apikeys"].sudo().search([("user_id", "=", self.user.id), ("name", "=", "revoked")]).unlink()
        self.env.flush_all()
        self.api("GET", "/messages", key=revoked, expect=401)
        expired = api_key(self.user, "expired")
        self.env.cr.execute(
            "UPDATE res_users_apikeys SET expiration_date = now() - interval '1 day' WHERE name = 'expired'"
        )
        self.api("GET", "/messages", key=expired, expect=401)
        self.user.sudo().active = False
        self.env.flush_all()
        self.api("GET", "/messages", key=self.key, expect=401)

    def test_a_session_cookie_is_no_key(self):
        self.authenticate("admin", "admin")
        self.api("GET", "/messages", expect=401)

    def test_user_without_link_group_is_refused(self):
        response = self.api("GET", "/messages", key=self.outsider_key, expect=403)
        self.assertEqual(response.json()["error"]["code"], "forbidden")

    def test_errors_never_show_a_stack_trace(self):
        response = self.api("GET", "/messages", key=self.key, params={"limit": "many"}, expect=400)
        self.assertIn("limit", response.json()["error"]["message"])
        self.api("GET", "/messages", key=self.key, params={"cursor": "!!"}, expect=400)
        self.api("GET", "/messages", key=self.key, params={"state": "nonsense"}, expect=400)
        response = self.api("GET", "/messages", key=self.key, params={"changed_since": "yesterday"}, expect=400)
        self.assertNotIn("Traceback", response.text)

    # ------------------------------------------------------------------
    # company isolation
    # ------------------------------------------------------------------
    def test_another_companys_messages_are_never_seen(self):
        ids = self.all_ids(self.key)
        self.assertIn(self.own_message.id, ids)
        self.assertNotIn(self.other_message.id, ids)
        self.api("GET", "/messages", key=self.key, params={"company": self.other.id}, expect=403)
        foreign = self.other_message.id
        for method, path in (
            ("GET", f"/messages/{foreign}"),
            ("GET", f"/messages/{foreign}/payload"),
            ("POST", f"/messages/{foreign}/reprocess"),
            ("POST", f"/messages/{foreign}/retry"),
            ("POST", f"/messages/{foreign}/cancel"),
        ):
            response = self.api(method, path, key=self.key)
            self.assertEqual(response.status_code, 403, f"{method} {path}: {response.text}")
            self.assertNotIn(b"secret.txt", response.content)
        self.assertEqual(self.other_message.state, "received")
        self.api("GET", "/messages/999999999", key=self.key, expect=404)
        response = self.api(
            "POST",
            "/messages",
            key=self.key,
            params={"direction": "in", "company": self.other.id, "file_name": "x.txt"},
            data=NOTE,
            expect=403,
        )
        self.api(
            "POST",
            "/messages",
            key=self.key,
            params={
                "direction": "out",
                "company": self.own.id,
                "file_name": "x.xml",
                "document_type": "test.out",
                "connection": self.other_connection.id,
            },
            data=b"<x/>",
            expect=403,
        )
        self.assertFalse(self.env["heeros.link.message"].search([("file_name", "=", "x.txt")]))

    def all_ids(self, key, **params):
        ids, cursor = [], None
        while True:
            page = self.api(
                "GET", "/messages", key=key, params={**params, "limit": 50, "cursor": cursor}, expect=200
            ).json()
            ids += [item["id"] for item in page["data"]]
            cursor = page["next_cursor"]
            if not cursor:
                return ids

    # ------------------------------------------------------------------
    # messages
    # ------------------------------------------------------------------
    def test_message_metadata_payload_and_filters(self):
        body = self.api("GET", f"/messages/{self.own_message.id}", key=self.key, expect=200).json()
        self.assertEqual(body["name"], self.own_message.name)
        self.assertEqual(body["state"], "received")
        self.assertEqual(body["sha256"], hashlib.sha256(b"NOTE own").hexdigest())
        payload = self.api("GET", f"/messages/{self.own_message.id}/payload", key=self.key, expect=200)
        self.assertEqual(payload.content, b"NOTE own")
        self.assertEqual(payload.headers["X-Content-SHA256"], hashlib.sha256(b"NOTE own").hexdigest())
        self.assertIn("own.txt", payload.headers["Content-Disposition"])
        self.assertEqual(self.all_ids(self.key, state="received", company=self.own.id), [self.own_message.id])
        self.assertEqual(self.all_ids(self.key, direction="out"), [])
        later = (fields.Datetime.now() + timedelta(days=1)).isoformat() + "Z"
        self.assertEqual(self.all_ids(self.key, changed_since=later), [])
        self.assertEqual(self.all_ids(self.key, date_to=later), [self.own_message.id])

    def test_reprocess_cancel_retry(self):
        with self.note_types(self.processed):
            body = self.api("POST", f"/messages/{self.own_message.id}/reprocess", key=self.key, expect=200).json()
        self.assertEqual(body["state"], "processed")
        self.assertEqual(body["records"][0]["model"], "res.partner")
        response = self.api("POST", f"/messages/{self.own_message.id}/cancel", key=self.key, expect=409)
        self.assertIn("cannot be cancelled", response.json()["error"]["message"])
        self.api("POST", f"/messages/{self.own_message.id}/retry", key=self.key, expect=409)
        waiting = self.env["heeros.link.message"]._link_intake([("w.txt", b"NOTE w")], company=self.own, process=False)
        self.env.flush_all()
        body = self.api("POST", f"/messages/{waiting.id}/cancel", key=self.key, expect=200).json()
        self.assertEqual(body["state"], "cancelled")
        with self.note_types(self.processed):
            failed = self.env["heeros.link.message"]._link_queue("test.out", "f.xml", b"<f/>", self.own)
            failed._set_state("cancelled")
            self.env.flush_all()
            body = self.api("POST", f"/messages/{failed.id}/retry", key=self.key, expect=200).json()
        self.assertEqual(body["state"], "sent")

    # ------------------------------------------------------------------
    # upload and idempotency
    # ------------------------------------------------------------------
    def upload(self, data, key=None, expect=201, **params):
        params = {"direction": "in", "company": self.own.id, "file_name": "note.txt", **params}
        headers = {"Idempotency-Key": key} if key else {}
        return self.api("POST", "/messages", key=self.key, params=params, data=data, headers=headers, expect=expect)

    def test_upload_inbound_is_processed_and_outbound_is_queued(self):
        with self.note_types(self.processed):
            body = self.upload(NOTE).json()
            self.assertEqual(
                (body["direction"], body["state"], body["document_type"]), ("in", "processed", "test.note")
            )
            self.assertEqual(body["sha256"], hashlib.sha256(NOTE).hexdigest())
            self.assertEqual(self.env["res.partner"].browse(body["records"][0]["id"]).name, "From note.txt")
            body = self.upload(b"<pain/>", direction="out", document_type="test.out", file_name="pay.xml").json()
            self.assertEqual((body["direction"], body["state"]), ("out", "queued"))
            self.assertEqual(body["connection_id"], self.connection.id)
            response = self.upload(b"<pain/>", direction="out", file_name="pay.xml", expect=400)
            self.assertIn("document_type", response.json()["error"]["message"])
            response = self.upload(b"<pain/>", direction="out", document_type="camt.999", file_name="p.xml", expect=409)
            self.assertIn("camt.999", response.json()["error"]["message"])
        self.upload(b"", expect=400)
        self.upload(NOTE, file_name="", expect=400)
        response = self.api(
            "POST",
            "/messages",
            key=self.key,
            params={"direction": "in", "company": self.own.id, "file_name": "form.txt"},
            data={"a": "b"},
            expect=415,
        )
        self.assertIn("Content-Type", response.json()["error"]["message"])

    def test_upload_as_a_multipart_file(self):
        with self.note_types(self.processed):
            response = self.opener.post(
                self.base_url() + "/heeros_link/api/v1/messages",
                params={"direction": "in", "company": self.own.id},
                files={"file": ("from-form.txt", NOTE, "text/plain")},
                headers={"Authorization": f"Bearer {self.key}"},
                timeout=60,
            )
        self.assert_conforms("POST", "/messages", response)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual((response.json()["file_name"], response.json()["state"]), ("from-form.txt", "processed"))

    def test_same_key_same_body_one_message_same_answer(self):
        with self.note_types(self.processed):
            first = self.upload(NOTE, key="run-1")
            second = self.upload(NOTE, key="run-1")
        self.assertEqual(first.json(), second.json())
        self.assertEqual(second.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(
            self.env["heeros.link.message"].search_count([("sha256", "=", hashlib.sha256(NOTE).hexdigest())]), 1
        )
        response = self.upload(NOTE + b" changed", key="run-1", expect=409)
        self.assertEqual(response.json()["error"]["code"], "idempotency_conflict")
        self.upload(NOTE, key="run-1", file_name="other.txt", expect=409)
        # the key is the user's: another user may use the same string
        other = self.api(
            "POST",
            "/messages",
            key=self.other_key,
            data=NOTE,
            headers={"Idempotency-Key": "run-1"},
            params={"direction": "in", "company": self.other.id, "file_name": "note.txt"},
            expect=201,
        )
        self.assertNotEqual(other.json()["id"], first.json()["id"])

    def test_concurrent_duplicates_make_one_message(self):
        answers, failures = [], []
        url = self.base_url() + "/heeros_link/api/v1/messages"
        params = {"direction": "in", "company": self.own.id, "file_name": "p.txt"}
        headers = {"Idempotency-Key": "parallel", "Authorization": f"Bearer {self.key}"}

        def send(session):
            try:
                answers.append(session.post(url, params=params, data=NOTE, headers=headers, timeout=120))
            except Exception as exc:  # reported below, from the test's thread
                failures.append(exc)

        self.openapi()
        with self.note_types(self.processed):
            threads = [threading.Thread(target=send, args=(self.new_session(),)) for _i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(180)
        self.assertFalse(failures)
        self.env.invalidate_all()
        for answer in answers:
            self.assert_conforms("POST", "/messages", answer)
        self.assertEqual(sorted(a.status_code for a in answers), [201, 201], [a.text for a in answers])
        self.assertEqual(answers[0].json()["id"], answers[1].json()["id"])
        self.assertEqual(self.env["heeros.link.message"].search_count([("file_name", "=", "p.txt")]), 1)

    # ------------------------------------------------------------------
    # paging
    # ------------------------------------------------------------------
    def test_paging_has_no_gaps_or_repeats_while_messages_arrive(self):
        Message = self.env["heeros.link.message"]
        Message._link_intake([(f"n{i}.txt", b"NOTE %d" % i) for i in range(23)], company=self.own, process=False)
        self.env.flush_all()
        seen, cursor, pages = [], None, 0
        while True:
            page = self.api("GET", "/messages", key=self.key, params={"limit": 5, "cursor": cursor}, expect=200).json()
            self.assertLessEqual(len(page["data"]), 5)
            seen += [item["id"] for item in page["data"]]
            pages += 1
            if pages < 4:  # new messages arrive between pages
                Message._link_intake([(f"late{pages}.txt", b"NOTE late")], company=self.own, process=False)
                Message._link_intake([(f"late{pages}.txt", b"NOTE late")], company=self.other, process=False)
                self.env.flush_all()
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)), "a message was returned twice")
        self.assertEqual(seen, sorted(seen))
        expected = Message.search([("company_id", "=", self.own.id)], order="id").ids
        self.assertEqual(seen, expected)
        self.assertEqual(len(expected), 1 + 23 + 3)

    # ------------------------------------------------------------------
    # limits
    # ------------------------------------------------------------------
    def test_body_larger_than_the_limit_is_refused(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.max_file_size", "100")
        response = self.upload(b"NOTE " + b"x" * 200, expect=413)
        self.assertIn("100", response.json()["error"]["message"])
        self.connection.max_file_size = 1000
        with self.note_types(self.processed):
            self.upload(b"NOTE " + b"x" * 200, connection=self.connection.id, expect=201)
        self.assertFalse(self.env["heeros.link.message"].search([("size", "=", 205), ("connection_id", "=", False)]))

    def test_rate_limit_answers_429_with_retry_after(self):
        self.env["ir.config_parameter"].sudo().set_param("heeros_link.api_rate_limit", "3")
        if RATE_WINDOW - time.time() % RATE_WINDOW < 5:  # not across two windows
            time.sleep(6)
        for _i in range(3):
            self.api("GET", "/messages", key=self.key, expect=200)
        response = self.api("GET", "/messages", key=self.key, expect=429)
        self.assertGreaterEqual(int(response.headers["Retry-After"]), 1)
        self.assertEqual(response.json()["error"]["code"], "rate_limited")
        # another key has its own count
        self.api("GET", "/messages", key=self.other_key, expect=200)

    def test_the_demo_key_is_made_once_and_works(self):
        Users = self.env["res.users"]
        key = Users._heeros_link_demo_api_key(self.user.id)
        self.assertEqual(Users._heeros_link_demo_api_key(self.user.id), key, "made again on each update")
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("heeros_link.demo_api_key"), key)
        self.env.flush_all()
        self.api("GET", "/messages", key=key, expect=200)


class TestApiRateShared(ApiCase):
    """The count is the database's: every server process sees the same."""

    def test_two_processes_share_one_count(self):
        self.env.cr.execute("DELETE FROM heeros_link_api_rate")
        now = (int(time.time() // RATE_WINDOW) + 0.5) * RATE_WINDOW
        self.assertEqual(rate_wait(self.env, "7:abcdefgh", 2, now=now), 0)
        self.assertEqual(rate_wait(self.env, "7:abcdefgh", 2, now=now), 0)
        # the count is a row of the database, which every process and worker updates
        self.env.cr.execute("SELECT hits FROM heeros_link_api_rate WHERE bucket = %s", ["7:abcdefgh"])
        self.assertEqual(self.env.cr.fetchone()[0], 2)
        self.assertGreater(rate_wait(self.env, "7:abcdefgh", 2, now=now), 0)
        self.assertEqual(rate_wait(self.env, "8:abcdefgh", 2, now=now), 0, "another key counts apart")
        # the next window starts again
        self.assertEqual(rate_wait(self.env, "7:abcdefgh", 2, now=now + RATE_WINDOW), 0)
