"""The applicant's identity, bound at start: their name and ID number cannot be changed into someone else's.

The applicant fields are the ones the form marks as coming from the identity
e-licence (`x-source`, outside any list of members): a field named `id_number`
or `name`, or such a child of a marked object (the e-licence copy). They are
filled from the verified identity when the application starts, and every save
(portal step, API PUT data, PATCH step) is checked here: a value other than the
verified one, changed from what was stored, is refused at the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formflow.applications import drafts as apps
from formflow.applications.errors import ApplicationError
from formflow.auth.roles import CITIZEN
from formflow.db.models import Account, Application, RoleAssignment
from formflow.forms.errors import pointer as to_pointer
from formflow.forms.render import get_path, set_path
from formflow.packs.versions import Pinned
from formflow.text.catalogue import _
from formflow.text.errors import FieldProblem, Refusal
from formflow.text.formatting import mask_id

#: The keys of the identity a bound field holds.
KEYS = ("id_number", "name")


class IdentityBound(ApplicationError):
    """An applicant field bound to the verified identity was changed."""

    code = "identity_bound"
    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(_("; ").join(p.message for p in problems), fields=problems)


@dataclass(frozen=True)
class BoundField:
    path: tuple[Any, ...]
    key: str  # id_number | name
    label: str
    editable: bool

    @property
    def pointer(self) -> str:
        return to_pointer(self.path)


def identity_of(services: Any, db: Session, app: Application) -> dict[str, str] | None:
    """The identity bound to the application's applicant (name and ID number), or None."""
    applicant = db.get(Account, app.applicant_id)
    if applicant is None or not applicant.id_number_enc:
        return None
    return {"name": applicant.display_name or "", "id_number": services.keys.open(applicant.id_number_enc)}


def bound_fields(pinned: Pinned, *datas: Mapping[str, Any]) -> list[BoundField]:
    """The applicant's identity fields of the pinned form (for any of `datas`: conditions may show others)."""
    form = apps.form_of(pinned)
    found: dict[tuple[Any, ...], BoundField] = {}
    for data in datas or ({},):
        for node in form.fields(dict(data)):
            if not node.source or any(isinstance(p, int) for p in node.path):
                continue
            if node.kind == "field" and node.path and node.path[-1] in KEYS:
                parent = node.path[:-1]
                found.setdefault(node.path, BoundField(node.path, str(node.path[-1]),
                                                       _label(form, parent, node.title), not node.readonly))
            for child in node.children:
                if child.kind == "field" and child.path[-1] in KEYS:
                    found.setdefault(child.path, BoundField(child.path, str(child.path[-1]),
                                                            _label(form, node.path, child.title), not child.readonly))
    return list(found.values())


def _label(form: Any, parent: tuple[Any, ...], title: str) -> str:
    outer = apps._title_at(form, parent) if parent else None
    return f"{outer} · {title}" if outer else title


def _same(key: str, a: Any, b: Any) -> bool:
    if key == "id_number":
        return "".join(str(a or "").split()).upper() == "".join(str(b or "").split()).upper()
    return str(a or "").strip() == str(b or "").strip()


def bound_identity_problems(pinned: Pinned, old_data: Mapping[str, Any] | None, new_data: Mapping[str, Any],
                            identity: Mapping[str, str] | None) -> list[FieldProblem]:
    """Each bound applicant field of `new_data` holding someone else's name or ID number.

    A field may be left empty, hold the verified value, or keep what was stored
    (so an older draft is never locked); any other value is refused, at its pointer.
    """
    if not identity or not identity.get("id_number"):
        return []
    old_data = old_data or {}
    problems = []
    for field in bound_fields(pinned, old_data, new_data):
        new = get_path(new_data, field.path)
        if new in (None, ""):
            continue
        if _same(field.key, new, identity.get(field.key)) or _same(field.key, new, get_path(old_data, field.path)):
            continue
        problems.append(FieldProblem(field.pointer, _(
            "%(field)s is bound to the identity verified for this application (%(name)s, %(masked)s) and cannot "
            "be changed to another person's", field=field.label, name=identity.get("name") or "",
            masked=mask_id(identity["id_number"]))))
    return problems


def bind_identity(pinned: Pinned, data: dict[str, Any], identity: Mapping[str, str]) -> dict[str, Any]:
    """Write the verified name and ID number into the editable bound fields (at the start)."""
    for field in bound_fields(pinned, data):
        if field.editable and identity.get(field.key):
            set_path(data, field.path, identity[field.key])
    return data


def check_bound(pinned: Pinned, old_data: Mapping[str, Any] | None, new_data: Mapping[str, Any],
                identity: Mapping[str, str] | None) -> None:
    """Raise `IdentityBound` if `new_data` changes the applicant's bound identity."""
    problems = bound_identity_problems(pinned, old_data, new_data, identity)
    if problems:
        raise IdentityBound(problems)


# --------------------------------------------------------------------------- the account's verified identity


class IdentityConflict(Refusal):
    """A verified identity that cannot be bound: another one is bound to the account, or it is another's."""

    code = "identity_mismatch"
    status = 409


def bind_account_identity(keys: Any, db: Session, account: Account, identity: Any) -> Account:
    """Record a verified identity (name, ID number) on `account` — the one binding of the web and the API.

    Once bound, an account's identity cannot change, and one identity belongs to one
    account; `IdentityConflict` otherwise (nothing changed). Applications started
    afterwards bind their applicant fields to it (`bind_identity`, `usecases.start`).
    """
    digest = keys.lookup(identity.id_number)
    if account.id_number_hash and account.id_number_hash != digest:
        raise IdentityConflict(_("The verified identity differs from the one bound to this account"))
    other = db.scalar(select(Account).where(Account.id_number_hash == digest, Account.id != account.id))
    if other is not None:
        raise IdentityConflict(_("This identity is bound to another account; please sign in with that account"),
                               code="identity_taken")
    account.id_number_hash = digest
    account.id_number_enc = keys.seal(identity.id_number)
    account.display_name = identity.name or account.display_name
    return account


def account_for_identity(keys: Any, db: Session, identity: Any) -> Account:
    """The account a verified identity signs in to: the one it is bound to, or a new citizen account bound to it."""
    digest = keys.lookup(identity.id_number)
    account = db.scalar(select(Account).where(Account.id_number_hash == digest))
    if account is None:
        account = Account(username=f"c-{digest[:20]}", display_name=identity.name, password_hash=None)
        account.roles = [RoleAssignment(role=CITIZEN)]
        db.add(account)
    bind_account_identity(keys, db, account, identity)
    db.flush()
    return account


__all__ = ["BoundField", "IdentityBound", "IdentityConflict", "account_for_identity", "bind_account_identity",
           "bind_identity", "bound_fields", "bound_identity_problems", "check_bound", "identity_of"]
