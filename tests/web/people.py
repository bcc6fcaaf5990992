"""The people of the page tests and their browser without a browser (Flask's test client)."""

from __future__ import annotations

import re

from tests.processes.scenarios import HAITI_HURRICANE

PASSWORD = "a long enough test password"
COM, RM = "chief-of-mission@hti.demo", "resources-management@hti.demo"
EFP, DIRECTOR = "emergency-focal-point@ro-americas.demo", "regional-director@ro-americas.demo"
MEFM = HAITI_HURRICANE["mefm"]


class Client:
    """A person's browser without the browser: cookies, and the CSRF token of the last page."""

    def __init__(self, app):
        self.http = app.test_client()
        self.token = None

    def get(self, url, **kwargs):
        response = self.http.get(url, **kwargs)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
        self.token = found.group(1) if found else self.token
        return response

    def post(self, url, data=None, *, csrf=True):
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.token
        return self.http.post(url, data=form)

    def sign_in(self, email, password=PASSWORD):
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password})
        self.get("/")
        return response
