"""The one catalogue of words a person reads (gettext, through Flask-Babel).

Source strings (msgids) are English; `translations/<locale>/*.po` hold the
translations, one file per area so that areas are edited independently
(`zh_CN` is complete and the default; `en` needs no entries, the msgids are
English). The .po files are read at start (Babel's `read_po`), so there is no
compiled file to keep in step.

Flask-Babel chooses the locale per request (the person's own setting in the
session, else `Accept-Language`, else `zh_CN`); outside a request (the CLI,
`formflow tick`, PDFs rendered in the worker) the default locale is used.

`_("…", name=value)` formats with `%(name)s` like gettext; `lazy("…")` is for
module-level constants (a title table) and is looked up each time it is shown.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations
from flask import Flask, has_request_context, request, session

TRANSLATIONS = Path(__file__).with_name("translations")
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
#: Session key holding a person's own language choice (overrides Accept-Language).
SESSION_KEY = "locale"


@cache
def translations(locale: str) -> NullTranslations:
    """Every `translations/<locale>/*.po` merged into one gettext catalogue."""
    folder = TRANSLATIONS / locale
    files = sorted(folder.glob("*.po")) if folder.is_dir() else []
    if not files:
        return NullTranslations()
    merged = None
    for path in files:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        if merged is None:
            merged = catalog
        else:
            for message in catalog:
                if message.id:
                    merged[message.id] = message
    buffer = io.BytesIO()
    assert merged is not None
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


def current_locale() -> str:
    """The request's locale (the same choice Flask-Babel makes), or the default outside a request."""
    return select_locale()


def select_locale() -> str:
    """Flask-Babel's locale selector: own setting, then the browser's Accept-Language."""
    if not has_request_context():
        return DEFAULT_LOCALE
    own = session.get(SESSION_KEY)
    if own in LOCALES:
        return own
    return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE


def _(msgid: str, **params: Any) -> str:
    """`msgid` in the current locale, `%(name)s` filled from `params`."""
    text = translations(current_locale()).gettext(msgid)
    return text % params if params else text


def ngettext(singular: str, plural: str, num: int, **params: Any) -> str:
    text = translations(current_locale()).ngettext(singular, plural, num)
    return text % {"num": num, **params}


def lazy(msgid: str, **params: Any) -> LazyProxy:
    """A string looked up when shown (for module-level tables)."""
    return LazyProxy(_, msgid, enable_cache=False, **params)


def in_locale(locale: str, msgid: str, **params: Any) -> str:
    """`msgid` in an explicit locale (documents that are always in the authority's language)."""
    text = translations(locale).gettext(msgid)
    return text % params if params else text


def init_app(app: Flask) -> None:
    """Flask-Babel for locale selection and formatting; our catalogue for the words, in Jinja too."""
    from flask_babel import Babel

    Babel(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE,
          default_timezone=app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s, **kw: _(s, **kw), lambda s, p, n, **kw: ngettext(s, p, n, **kw), newstyle=True)
    app.jinja_env.globals["current_locale"] = current_locale
