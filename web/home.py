"""The home page: what is published and how to reach it (the inbox comes with the staff side)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from sqlalchemy import text

from engine import definitions

from . import database

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    with database(current_app).unit_of_work(write=False) as uow:
        versions = [
            {"name": v.name, "process_id": v.process_id, "version": v.version, "published_at": v.published_at}
            for v in definitions.latest_versions(uow)
        ]
    return render_template("home.html", versions=versions)


@bp.get("/health")
def health():
    with database(current_app).unit_of_work(write=False) as uow:
        uow.session.execute(text("SELECT 1"))
    return {"status": "ok"}
