"""Every message of the pages has its Spanish translation (the catalogue is built from the code)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages import pofile

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def test_every_message_of_the_templates_and_code_is_translated_to_spanish(tmp_path):
    from babel.messages import frontend

    template = tmp_path / "messages.pot"
    web = TRANSLATIONS.parent
    frontend.CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(web / "babel.cfg"),
            "-k",
            "_l",
            "--no-location",
            "-o",
            str(template),
            str(web),
        ]
    )
    with template.open("rb") as source:
        wanted = {message.id for message in pofile.read_po(source) if message.id}
    spec = importlib.util.spec_from_file_location("spanish", TRANSLATIONS / "spanish.py")
    spanish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(spanish)
    assert sorted(wanted - set(spanish.ES)) == []
    with (TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = {message.id: message.string for message in pofile.read_po(source) if message.id}
    assert all(catalogue.get(key) for key in wanted), "run: python web/translations/spanish.py"
