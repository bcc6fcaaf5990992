"""Documents in and out of the site: the larger request body the upload routes accept, files read
from a request, a document always served as a download, and its size in words."""

from __future__ import annotations

import io

import flask
from flask import current_app, request, send_file, url_for
from werkzeug.datastructures import FileStorage

from engine.views import AttachmentView
from engine.work.attachments import Download
from engine.work.uploads import Upload

from .form_parts import CountedFormParser

# The routes a file may be posted to; every other route keeps the ordinary body limit.
UPLOAD_ENDPOINTS = frozenset({"api.upload_attachment", "attachments.upload", "tasks.submit"})


class Request(flask.Request):
    """The upload routes accept one attachment's limit (DOEFLOW_MAX_ATTACHMENT_BYTES) on top of the
    ordinary body limit (DOEFLOW_MAX_CONTENT_LENGTH), so a file at the limit gets through and the
    engine refuses one over it with a clear 413. Decided when the route is matched, before the
    CSRF check reads the form. Every form post holds at most MAX_FORM_PARTS fields (form_parts)."""

    form_data_parser_class = CountedFormParser

    @property
    def max_content_length(self) -> int | None:
        ordinary = flask.Request.max_content_length.fget(self)
        if self._max_content_length is None and current_app and self.endpoint in UPLOAD_ENDPOINTS:
            return (ordinary or 0) + current_app.config["MAX_ATTACHMENT_BYTES"]
        return ordinary

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def attachment_limit() -> int:
    return current_app.config["MAX_ATTACHMENT_BYTES"]


def uploads(files: list[FileStorage]) -> list[Upload]:
    """The files chosen in a request (an empty file input sends a part without a name: skipped).
    Read up to one byte past the limit: the engine says it is too large, memory stays bounded."""
    limit = attachment_limit()
    return [Upload(f.filename or "", f.stream.read(limit + 1)) for f in files if f.filename]


def as_download(found: Download):
    """Always a download, never shown in the browser: `Content-Disposition: attachment` with the
    cleaned name (RFC 5987 `filename*` when it is not ASCII), the detected type, `nosniff`."""
    response = send_file(
        io.BytesIO(found.content),
        mimetype=found.attachment.content_type,
        as_attachment=True,
        download_name=found.attachment.name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def size_text(size: int, language: str) -> str:
    """480 KB, 1.5 MB (1,5 MB in Spanish): at least 1 KB, one decimal under 10 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    megabytes = size / (1024 * 1024)
    text = f"{megabytes:.1f}" if megabytes < 10 else f"{megabytes:.0f}"
    text = text.removesuffix(".0")
    return (text.replace(".", ",") if language == "es" else text) + " MB"


def form_uploads() -> dict[str, list[Upload]]:
    """The files a task form posted, by field name (formparse.parse_submission's `files`)."""
    return {name: found for name in request.files if (found := uploads(request.files.getlist(name)))}


def file_links(documents: list[AttachmentView]) -> dict[int, tuple[str, str]]:
    """Attachment id -> (name, download link): how forms and answers name a file field's documents."""
    return {a.id: (a.name, url_for("attachments.download", attachment_id=a.id)) for a in documents}
