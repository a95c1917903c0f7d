"""A matter's allocation.yaml, read through small accessors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formflow.text.catalogue import lazy

FLAT, SUBSIDY = "flat", "subsidy"
#: Household statuses, with their titles.
WAITING, OFFERED, HOUSED, SUBSIDISED = "waiting", "offered", "housed", "subsidised"
STOPPED, RECOVERED, REMOVED = "stopped", "recovered", "removed"
STATUS_TITLES = {
    WAITING: lazy("Waiting"), OFFERED: lazy("Flat offered, to be confirmed"), HOUSED: lazy("Housed in a flat"),
    SUBSIDISED: lazy("Receiving the rental subsidy"), STOPPED: lazy("Subsidy stopped"),
    RECOVERED: lazy("Flat recovered"), REMOVED: lazy("Removed from the waiting list"),
}
#: Statuses of households that receive a benefit now (follow-up checks cover them).
BENEFITING = (HOUSED, SUBSIDISED)
#: Effects a follow-up outcome may have on a household.
CONTINUE, STOP_SUBSIDY, RECOVER_FLAT = "continue", "stop_subsidy", "recover_flat"
EFFECT_TITLES = {CONTINUE: lazy("Support continues"), STOP_SUBSIDY: lazy("Stop the rental subsidy"),
                 RECOVER_FLAT: lazy("Recover the flat")}


@dataclass(frozen=True)
class Allocation:
    """One matter's allocation configuration and its pack's parameter values."""

    pack: str
    pack_name: str
    matter: str
    matter_title: str
    spec: dict[str, Any]
    params: dict[str, Any]
    examples: tuple[str, ...] = ()  # titles of the parameters that still hold example values

    def fact_number(self, name: str, value: Any) -> Any:
        """A fact as a spreadsheet value: a number stays a number (its unit goes in the header), else text."""
        spec = self.facts.get(name) or {}
        if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) not in (
                spec.get("titles") or {}):
            return value
        return self.fact_text(name, value)

    def fact_heading(self, name: str) -> str:
        """A fact's column title, with its unit when it has one."""
        unit = (self.facts.get(name) or {}).get("unit")
        return f"{self.fact_title(name)} ({unit})" if unit else self.fact_title(name)

    @property
    def modes(self) -> dict[str, dict[str, Any]]:
        return self.spec.get("modes") or {}

    def modes_of(self, kind: str) -> list[str]:
        return [mid for mid, m in self.modes.items() if m.get("kind") == kind]

    def mode_title(self, mode: str) -> str:
        return str((self.modes.get(mode) or {}).get("title", mode))

    @property
    def facts(self) -> dict[str, dict[str, Any]]:
        return (self.spec.get("household") or {}).get("facts") or {}

    @property
    def size_fact(self) -> str:
        return str((self.spec.get("household") or {}).get("size"))

    def roles(self, part: str) -> set[str]:
        return set((self.spec.get("roles") or {}).get(part) or [])

    @property
    def waiting_list(self) -> dict[str, Any]:
        return self.spec.get("waiting_list") or {}

    @property
    def lottery(self) -> dict[str, Any] | None:
        return self.spec.get("lottery")

    @property
    def lottery_mode(self) -> str | None:
        lottery = self.lottery or {}
        flats = self.modes_of(FLAT)
        return lottery.get("mode") or (flats[0] if flats else None)

    @property
    def subsidy(self) -> dict[str, Any] | None:
        return self.spec.get("subsidy")

    @property
    def outcomes(self) -> dict[str, str]:
        return (self.spec.get("follow_up") or {}).get("outcomes") or {}

    def follow_up_matters(self) -> dict[str, str]:
        """follow-up matter id → the mode whose households it checks."""
        return {m["follow_up"]: mid for mid, m in self.modes.items() if m.get("follow_up")}

    def fact_text(self, name: str, value: Any) -> str:
        """A fact's value as shown: its configured title for coded values, with its unit."""
        spec = self.facts.get(name) or {}
        if value is None or value == "":
            return ""
        titles = spec.get("titles") or {}
        if str(value) in titles:
            return str(titles[str(value)])
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        unit = spec.get("unit")
        return f"{value}{unit}" if unit and isinstance(value, (int, float)) else str(value)

    def fact_title(self, name: str) -> str:
        return str((self.facts.get(name) or {}).get("title", name))


def _params(pack: Any) -> dict[str, Any]:
    content = pack.parameters.content if pack.parameters is not None else {}
    return {k: (v or {}).get("value") for k, v in ((content or {}).get("parameters") or {}).items()}


def _examples(pack: Any) -> tuple[str, ...]:
    content = pack.parameters.content if pack.parameters is not None else {}
    return tuple(str((v or {}).get("title") or k) for k, v in ((content or {}).get("parameters") or {}).items()
                 if isinstance(v, dict) and v.get("example"))


def allocations(packset: Any) -> list[Allocation]:
    """Every matter of every pack that has an allocation.yaml."""
    out = []
    for pack in packset.packs.values():
        for matter in pack.matters.values():
            doc = matter.allocation
            if doc is not None and isinstance(doc.content, dict):
                out.append(Allocation(pack.id, pack.name, matter.id, matter.title, doc.content, _params(pack),
                                      _examples(pack)))
    return out


def allocation_of(packset: Any, pack: str, matter: str) -> Allocation | None:
    return next((a for a in allocations(packset) if a.pack == pack and a.matter == matter), None)


def for_follow_up(packset: Any, pack: str, matter: str) -> tuple[Allocation, str] | None:
    """The allocation whose mode uses `matter` for follow-up, and that mode."""
    for alloc in allocations(packset):
        if alloc.pack == pack and matter in alloc.follow_up_matters():
            return alloc, alloc.follow_up_matters()[matter]
    return None
