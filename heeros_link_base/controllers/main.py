from odoo import http
from odoo.addons.web.controllers.home import Home
from odoo.http import request

#: the web client's cookie of the selected companies ("1-5-7", current first)
COMPANIES_COOKIE = "cids"
COOKIE_AGE = 365 * 24 * 3600


class HeerosLinkHome(Home):
    @http.route()
    def web_login(self, redirect=None, **kw):
        response = super().web_login(redirect=redirect, **kw)
        uid = request.session.uid
        if request.params.get("login_success") and uid:
            user = request.env["res.users"].sudo().browse(uid)
            company_ids = user._heeros_link_login_company_ids(user)
            if company_ids:
                # the web client still drops any company the user may not access
                response.set_cookie(
                    COMPANIES_COOKIE, "-".join(map(str, company_ids)), max_age=COOKIE_AGE, samesite="Lax"
                )
        return response
