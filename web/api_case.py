"""Comments on a case and cancelling it, in the API. Registered on the API's blueprint, so they share
its bearer tokens and its error bodies."""

from __future__ import annotations

from typing import Any

from flask import g

from engine.views import CommentView
from engine.work import cancel, comments

from .api import _body, _instance, _json, _time, _uow, bp


@bp.post("/instances/<int:instance_id>/comments")
def add_comment(instance_id: int):
    body = _body(required={"text"}, allowed={"text"})
    return _json(comment_json(comments.add_comment(_uow(), g.api_user_id, instance_id, body["text"])), 201)


@bp.get("/instances/<int:instance_id>/comments")
def list_comments(instance_id: int):
    found = comments.comments_of(_uow(write=False), g.api_user_id, instance_id)
    return _json({"comments": [comment_json(c) for c in found]})


@bp.post("/instances/<int:instance_id>/cancel")
def cancel_case(instance_id: int):
    body = _body(required={"reason"}, allowed={"reason"})
    return _json(_instance(cancel.cancel_instance(_uow(), g.api_user_id, instance_id, body["reason"])))


def comment_json(c: CommentView) -> dict[str, Any]:
    return {
        "id": c.id,
        "instance_id": c.instance_id,
        "text": c.text,
        "author_id": c.author_id,
        "author": c.author_name,
        "at": _time(c.at),
    }
