"""The catalogue is one: a msgid means one thing whichever area's .po file holds it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "platform" / "formflow" / "text" / "translations"


def test_no_msgid_is_translated_two_ways():
    for folder in sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()):
        seen: dict[str, tuple[str, str]] = {}
        clashes = []
        for path in sorted(folder.glob("*.po")):
            with path.open("rb") as fh:
                for message in read_po(fh):
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    if not key:
                        continue
                    if key in seen and seen[key][1] != message.string:
                        clashes.append(f"{key!r}: {seen[key][0]} says {seen[key][1]!r}, {path.name} says "
                                       f"{message.string!r}")
                    seen.setdefault(key, (path.name, message.string))
        assert not clashes, f"{folder.name}:\n" + "\n".join(clashes)


def test_every_po_file_reads_and_names_its_language():
    for path in sorted(TRANSLATIONS.glob("*/*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        assert catalog.locale is not None and (catalog.locale.language, catalog.locale.territory) == \
            tuple((path.parent.name.split("_") + [None])[:2]), path
