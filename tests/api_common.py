"""Calling the Link's integration API over real HTTP, every answer checked
against the OpenAPI document the server itself publishes."""

import re
from contextlib import contextmanager
from unittest.mock import patch

import requests
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from odoo.addons.heeros_link_base.registry import DocumentType
from odoo.tests.common import HttpCase, new_test_user

API = "/heeros_link/api/v1"


def api_key(user, name="integration"):
    """A new API key of ``user`` (as he would make it in his preferences)."""
    return user.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", name, None)


class ApiCase(HttpCase):
    """Real HTTP requests to the test server with an API key."""

    _document = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")

    @classmethod
    def new_user(cls, login, companies, groups="heeros_link_base.group_link_user"):
        return new_test_user(
            cls.env,
            login,
            groups=groups,
            company_id=companies[0].id,
            company_ids=[(6, 0, companies.ids)],
        )

    # ------------------------------------------------------------------
    def openapi(self):
        """The OpenAPI document, fetched once per test class and validated."""
        if type(self)._document is None:
            response = self.url_open(f"{API}/openapi.json")
            self.assertEqual(response.status_code, 200, response.text)
            document = response.json()
            validate_spec(document)
            type(self)._document = document
        return type(self)._document

    def api(self, method, path, key=None, params=None, data=None, headers=None, expect=None, session=None):
        """One request; the answer is checked against the OpenAPI document
        (its status must be declared, its body must match the schema)."""
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = self.base_url() + API + path
        opener = session or self.opener
        response = opener.request(method, url, params=params, data=data, headers=headers, timeout=60)
        self.env.invalidate_all()
        self.assert_conforms(method, path, response)
        if expect is not None:
            self.assertEqual(response.status_code, expect, response.text[:2000])
        return response

    def new_session(self):
        """A separate HTTP session (for requests from another thread)."""
        session = requests.Session()
        session.cookies.update(self.opener.cookies)
        return session

    def assert_conforms(self, method, path, response):
        document = self.openapi()
        route = path.split("?")[0]
        operation = None
        for template, operations in document["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, route) and method.lower() in operations:
                operation = operations[method.lower()]
                break
        self.assertIsNotNone(operation, f"{method} {route} is not in the OpenAPI document")
        declared = operation["responses"].get(str(response.status_code))
        self.assertIsNotNone(
            declared, f"{method} {route} answered {response.status_code}, not declared: {response.text[:500]}"
        )
        content_type = response.headers.get("Content-Type", "").split(";")[0]
        declared_types = declared.get("content", {})
        if "application/json" in declared_types:
            self.assertEqual(content_type, "application/json", f"{method} {route}: {content_type}")
            schema = dict(declared_types["application/json"]["schema"], components=document["components"])
            errors = sorted(OAS31Validator(schema).iter_errors(response.json()), key=str)
            self.assertFalse(errors, f"{method} {route} {response.status_code} does not conform: {errors[:3]}")
        for header in declared.get("headers", {}):
            self.assertIn(header, response.headers, f"{method} {route}: header {header} missing")

    # ------------------------------------------------------------------
    @contextmanager
    def note_types(self, handler):
        """``test.note`` (inbound, files starting with NOTE, handled by
        ``handler(message)``) and ``test.out`` (outbound) as document types."""
        MessageClass = type(self.env["heeros.link.message"])
        original = MessageClass._link_document_types

        def document_types(model):
            types = original(model)
            types["test.note"] = DocumentType(
                code="test.note",
                label="Test note",
                detect=lambda sniff: sniff.head.startswith(b"NOTE "),
                handler=("heeros.link.message", "_test_handle"),
            )
            types["test.out"] = DocumentType(code="test.out", label="Test outbound", direction="out")
            return types

        with (
            patch.object(MessageClass, "_link_document_types", document_types),
            patch.object(MessageClass, "_test_handle", lambda model, message: handler(message), create=True),
        ):
            yield
