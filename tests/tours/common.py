"""Shared set-up of the browser tours: a bureau and two clients, a bureau
operator who may access all three and a client user who may access one."""

from odoo.tests.common import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install", "is_tour")
class TourCase(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        fi = cls.env.ref("base.fi")
        eur = cls.env.ref("base.EUR")
        cls.bureau = Company.create({"name": "Tilitoimisto Testi Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.client_a = Company.create({"name": "Asiakas A Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.client_b = Company.create({"name": "Asiakas B Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        cls.Message = cls.env["heeros.link.message"]
        all_companies = cls.bureau | cls.client_a | cls.client_b
        cls.bureau_user = new_test_user(
            cls.env,
            "tour-bureau",
            password="tour-bureau-pw",
            groups="base.group_user,base.group_multi_company,heeros_link_base.group_link_manager,"
            "account.group_account_manager",
            company_id=cls.bureau.id,
            company_ids=[(6, 0, all_companies.ids)],
        )
        cls.client_user = new_test_user(
            cls.env,
            "tour-client",
            password="tour-client-pw",
            groups="base.group_user,heeros_link_base.group_link_user,account.group_account_invoice",
            company_id=cls.client_b.id,
            company_ids=[(6, 0, cls.client_b.ids)],
        )

    def tour(self, tour, user, url):
        login = user.login
        self.start_tour(url, tour, login=login, timeout=120)
