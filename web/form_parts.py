"""How many fields a form post may hold, counted before it is parsed: Werkzeug applies its
`max_form_parts` (Flask's MAX_FORM_PARTS, DOEFLOW_MAX_FORM_PARTS) to multipart bodies only, so a
URL-encoded body of the ordinary 2 MB limit could carry some 80,000 fields to every form reader."""

from __future__ import annotations

import io
from typing import IO, Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


class CountedFormParser(FormDataParser):
    """Werkzeug's parser, with `max_form_parts` for URL-encoded bodies too (413 past it)."""

    def _parse_urlencoded(self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict) -> Any:
        body = stream.read()
        if self.max_form_parts is not None and body.count(b"&") >= self.max_form_parts:
            raise RequestEntityTooLarge(f"more than {self.max_form_parts} fields in one form")
        return super()._parse_urlencoded(io.BytesIO(body), mimetype, content_length, options)
