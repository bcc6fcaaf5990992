"""Signing in and out (flask-login, passwords checked by the engine), and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from engine.org import sessions, users

from . import database, i18n
from .expired_forms import shown_again

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.login_message_category = "info"


class SignedIn(UserMixin):
    """The signed-in user for one request: the engine's profile, read fresh each request."""

    def __init__(self, profile: users.Profile, session_key: str):
        self.profile, self.session_key = profile, session_key
        self.id = profile.id
        self.name, self.email = profile.name, profile.email
        self.language, self.timezone = profile.language, profile.timezone
        self.memberships = profile.memberships

    def get_id(self) -> str:
        """What flask-login keeps in the cookie: the key of the session signing in opened (never the
        user's id), so ending that session signs the cookie out wherever it was copied."""
        return self.session_key

    def has_role(self, role: str) -> bool:
        return self.profile.has_role(role)

    @property
    def roles_text(self) -> str:
        return ", ".join(f"{role} ({office})" for role, office in self.memberships)


@login_manager.user_loader
def load_user(session_key: str):
    found = sessions.profile(database(current_app).unit_of_work(write=False), session_key)
    return SignedIn(found, session_key) if found else None


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, never a scheme-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = LoginForm()
    if form.validate_on_submit():
        signed_in = sessions.open_session(database(current_app).unit_of_work(), form.email.data, form.password.data)
        if signed_in is not None:
            session.clear()
            login_user(SignedIn(signed_in.profile, signed_in.key))
            return redirect(_safe_next(request.args.get("next")) or url_for("inbox.index"))
        flash(_("The email or the password is not right."), "error")
    return render_template("login.html", form=form), 401 if request.method == "POST" else 200


@shown_again("auth.login")
def _login_again():
    """The sign-in form posted with an expired token (a page left open): the email kept."""
    return render_template("login.html", form=LoginForm()), 400


@bp.post("/logout")
@login_required
def logout():
    sessions.end(database(current_app).unit_of_work(), current_user.session_key)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    chosen = request.form.get("language", "")
    if chosen not in i18n.LANGUAGES:
        chosen = "en"
    if current_user.is_authenticated:
        users.set_language(database(current_app).unit_of_work(), current_user.id, chosen)
    session["language"] = chosen
    return redirect(_safe_next(request.form.get("next")) or url_for("inbox.index"))
