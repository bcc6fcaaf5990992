"""The OpenAPI description of the comments on a case and of cancelling it (web/api_case.py), merged
into the document by web/openapi.py."""

from __future__ import annotations

from typing import Any

from .openapi_parts import TIME, _list_of, _nullable, _object, _operation, _parameter, _ref

INSTANCE_ID = _parameter("instance_id", "integer", "The instance's id.")

SCHEMAS: dict[str, Any] = {}
SCHEMAS["Comment"] = _object(
    {
        "id": {"type": "integer"},
        "instance_id": {"type": "integer"},
        "text": {"type": "string", "description": "As written, trimmed."},
        "author_id": _nullable("integer"),
        "author": _nullable("string", "The author's name."),
        "at": TIME,
    },
    description='A comment on a case; on the timeline as the event `commented` (`data: {"text": ...}`).',
)
SCHEMAS["CommentRequest"] = _object(
    {"text": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "Trimmed; required."}}
)
SCHEMAS["CancelRequest"] = _object(
    {"reason": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "Why; trimmed, required."}}
)
PATHS: dict[str, Any] = {}
PATHS["/instances/{instance_id}/comments"] = {
    "parameters": [INSTANCE_ID],
    "post": _operation(
        "addComment",
        "Comment on a case the caller may see, running or finished. The people who hold its open tasks "
        "(the assignee, or the holders of an unclaimed task's role) are emailed, never the author.",
        ("201", "The comment.", _ref("Comment")),
        ("400", "404"),
        body="CommentRequest",
        body_required=True,
    ),
    "get": _operation(
        "listComments",
        "The case's comments, oldest first.",
        ("200", "The comments.", _list_of("comments", "Comment")),
        ("404",),
    ),
}
PATHS["/instances/{instance_id}/cancel"] = {
    "parameters": [INSTANCE_ID],
    "post": _operation(
        "cancelInstance",
        "Cancel a running case, with a reason: allowed to whoever started it, a Chief of Mission of its office, "
        "a Regional Director of its region and an Admin. Its open tasks close (acting on them is then 409), its "
        "timers and message subscriptions go, the timeline records `cancelled` with the reason, and the holders "
        "of its open tasks, its starter and its office's Chief of Mission are emailed.",
        (
            "200",
            'The instance, with `"status": "cancelled"` and `completed_at` set to when it ended.',
            _ref("Instance"),
        ),
        ("400", "403", "404", "409"),
        body="CancelRequest",
        body_required=True,
    ),
}
