"""Checks of allocation.yaml: results, modes, follow-up matters, roles, facts and every expression's names."""

from __future__ import annotations

from typing import Any

from formflow.auth.roles import ADMIN, CONFIGURATOR
from formflow.forms.rules import META_VARIABLES
from formflow.packs.checks.matter import MatterCheck
from formflow.packs.checks.suggest import did_you_mean
from formflow.packs.checks.walking import logic_vars
from formflow.packs.loader import Matter
from formflow.text.catalogue import _
from formflow.workflow.spec import END_KIND


def _end_results(matter: Matter | None) -> set[str]:
    wf = matter.workflow.content if matter is not None and matter.workflow else None
    stages = (wf.get("stages") or {}) if isinstance(wf, dict) else {}
    return {str(st.get("result")) for st in stages.values()
            if isinstance(st, dict) and st.get("kind") == END_KIND and st.get("result")}


#: Variables an allocation expression over a household may read (besides facts. and params.).
HOUSEHOLD_VARIABLES = frozenset({"code", "approved_on", "queued_on", "since", "declines"})


#: Built-in roles that keep the platform, not the business: they never reach allocation data.
PLATFORM_ROLES = frozenset({CONFIGURATOR, ADMIN})


def check_allocation(check: MatterCheck, roles: set[str], *, roles_known: bool = True) -> None:
    """allocation.yaml: results, modes, follow-up matters, roles, facts and every expression's names."""
    doc, pack, matter, reader = check.matter.allocation, check.pack, check.matter, check.reader
    if doc is None or not isinstance(doc.content, dict):
        return
    spec = doc.content
    path = doc.path
    entry = spec.get("entry") or {}
    if entry.get("result") is not None and entry["result"] not in _end_results(matter) \
            and not check.unparsed["workflow"]:
        reader.problem(path, "/entry/result", _("Workflow %(matter)s has no end stage with result %(result)s",
                                                matter=repr(matter.id), result=repr(entry["result"]))
                       + did_you_mean(entry["result"], _end_results(matter)))
    check.check_logic(entry.get("mode"), path, "/entry/mode")
    household = spec.get("household") or {}
    for key in ("name", "id_number"):
        check.check_logic(household.get(key), path, f"/household/{key}")
    facts = household.get("facts") or {}
    for name, fact in facts.items():
        check.check_stage_logic((fact or {}).get("logic"), path, f"/household/facts/{name}/logic")
    if household.get("size") is not None and household["size"] not in facts:
        reader.problem(path, "/household/size", _("Household size %(name)s is not one of household.facts",
                                                  name=repr(household["size"]))
                       + did_you_mean(household["size"], facts))
    modes = spec.get("modes") or {}
    follow_ups: set[str] = set()
    for mid, mode in modes.items():
        target = (mode or {}).get("follow_up")
        if target is None:
            continue
        if target not in pack.matters:
            reader.problem(path, f"/modes/{mid}/follow_up", _(
                "Follow-up matter %(matter)s is not among the matters of pack.yaml", matter=repr(target))
                + did_you_mean(target, pack.matters))
        else:
            follow_ups.add(target)
    for part, listed in (spec.get("roles") or {}).items():
        for i, role in enumerate(listed if isinstance(listed, list) else []):
            if role in PLATFORM_ROLES:
                reader.problem(path, f"/roles/{part}/{i}",
                               _("Role %(role)s is a platform role: it gets configuration only, never households, "
                                 "lotteries or rosters (separation of duties); name a business role of the workflow",
                                 role=repr(role)))
            elif role not in roles and roles_known:
                reader.problem(path, f"/roles/{part}/{i}",
                               _("Role %(role)s is not defined in any workflow of this pack", role=repr(role))
                               + did_you_mean(role, roles))
    waiting = spec.get("waiting_list") or {}
    for i, key in enumerate(waiting.get("order") or []):
        _check_household_logic(check, (key or {}).get("logic"), facts, f"/waiting_list/order/{i}/logic")
    for listing, where in ((waiting.get("public_columns"), "/waiting_list/public_columns"),
                           ((spec.get("subsidy") or {}).get("columns"), "/subsidy/columns")):
        for i, name in enumerate(listing or []):
            if name not in facts:
                reader.problem(path, f"{where}/{i}", _("%(name)s is not one of household.facts",
                                                       name=repr(name)) + did_you_mean(name, facts))
    subsidy = spec.get("subsidy")
    if subsidy is not None:
        _check_household_logic(check, subsidy.get("monthly_amount"), facts, "/subsidy/monthly_amount")
        if not any((m or {}).get("kind") == "subsidy" for m in modes.values()):
            reader.problem(path, "/subsidy", _("subsidy is configured, but modes has no mode of kind subsidy"))
    lottery = spec.get("lottery")
    if lottery is not None:
        chosen = lottery.get("mode")
        if chosen is not None and (modes.get(chosen) or {}).get("kind") != "flat":
            reader.problem(path, "/lottery/mode", _("%(mode)s is not a mode of kind flat", mode=repr(chosen)))
        if chosen is None and not any((m or {}).get("kind") == "flat" for m in modes.values()):
            reader.problem(path, "/lottery", _("lottery is configured, but modes has no mode of kind flat"))
    results = set().union(*(_end_results(pack.matters[m]) for m in follow_ups)) if follow_ups else set()
    unparsed = any(reader.is_broken(check.root / "workflows" / pack.id / f"{m}.yaml") for m in follow_ups)
    for result in ((spec.get("follow_up") or {}).get("outcomes") or {}):
        if result not in results and not unparsed:
            reader.problem(path, f"/follow_up/outcomes/{result}",
                           _("The follow-up matter's workflow has no end stage with result %(result)s",
                             result=repr(result)) + did_you_mean(result, results))


def _check_household_logic(check: MatterCheck, expr: Any, facts: dict[str, Any], where: str) -> None:
    path = check.matter.allocation.path  # type: ignore[union-attr]
    for name, at, _item in logic_vars(expr, where, None):
        head, _dot, rest = name.partition(".")
        if head == "household":
            field, _dot, sub = rest.partition(".")
            if field == "facts" and sub.split(".")[0] in facts:
                continue
            if field in HOUSEHOLD_VARIABLES and not sub:
                continue
            known = [f"household.facts.{f}" for f in facts] + [f"household.{v}" for v in HOUSEHOLD_VARIABLES]
            check.reader.problem(path, at, _(
                "Unknown household variable %(name)s (available: household.facts.<name>, %(names)s)",
                name=repr(name), names=_(", ").join("household." + v for v in sorted(HOUSEHOLD_VARIABLES)))
                + did_you_mean(name, known))
        elif head == "params":
            if rest not in check.params and not check.unparsed["parameters"]:
                check.reader.problem(path, at, _(
                    "The rule names a parameter %(name)s that parameters.yaml does not have", name=repr(rest))
                    + did_you_mean(rest, check.params))
        elif head == "meta":
            if rest not in META_VARIABLES:
                check.reader.problem(path, at, _("Unknown meta variable %(name)s", name=repr(rest)))
        else:
            check.reader.problem(path, at, _("Variable %(name)s should start with household., params. or meta.",
                                             name=repr(name)))
