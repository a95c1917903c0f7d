"""Checks of one matter: form, materials, rules, review tables, documents, workflow, in that order."""

from __future__ import annotations

from referencing.exceptions import Unresolvable

from formflow.applications.signing import letter_template
from formflow.forms.errors import pointer
from formflow.packs.checks.suggest import did_you_mean
from formflow.packs.checks.walking import subschemas
from formflow.packs.checks.workflow import WorkflowChecks
from formflow.text.catalogue import _


class MatterCheck(WorkflowChecks):
    """Every check of one matter's files, run in the order their problems are found."""

    def run(self) -> None:
        categories = self.check_form()
        self.check_materials(categories)
        self.check_rules(categories)
        self.check_tables()
        self.check_workflow()
        self.check_documents()

    def check_form(self) -> set[str] | None:
        """Check `$ref`s and `x-computed`; return the category values (None if no such field)."""
        if self.form is None or self.matter.form is None:
            return None
        resolver = self.registry.resolver(base_uri=self.matter.form_uri)
        categories: list[tuple[str, set[str]]] = []
        for where, node in subschemas(self.form, ""):
            ref = node.get("$ref")
            if isinstance(ref, str) and not self.unparsed["common"]:
                try:
                    resolver.lookup(ref)
                except Unresolvable:
                    self.reader.problem(self.matter.form.path, f"{where}/$ref", _("$ref %(ref)s cannot be resolved",
                                                                                  ref=repr(ref)))
            computed = node.get("x-computed")
            if computed is not None and computed not in self.computed and not self.unparsed["rules"]:
                self.reader.problem(
                    self.matter.form.path, f"{where}/x-computed",
                    _("Computed value %(name)s is not defined in rules.yaml", name=repr(computed))
                    + did_you_mean(computed, self.computed),
                )
            document = node.get("x-document")
            if isinstance(document, dict) and isinstance(document.get("document"), str):
                self.check_signed_document(document["document"], f"{where}/x-document/document")
            if node.get("x-category") is True:
                categories.append((where, {str(v) for v in node.get("enum") or []}))
        if len(categories) > 1:
            self.reader.problem(self.matter.form.path, categories[1][0], _("Only one field may be marked x-category"))
        return categories[0][1] if categories else None

    def check_signed_document(self, document: str, where: str) -> None:
        """A signature field's `x-document` names a document of the matter that has a template."""
        listed = {d.get("id") for d in self.matter.entry.get("documents") or [] if isinstance(d, dict)}
        path = self.matter.form.path  # type: ignore[union-attr]  # check_form runs only with a form
        if document not in listed:
            self.reader.problem(path, where, _(
                "x-document names a document %(document)s that the matter's documents in pack.yaml do not list",
                document=repr(document)))
        elif not self.template_exists(f"documents/{letter_template(document)}"):
            self.reader.problem(path, where, _(
                "The document %(document)s has no template under renderers/ (documents/%(template)s)",
                document=repr(document), template=letter_template(document)))

    def check_materials(self, categories: set[str] | None) -> None:
        doc = self.matter.materials
        if doc is None:
            return
        self.check_material_fields()
        common = self.materials.get("common")
        for listing in ("required", "optional"):
            for i, item in enumerate((common.get(listing) if isinstance(common, dict) else None) or []):
                kind = item if isinstance(item, str) else item.get("kind")
                if kind not in self.kinds:
                    self.reader.problem(doc.path, f"/common/{listing}/{i}", _(
                        "The common list names a material %(kind)s that does not exist", kind=repr(kind)))
                if isinstance(item, dict) and "when" in item:
                    self.check_logic(item["when"], doc.path, f"/common/{listing}/{i}/when")
        for cat, spec in (self.materials.get("categories") or {}).items():
            where = f"/categories/{pointer([cat])[1:]}"
            if categories is not None and cat not in categories:
                self.reader.problem(doc.path, where, _(
                    "Category %(category)s is not one of the values of the form's category field (x-category)",
                    category=repr(cat)) + did_you_mean(cat, categories))
            if categories is None and self.form is not None:
                self.reader.problem(doc.path, where, _("The form has no category field marked x-category"))
            for listing in ("required", "optional"):
                for i, item in enumerate(spec.get(listing) or []):
                    kind = item if isinstance(item, str) else item.get("kind")
                    if kind not in self.kinds:
                        message = _("Category %(category)s names a material %(kind)s that does not exist",
                                    category=repr(cat), kind=repr(kind)) + did_you_mean(kind, self.kinds)
                        self.reader.problem(doc.path, f"{where}/{listing}/{i}", message)
                    if isinstance(item, dict) and "when" in item:
                        self.check_logic(item["when"], doc.path, f"{where}/{listing}/{i}/when")

    def check_material_fields(self) -> None:
        """`upload_path` and every kind's `field` (or `<upload_path>.<kind>`) are fields of the form."""
        doc = self.matter.materials
        if doc is None or self.form is None:
            return
        upload_path = self.materials.get("upload_path")
        uploads_ok = isinstance(upload_path, str) and self.field_schema(upload_path.split(".")) is not None
        if self.unparsed["common"]:
            return  # fields behind a $ref to a common file that did not parse are unknown, not missing
        if isinstance(upload_path, str) and not uploads_ok:
            self.reader.problem(doc.path, "/upload_path", _("upload_path %(path)s is not a field of the form",
                                                            path=repr(upload_path))
                                + did_you_mean(upload_path, self.field_names()))
        for kind, spec in (self.materials.get("kinds") or {}).items():
            field = spec.get("field") if isinstance(spec, dict) else None
            where = f"/kinds/{pointer([kind])[1:]}"
            if isinstance(field, str):
                if self.field_schema(field.split(".")) is None:
                    message = _("The field %(field)s of material %(kind)s is not a field of the form",
                                field=repr(field), kind=repr(kind)) + did_you_mean(field, self.field_names())
                    self.reader.problem(doc.path, f"{where}/field", message)
            elif uploads_ok and self.field_schema([*str(upload_path).split("."), kind]) is None:
                message = _("Material %(kind)s has no field in the form: %(path)s does not exist and no field is given",
                            kind=repr(kind), path=f"{upload_path}.{kind}")
                self.reader.problem(doc.path, where, message)

    def check_rules(self, categories: set[str] | None) -> None:
        doc = self.matter.rules
        if doc is None:
            return
        for name, spec in (self.rules.get("computed") or {}).items():
            self.check_logic(spec.get("logic"), doc.path, f"/computed/{name}/logic")
        for cat, spec in (self.rules.get("eligibility") or {}).items():
            where = f"/eligibility/{cat}"
            if categories is not None and cat not in categories:
                self.reader.problem(doc.path, where, _(
                    "Category %(category)s is not one of the values of the form's category field (x-category)",
                    category=repr(cat)) + did_you_mean(cat, categories))
            for i, cond in enumerate(spec.get("conditions") or []):
                self.check_logic(cond.get("logic"), doc.path, f"{where}/conditions/{i}/logic")
                for j, shown in enumerate(cond.get("shows") or []):
                    self.check_logic({"var": shown}, doc.path, f"{where}/conditions/{i}/shows/{j}")

    def check_tables(self) -> None:
        if self.unparsed["materials"]:
            return  # the materials a row may name are unknown
        for table in self.matter.tables.values():
            rows = self._content(table).get("rows")
            for i, row in enumerate(rows if isinstance(rows, list) else []):
                if not isinstance(row, dict):
                    continue  # the meta-schema reports it
                kind = row.get("material")
                if kind is not None and kind not in self.kinds:
                    self.reader.problem(table.path, f"/rows/{i}/material",
                                        _("Material %(kind)s is not in materials.yaml", kind=repr(kind))
                                        + did_you_mean(kind, self.kinds))

    def check_documents(self) -> None:
        if self.unparsed["workflow"]:
            return  # the notices it defines are unknown
        notices = set(self.workflow.get("notices") or {})
        index = list(self.pack.manifest.content.get("matters") or []).index(self.matter.entry)
        for i, document in enumerate(self.matter.entry.get("documents") or []):
            notice = document.get("notice")
            if notice is not None and notice not in notices:
                self.reader.problem(
                    self.pack.manifest.path,
                    f"/matters/{index}/documents/{i}/notice",
                    _("Notice %(notice)s is not defined in the workflow's notices", notice=repr(notice))
                    + did_you_mean(notice, notices),
                )
