"""The OpenAPI description of the documents of a case (web/api_attachments.py), merged into the
document by web/openapi.py."""

from __future__ import annotations

from typing import Any

from .openapi_parts import TIME, _list_of, _nullable, _object, _operation, _parameter, _ref

INSTANCE_ID = _parameter("instance_id", "integer", "The instance's id.")
ATTACHMENT_ID = _parameter("attachment_id", "integer", "The attachment's id.")
BINARY = {"type": "string", "format": "binary"}

SCHEMAS: dict[str, Any] = {}
SCHEMAS["Attachment"] = _object(
    {
        "id": {"type": "integer"},
        "instance_id": {"type": "integer"},
        "name": {
            "type": "string",
            "description": "The file name as sent, cleaned (no folders, no control characters).",
        },
        "size": {"type": "integer", "description": "Bytes."},
        "content_type": {
            "type": "string",
            "description": "Read from the bytes, not from the name.",
            "examples": ["application/pdf"],
        },
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "uploaded_by_id": _nullable("integer"),
        "uploaded_by_name": _nullable("string"),
        "uploaded_at": TIME,
        "task_id": _nullable("string", "The task whose form's file field holds it (`x-widget: file`), if any."),
        "field": _nullable("string", "That form field's name."),
    },
    description="A document on a case. Its bytes are at `GET /attachments/{id}`.",
)
RESPONSES: dict[str, Any] = {}
RESPONSES["TooLarge"] = {
    "description": "The file is over the attachment limit (DOEFLOW_MAX_ATTACHMENT_BYTES, 20 MB by default), or "
    "the body over what the route accepts. Nothing was saved.",
    "content": {"application/json": {"schema": _ref("Error")}},
}
_upload = _operation(
    "uploadAttachment",
    "Attach a document to a case the caller may see (not a cancelled one): multipart/form-data, one file in "
    "the field `file`. Recorded on the timeline as `attached`.",
    ("201", "The document.", _ref("Attachment")),
    ("400", "403", "404", "413"),
    headers={"Location": {"schema": {"type": "string"}, "description": "Where its bytes are."}},
)
_upload["requestBody"] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": BINARY},
            }
        }
    },
}
_download = _operation(
    "downloadAttachment",
    "The document's bytes, always as a download (`Content-Disposition: attachment` with its name, "
    "`X-Content-Type-Options: nosniff`), with the type read from its bytes.",
    ("200", "The bytes.", {}),
    ("404",),
)
_download["responses"]["200"]["content"] = {"*/*": {"schema": BINARY}}
PATHS: dict[str, Any] = {}
PATHS["/instances/{instance_id}/attachments"] = {
    "parameters": [INSTANCE_ID],
    "post": _upload,
    "get": _operation(
        "listAttachments",
        "The case's documents, oldest first (without their bytes).",
        ("200", "The documents.", _list_of("attachments", "Attachment")),
        ("404",),
    ),
}
PATHS["/attachments/{attachment_id}"] = {"parameters": [ATTACHMENT_ID], "get": _download}
