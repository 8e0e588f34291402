"""Every field the suite adds to a model it does not own carries the
``heeros_link_`` prefix, so that the suite's columns never meet another
addon's (OCA's statement import, for one, declares ``unique_import_id``)."""

from odoo.tests.common import TransactionCase

SUITE = ("heeros_link_base", "heeros_link_einvoice", "heeros_link_bank", "heeros_link_archive")


class TestFieldPrefix(TransactionCase):
    def test_fields_added_to_other_models_are_prefixed(self):
        self.env.cr.execute(
            """SELECT f.model, f.name FROM ir_model_fields f
                JOIN ir_model_data d ON d.model = 'ir.model.fields' AND d.res_id = f.id
               WHERE f.model NOT LIKE 'heeros.link.%%'
            GROUP BY f.id, f.model, f.name
              HAVING bool_and(d.module IN %s)""",
            (SUITE,),
        )
        added = self.env.cr.fetchall()
        self.assertTrue(added, "the suite adds no field to Odoo's models: the query is wrong")
        # fields of a delegated parent (a statement line's move) appear on the child as well
        inherited = {(model, name) for model, name in added if self.env[model]._fields[name].inherited}
        unprefixed = sorted(
            f"{model}.{name}"
            for model, name in added
            if not name.startswith("heeros_link_") and (model, name) not in inherited
        )
        self.assertEqual(unprefixed, [])

    def test_methods_added_to_other_models_are_prefixed_or_odoo_overrides(self):
        from odoo import models as odoo_models

        offenders, inspected = [], 0
        for name in (
            "account.bank.statement",
            "account.bank.statement.line",
            "account.journal",
            "account.move",
            "res.company",
            "res.partner",
        ):
            cls = type(self.env[name])
            for klass in cls.__mro__:
                module = getattr(klass, "_module", None)
                if module not in SUITE or not issubclass(klass, odoo_models.BaseModel):
                    continue
                inspected += 1
                for attr, value in vars(klass).items():
                    if not callable(value) or attr.startswith("__") or "heeros_link" in attr:
                        continue
                    overridden = any(
                        attr in vars(other)
                        for other in cls.__mro__
                        if other is not klass
                        and getattr(other, "_module", None) not in SUITE
                        and issubclass(other, odoo_models.BaseModel)
                    )
                    if not overridden:
                        offenders.append(f"{name}.{attr} ({module})")
        self.assertGreater(inspected, 5, "no class of the suite found on these models")
        self.assertEqual(sorted(set(offenders)), [])
