"""The admin console's pages; every URL answers 404 to anyone but an admin."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import security_log
from ..auth import identities, links, login_sessions, mail
from ..auth.audit import audit
from ..auth.service import AccountError
from ..auth.session import sign_out_everywhere
from ..chat.usage import month_usage
from ..extensions import db
from ..models import User
from . import service, usage_report
from .chart import bar_chart
from .forms import BudgetForm, InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
# Actions that ask first, with what the confirmation says.
CONFIRMATIONS = {
    "disable": (
        "Disable {name}?",
        "They are signed out at once on every device and cannot sign in until "
        "an admin enables the account again. Their projects and chats are kept.",
        "Disable account",
    ),
    "demote": (
        "Remove {name}'s admin rights?",
        "They keep their account but lose this console.",
        "Remove admin rights",
    ),
    "sign_out": (
        "Sign {name} out everywhere?",
        "Every session of theirs ends now; they can sign in again.",
        "Sign out everywhere",
    ),
}


@bp.before_request
def _admins_only() -> Response | None:
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        abort(404)
    return None


@bp.context_processor
def _event_names() -> dict[str, dict[str, str]]:
    return {"event_names": security_log.EVENTS}


def _default_budget() -> Decimal:
    return Decimal(str(current_app.config["USER_MONTHLY_BUDGET_USD"]))


def _user_or_404(user_id: str) -> User:
    return db.get_or_404(User, user_id)


@bp.get("/")
def index() -> Response:
    """Open the console on its users list."""
    return redirect(url_for("admin.users"), 303)


@bp.get("/users")
def users() -> str:
    """List users, with search, last sign-in and this month's spend against budget."""
    search = request.args.get("q", "")[:254]
    page = db.paginate(
        service.users_query(search), page=request.args.get("page", 1, type=int), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "admin/users.html",
        page=page,
        search=search,
        spend=service.month_spend_of(page.items),
        default_budget=_default_budget(),
        counts=service.counts(),
    )


@bp.get("/users/<user_id>")
def user(user_id: str) -> str:
    """Show one user: status, ways in, budget, this month's usage and their security log."""
    person = _user_or_404(user_id)
    own = person.monthly_budget_usd
    return _render_user(person, BudgetForm(budget="" if own is None else f"{own:.2f}"))


def _render_user(person: User, budget_form: BudgetForm, status: int = 200) -> tuple[str, int]:
    recent = db.session.scalars(security_log.entries(security_log.LogFilter(user_id=person.id)).limit(10))
    return render_template(
        "admin/user.html",
        person=person,
        budget_form=budget_form,
        identities=identities.of_user(person),
        devices=len(login_sessions.of_user(person)),
        invited=links.has_open_invitation(person),
        usage=month_usage(person, person.monthly_budget(_default_budget()), top=5),
        events=list(recent),
        default_budget=_default_budget(),
    ), status


@bp.get("/users/<user_id>/confirm/<action>")
def confirm(user_id: str, action: str) -> str:
    """Ask before an action that takes something away."""
    if action not in CONFIRMATIONS:
        abort(404)
    person = _user_or_404(user_id)
    title, explanation, button = CONFIRMATIONS[action]
    return render_template(
        "admin/confirm.html",
        person=person,
        action=action,
        title=title.format(name=person.display_name),
        explanation=explanation,
        button=button,
    )


def _done(person: User, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=person.id), 303)


def _refused(person: User, error: service.AdminError) -> Response:
    flash(error.message, "error")
    return redirect(url_for("admin.user", user_id=person.id), 303)


@bp.post("/users/<user_id>/disable")
def disable(user_id: str) -> Response:
    """Disable the account; its sessions end at once."""
    person = _user_or_404(user_id)
    try:
        service.disable(person, by=current_user)
    except service.AdminError as error:
        return _refused(person, error)
    audit("admin.disabled", user=person)
    return _done(person, f"{person.display_name} is disabled and signed out everywhere.")


@bp.post("/users/<user_id>/enable")
def enable(user_id: str) -> Response:
    """Let a disabled user sign in again."""
    person = _user_or_404(user_id)
    service.enable(person)
    audit("admin.enabled", user=person)
    return _done(person, f"{person.display_name} can sign in again.")


@bp.post("/users/<user_id>/promote")
def promote(user_id: str) -> Response:
    """Make the user an admin."""
    person = _user_or_404(user_id)
    service.set_admin(person, True)
    audit("admin.promoted", user=person)
    return _done(person, f"{person.display_name} is now an admin.")


@bp.post("/users/<user_id>/demote")
def demote(user_id: str) -> Response:
    """Remove the user's admin rights, unless they are the last admin."""
    person = _user_or_404(user_id)
    try:
        service.set_admin(person, False)
    except service.AdminError as error:
        return _refused(person, error)
    audit("admin.demoted", user=person)
    if person.id == current_user.id:
        flash("You are no longer an admin.", "success")
        return redirect(url_for("home.index"), 303)
    return _done(person, f"{person.display_name} is no longer an admin.")


@bp.post("/users/<user_id>/sign-out")
def sign_out(user_id: str) -> Response:
    """End every session of the user."""
    person = _user_or_404(user_id)
    audit("admin.signed_out", user=person)
    sign_out_everywhere(person)
    if person.id == current_user.id:
        return redirect(url_for("auth.login"), 303)
    return _done(person, f"{person.display_name} is signed out everywhere.")


@bp.post("/users/<user_id>/budget")
def budget(user_id: str) -> Response | tuple[str, int]:
    """Set the user's monthly budget, or give them the server's default back."""
    person = _user_or_404(user_id)
    form = BudgetForm()
    if form.validate_on_submit():
        try:
            service.set_budget(person, service.parse_budget(form.budget.data))
        except service.AdminError as error:
            form.budget.errors.append(error.message)
        else:
            shown = f"${person.monthly_budget_usd:,.2f}" if person.monthly_budget_usd is not None else "the default"
            audit("admin.budget", user=person, detail=shown)
            return _done(person, f"{person.display_name}'s monthly budget is {shown}.")
    return _render_user(person, form, status=422)


@bp.post("/users/<user_id>/reset-link")
def reset_link(user_id: str) -> tuple[str, int, dict[str, str]]:
    """Make a one-time password reset link for the user, shown once."""
    person = _user_or_404(user_id)
    if not current_app.config["LOCAL_LOGIN"] or not person.is_active:
        abort(404)
    token = links.issue(person, "reset", by=current_user)
    audit("password.reset_sent", user=person, detail="link made by an admin")
    address = _external(url_for("auth.reset_password", token=token))
    return _link_page(
        "admin/link.html",
        person=person,
        address=address,
        purpose="reset",
        hours=int(links.VALID_FOR["reset"].total_seconds() // 3600),
    )


@bp.route("/invite", methods=["GET", "POST"])
def invite() -> str | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Invite someone: their account is made now, and a one-time link lets them in."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            person, token = links.invite(
                email=form.email.data, display_name=form.display_name.data, is_admin=form.is_admin.data, by=current_user
            )
        except AccountError as error:
            form.email.errors.append(error.message)
        else:
            audit("invite.sent", user=person)
            address = _external(url_for("auth.accept_invite", token=token))
            mailed = _mail_invitation(person, address)
            return _link_page(
                "admin/link.html",
                person=person,
                address=address,
                purpose="invite",
                mailed=mailed,
                days=links.VALID_FOR["invite"].days,
            )
    return render_template("admin/invite.html", form=form), 422 if form.errors else 200


def _external(path: str) -> str:
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path


def _link_page(template: str, **context: object) -> tuple[str, int, dict[str, str]]:
    # Shown once: no cache may keep the link.
    return render_template(template, **context), 200, {"Cache-Control": "no-store"}


def _mail_invitation(person: User, address: str) -> bool:
    settings = mail.settings_from(current_app.config)
    if settings is None:
        return False
    body = render_template(
        "admin/mail/invitation.txt",
        person=person,
        address=address,
        inviter=current_user,
        days=links.VALID_FOR["invite"].days,
    )
    mail.send_later(
        settings, mail.compose(settings, to=person.email, subject="You are invited to BA Assistant", body=body)
    )
    return True


@bp.get("/usage")
def usage() -> str:
    """Show usage and cost per user and provider for a month, as a table and a bar chart."""
    month = usage_report.parse_month(request.args.get("month"))
    result = usage_report.report(month)
    return render_template(
        "admin/usage.html",
        report=result,
        chart=bar_chart(result.users, result.providers),
        previous=usage_report.previous_month(month),
        following=usage_report.next_month(month),
    )


@bp.get("/security-log")
def security_events() -> str:
    """Show the security log, newest first, filtered by kind and by email or address."""
    log_filter = security_log.LogFilter(event=request.args.get("event", ""), text=request.args.get("q", "")[:254])
    page = db.paginate(
        security_log.entries(log_filter),
        page=request.args.get("page", 1, type=int),
        per_page=security_log.PAGE_SIZE,
        error_out=False,
    )
    return render_template(
        "admin/security_log.html",
        page=page,
        log_filter=log_filter,
        event_kinds=security_log.EVENTS,
        keep_days=current_app.config["SECURITY_LOG_DAYS"],
    )
