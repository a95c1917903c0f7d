"""The message kinds in force in this process, installed from the loaded packs (as the data keys are).

`create_app` and `formflow tick` install them; a process that never does (a bare engine
script) writes no messages. Wording is read from the packs as loaded now, not as an
application pinned them: a corrected template applies to the next message.
"""

from __future__ import annotations

from typing import Any

from formflow.notifications.kinds import MatterMessages, parse

_ACTIVE: dict[str, Any] = {}


def install(packset: Any) -> None:
    """Make `packset`'s message kinds the ones the listener uses (and make sure it listens)."""
    from formflow.notifications import writer

    kinds: dict[tuple[str, str], MatterMessages] = {}
    titles: dict[tuple[str, str], str] = {}
    for pack in packset.packs.values():
        for matter in pack.matters.values():
            titles[(pack.id, matter.id)] = matter.title
            doc = getattr(matter, "messages", None)
            if doc is not None and isinstance(doc.content, dict):
                kinds[(pack.id, matter.id)] = parse(pack.id, matter.id, doc.content)
    _ACTIVE.update(kinds=kinds, titles=titles, packset=packset)
    writer.listen()


def uninstall() -> None:
    _ACTIVE.clear()


def installed() -> bool:
    return bool(_ACTIVE)


def messages_of(pack: str, matter: str) -> MatterMessages | None:
    return _ACTIVE.get("kinds", {}).get((pack, matter))


def all_messages() -> list[MatterMessages]:
    return list(_ACTIVE.get("kinds", {}).values())


def matter_title(pack: str, matter: str) -> str:
    return str(_ACTIVE.get("titles", {}).get((pack, matter), matter))


def packset() -> Any:
    return _ACTIVE.get("packset")


def calendar(pack: str) -> Any:
    """The pack's working-day calendar (national data and the pack's file), read once."""
    cache = _ACTIVE.setdefault("calendars", {})
    if pack not in cache:
        from formflow.calendars.workdays import pack_calendars

        cache[pack] = pack_calendars(_ACTIVE["packset"].root)(pack)
    return cache[pack]
