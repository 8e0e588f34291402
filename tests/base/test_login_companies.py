"""A user who starts with all his companies (a bureau's operator) gets them
all selected at login, through the web client's own company cookie; other
users keep Odoo's default, and the cookie never names a company the user may
not access."""

import re

from odoo import Command
from odoo.tests.common import HttpCase, new_test_user


class TestLoginCompanies(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.bureau = Company.create({"name": "Kirjautumis Tilitoimisto Oy"})
        cls.clients = Company.create([{"name": "Asiakas Yksi Oy"}, {"name": "Asiakas Kaksi Oy"}])
        cls.elsewhere = Company.create({"name": "Vieras Oy"})
        allowed = cls.bureau | cls.clients
        cls.operator = new_test_user(
            cls.env,
            "login-operator",
            password="login-operator-pw",
            groups="base.group_user,base.group_multi_company",
            company_id=cls.bureau.id,
            company_ids=[Command.set(allowed.ids)],
        )
        cls.operator.heeros_link_all_companies = True
        cls.plain = new_test_user(
            cls.env,
            "login-plain",
            password="login-plain-pw",
            groups="base.group_user,base.group_multi_company",
            company_id=cls.bureau.id,
            company_ids=[Command.set(allowed.ids)],
        )

    def login(self, login, password):
        self.url_open("/web/session/logout", allow_redirects=False)
        page = self.url_open("/web/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": token},
            allow_redirects=False,
        )

    def test_operator_starts_with_every_allowed_company(self):
        response = self.login("login-operator", "login-operator-pw")
        self.assertEqual(response.status_code, 303)
        ids = [int(i) for i in response.cookies["cids"].split("-")]
        self.assertEqual(ids[0], self.bureau.id, "the user's own company stays the current one")
        self.assertEqual(sorted(ids), sorted((self.bureau | self.clients).ids))
        self.assertNotIn(self.elsewhere.id, ids)

    def test_others_keep_odoos_default(self):
        response = self.login("login-plain", "login-plain-pw")
        self.assertEqual(response.status_code, 303)
        self.assertNotIn("cids", response.cookies)

    def test_wrong_password_sets_nothing(self):
        response = self.login("login-operator", "wrong")
        self.assertNotIn("cids", response.cookies)

    def test_users_may_set_it_themselves(self):
        self.plain.with_user(self.plain).write({"heeros_link_all_companies": True})
        self.assertTrue(self.plain.heeros_link_all_companies)
