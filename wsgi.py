"""Entry point for gunicorn (`wsgi:app`) and `flask --app wsgi ...`.

The timer ticker starts with the app only in a web server process (gunicorn, `flask run`), not
for the other CLI commands, and only while DOEFLOW_SCHEDULER is on.
"""

import os
import sys

from web import configure_logging, create_app


def _serving() -> bool:
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "gunicorn" in program or (program == "flask" and "run" in sys.argv[1:])


if _serving():
    configure_logging()  # before the app exists, so its logs and the engine's take the chosen format
app = create_app(serving=_serving())
