"""The health endpoint a load balancer polls: the process answers and the database too."""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from . import database

bp = Blueprint("home", __name__)


@bp.get("/health")
def health():
    with database(current_app).unit_of_work(write=False) as uow:
        uow.session.execute(text("SELECT 1"))
    return {"status": "ok"}
