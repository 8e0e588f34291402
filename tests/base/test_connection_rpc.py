"""The same attacks through the web client's JSON-RPC routes, as a logged-in
Link manager: the checks hold whatever the client sends. Odoo's HTTP server
runs in the test process (pytest-odoo's ``--odoo-http``, always on in
``tests/conftest.py``)."""

from odoo.tests.common import HttpCase, JsonRpcException, new_test_user
from tests.common import link_folder


class TestConnectionRpc(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create({"name": "RPC Tilitoimisto Oy"})
        cls.manager = new_test_user(
            cls.env,
            "rpc-manager",
            password="rpc-manager-pw",
            groups="heeros_link_base.group_link_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        Connection = cls.env["heeros.link.connection"]
        cls.sftp = Connection.create(
            {
                "name": "Bank SFTP",
                "protocol": "sftp",
                "host": "192.0.2.10",
                "port": 22,
                "username": "bureau",
                "password": "bank-password",
                "passphrase": "pp",
                "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHeerosLinkTestKeyHeerosLinkTestKey0000 bank",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
            }
        )
        cls.folder = Connection.create(
            {
                "name": "Bureau folder",
                "protocol": "local",
                "local_root": link_folder(cls.env),
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
            }
        )

    def setUp(self):
        super().setUp()
        self.authenticate("rpc-manager", "rpc-manager-pw")

    def call(self, route, model, method, args, **kwargs):
        kwargs.setdefault("context", {"allowed_company_ids": self.company.ids})
        return self.make_jsonrpc_request(route, {"model": model, "method": method, "args": args, "kwargs": kwargs})

    def call_kw(self, method, args, **kwargs):
        return self.call(
            f"/web/dataset/call_kw/heeros.link.connection/{method}", "heeros.link.connection", method, args, **kwargs
        )

    def test_moving_the_host_over_json_rpc_clears_the_secret(self):
        self.assertTrue(self.call_kw("write", [[self.sftp.id], {"host": "203.0.113.66", "port": 2222}]))
        self.env.invalidate_all()
        admin = self.sftp.with_user(self.env.ref("base.user_admin")).sudo()
        self.assertEqual(admin.host, "203.0.113.66")
        self.assertFalse(admin.password)
        self.assertFalse(admin.passphrase)
        read = self.call_kw("read", [[self.sftp.id], ["has_credentials", "host"]])
        self.assertFalse(read[0]["has_credentials"])

    def test_a_context_key_does_not_relax_the_check(self):
        context = {
            "allowed_company_ids": self.company.ids,
            "tracking_disable": True,
            "install_mode": True,
            "heeros_link_no_commit": True,
            "active_test": False,
        }
        self.call_kw("write", [[self.sftp.id], {"username": "attacker"}], context=context)
        self.env.invalidate_all()
        self.assertFalse(self.sftp.sudo().password)

    def test_pinning_over_json_rpc_is_refused(self):
        with self.assertRaises(JsonRpcException) as caught:
            self.call("/web/dataset/call_button", "heeros.link.connection", "action_fetch_host_key", [[self.sftp.id]])
        self.assertIn("AccessError", str(caught.exception))
        with self.assertRaises(JsonRpcException):
            self.call_kw("write", [[self.sftp.id], {"host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 evil"}])
        self.env.invalidate_all()
        self.assertTrue(self.sftp.host_key.endswith(" bank"))
        self.assertEqual(self.sftp.sudo().password, "bank-password")

    def test_absolute_inbox_over_json_rpc_is_refused(self):
        with self.assertRaises(JsonRpcException) as caught:
            self.call_kw("write", [[self.folder.id], {"inbox_folder": "/etc"}])
        self.assertIn("ValidationError", str(caught.exception))
        self.env.invalidate_all()
        self.assertEqual(self.folder.inbox_folder, "inbox")
