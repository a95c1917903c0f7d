"""Region kinds of GB/T 2260, offices generated from a pack's rules, and where online acceptance is open.

offices.yaml names each region by its GB/T 2260 kind (a county, a banner, a town…). The engine
works with five levels (province, city, district, street, community): every kind maps to one,
and that level is what workflows name as the owner's `level` and what is stored as the office's
kind and level in the database.

`rules` in offices.yaml generate offices for every region of the kinds they name (an office per
county's housing bureau, say), expanded once at load (`expand_rules`) so that checking, seeding
and every page see the same tree. A region with `generate: false` keeps only its own children.

`online` (file default, per region, inherited by the regions below) says where online acceptance
is open: `open_regions` are the regions where it is, or which have such a region under them.
"""

from __future__ import annotations

import copy
import string
from collections.abc import Iterator
from typing import Any

from formflow.packs.inherit import lineage
from formflow.text.catalogue import _, lazy

#: GB/T 2260 region kind → (the engine's level, its title).
KINDS: dict[str, tuple[str, Any]] = {
    "province": ("province", lazy("Province")),
    "autonomous_region": ("province", lazy("Autonomous region")),
    "municipality": ("province", lazy("Municipality")),
    "city": ("city", lazy("Prefecture-level city")),
    "prefecture": ("city", lazy("Prefecture")),
    "autonomous_prefecture": ("city", lazy("Autonomous prefecture")),
    "league": ("city", lazy("League")),
    "district": ("district", lazy("District")),
    "county": ("district", lazy("County")),
    "county_city": ("district", lazy("County-level city")),
    "banner": ("district", lazy("Banner")),
    "autonomous_county": ("district", lazy("Autonomous county")),
    "forestry_district": ("district", lazy("Forestry district")),
    "street": ("street", lazy("Street")),
    "town": ("street", lazy("Town")),
    "township": ("street", lazy("Township")),
    "community": ("community", lazy("Community")),
}
#: Every office kind that is a region.
REGION_KINDS = tuple(KINDS)
#: Placeholders a rule's office template may use.
PLACEHOLDERS = ("region", "code", "id")


def is_region(kind: Any) -> bool:
    return kind in KINDS


def level_of(kind: str) -> str:
    """The engine's level of a region kind (a non-region kind is returned as it is)."""
    return KINDS[kind][0] if kind in KINDS else kind


def kind_title(kind: str) -> str:
    """The kind's title from the catalogue (province, county, banner…); an unknown kind as it is."""
    return str(KINDS[kind][1]) if kind in KINDS else kind


def walk(nodes: Any) -> Iterator[dict[str, Any]]:
    for node in nodes or []:
        if isinstance(node, dict):
            yield node
            yield from walk(node.get("children"))


# --------------------------------------------------------------------------- rules


def _fields(template: Any) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(str(template)) if name is not None}


def rule_problems(content: Any) -> list[tuple[str, str]]:
    """(pointer, message) for every placeholder a rule's office template uses that does not exist."""
    out = []
    for i, rule in enumerate((content or {}).get("rules") or [] if isinstance(content, dict) else []):
        for j, office in enumerate(rule.get("offices") or [] if isinstance(rule, dict) else []):
            for key in ("id", "name", "region_code"):
                wrong = sorted(_fields(office.get(key, "")) - set(PLACEHOLDERS)) if isinstance(office, dict) else []
                if wrong:
                    out.append((f"/rules/{i}/offices/{j}/{key}", _(
                        "Unknown placeholder {%(name)s}: a rule's office may use {region} (the region's name), "
                        "{code} (its region code) and {id} (its id)", name=wrong[0])))
    return out


def _fill(template: dict[str, Any], region: dict[str, Any]) -> dict[str, Any]:
    values = {"region": region.get("name", ""), "code": region.get("region_code", ""), "id": region.get("id", "")}
    office = {k: v for k, v in template.items() if k not in ("id", "name", "region_code")}
    for key in ("id", "name", "region_code"):
        if key in template:
            office[key] = str(template[key]).format_map(values)
    office["generated"] = True
    return office


def expand_rules(content: Any) -> Any:
    """The offices tree with every rule's offices added under each region of the rule's kinds.

    Generated offices come after the region's own children; a region with `generate: false`
    gets none. The file's content is left as it was (a copy is returned); unusable rules
    (see `rule_problems`) are skipped.
    """
    if not isinstance(content, dict) or not content.get("rules") or rule_problems(content):
        return content
    out = copy.deepcopy(content)
    rules = [r for r in out.get("rules") or [] if isinstance(r, dict)]
    for region in list(walk(out.get("offices"))):
        if region.get("generated") or region.get("generate") is False or not is_region(region.get("kind")):
            continue
        made = [_fill(t, region) for r in rules if region.get("kind") in (r.get("for") or [])
                for t in r.get("offices") or [] if isinstance(t, dict)]
        if made:
            region["children"] = [*(region.get("children") or []), *made]
    return out


# --------------------------------------------------------------------------- online acceptance

_OPEN: dict[int, tuple[Any, frozenset[str]]] = {}


def open_regions(content: Any) -> frozenset[str]:
    """Ids of the regions where online acceptance is open, or open somewhere under them."""
    key = id(content)
    found = _OPEN.get(key)
    if found is not None and found[0] is content:
        return found[1]
    out: set[str] = set()

    def visit(nodes: Any, live: bool) -> bool:
        any_open = False
        for node in nodes or []:
            if not isinstance(node, dict) or not is_region(node.get("kind")):
                continue
            here = bool(node.get("online", live))
            below = visit(node.get("children"), here)
            if here or below:
                out.add(str(node.get("id")))
                any_open = True
        return any_open

    if isinstance(content, dict):
        visit(content.get("offices"), bool(content.get("online", True)))
    result = frozenset(out)
    if len(_OPEN) > 64:
        _OPEN.clear()
    _OPEN[key] = (content, result)
    return result


def is_open(packset: Any, pack_id: str, office_id: str) -> bool:
    """Is online acceptance open at (or under) this region of the pack? (No offices file: yes.)"""
    pack = packset.packs.get(pack_id) if packset is not None else None
    if pack is not None and pack.offices is None:  # a pack that extends another: its ancestors' offices
        for ancestor in lineage(pack.manifest.content):
            pack = packset.packs.get(ancestor)
            if pack is not None and pack.offices is not None:
                break
    if pack is None or pack.offices is None:
        return True
    content = pack.offices.content
    return office_id in open_regions(content) or office_id not in _region_ids(content)


def _region_ids(content: Any) -> frozenset[str]:
    """Every region id of the file (an office the file does not name is not switched off by it)."""
    key = ("ids", id(content))
    found = _IDS.get(key)
    if found is None or found[0] is not content:
        ids = frozenset(str(n.get("id")) for n in walk((content or {}).get("offices")) if is_region(n.get("kind")))
        if len(_IDS) > 64:
            _IDS.clear()
        found = _IDS[key] = (content, ids)
    return found[1]


_IDS: dict[tuple[str, int], tuple[Any, frozenset[str]]] = {}


__all__ = ["KINDS", "PLACEHOLDERS", "REGION_KINDS", "expand_rules", "is_open", "is_region", "kind_title",
           "level_of", "open_regions", "rule_problems", "walk"]
