"""The hostile and careless cases of the robustness review, as data: each test module here reads
its cases from a table (a module-level list or a file under tests/security/data/) and runs each on
SQLite and PostgreSQL. The web fixtures are shared with tests/web, the shipped processes with
tests/processes."""

from tests.processes.conftest import published_processes  # noqa: F401 - for the message cases
from tests.web.conftest import app, cli, site  # noqa: F401 - fixtures for the hostile web cases
