"""English and Spanish: Flask-Babel with the user's language and time zone (stored in UTC,
shown in the user's zone). `python -m web.i18n compile` builds the .mo catalogues from the .po
files (scripts/setup.sh runs it); `python -m web.i18n extract` refreshes the template of messages."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages import frontend, mofile, pofile
from flask import Flask, request, session
from flask_babel import Babel
from flask_login import current_user

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
LANGUAGES = {"en": "English", "es": "Español"}


def select_locale() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def init_app(app: Flask) -> None:
    try:
        compile_catalogues(stale_only=True)  # setup compiles them; this catches an edited .po
    except OSError as error:  # a read-only installation: use what setup compiled
        app.logger.warning("translations not recompiled: %s", error)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)


def compile_catalogues(*, stale_only: bool = False) -> list[Path]:
    """Compile every .po next to it as .mo (only the missing or older ones with `stale_only`)."""
    built = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if stale_only and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = pofile.read_po(source, locale=po.parts[-3])
        with mo.open("wb") as target:
            mofile.write_mo(target, catalog)
        built.append(mo)
    return built


def extract() -> None:
    """Write web/translations/messages.pot from the templates and the Python code."""
    cfg = HERE / "babel.cfg"
    target = TRANSLATIONS / "messages.pot"
    frontend.CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(cfg), "-k", "_l", "--no-location", "-o", str(target), str(HERE)]
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "compile"
    if command == "compile":
        compile_catalogues()
    elif command == "extract":
        extract()
    else:
        sys.exit("usage: python -m web.i18n compile|extract")
