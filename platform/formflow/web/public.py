"""Public pages: the localities and matters on offer, and a health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from formflow.web.context import packs, sessions

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    return render_template("home.html", packs=list(packs().packs.values()))


@bp.get("/healthz")
def health():
    with sessions()() as session:
        session.execute(text("SELECT 1"))
    return jsonify(status="ok", packs=sorted(packs().packs))
