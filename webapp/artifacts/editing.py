"""Editing an artifact in its page: an item at a time (htmx swaps its form in place), or its title and text.

Every form also works without JavaScript: a plain post answers 303 to the new version. A
save from a page showing an older version is refused (409) with a link to the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, render_template, request, url_for
from werkzeug.wrappers import Response

from ..htmx import redirect_client, render
from ..models import Artifact, ArtifactItem
from . import revisions, service, traceability
from .items import FIELD_LABELS, KEY, ItemFieldsError
from .revisions import ItemNotFound, StaleVersion
from .routes import bp, get_owned_or_404


def _item_id(key: str) -> str:
    return f"item-{key}"


def _checked_key(key: str) -> str:
    if not KEY.fullmatch(key):
        abort(404)
    return key


def _item_of(artifact: Artifact, key: str) -> ArtifactItem:
    item = next((item for item in artifact.items if item.key == _checked_key(key)), None)
    if item is None:
        abort(404)
    return item


def _saved(new: Artifact, message: str) -> Response:
    flash(message, "success")
    return redirect_client(url_for("artifacts.show", artifact_id=new.id) + "#versions")


def _stale(artifact: Artifact, error: StaleVersion, target: str | None) -> Response:
    return render(
        "artifacts/stale.html",
        "artifacts/_stale.html",
        target=target,
        status=409,
        artifact=artifact,
        latest=error.latest,
    )


def _attempt(
    artifact: Artifact,
    target: str | None,
    change: Callable[[], Artifact],
    message: str,
    on_error: Callable[[dict[str, str]], Response],
) -> Response:
    """Run one edit; a newer version, a missing item or fields to fix each get their own answer."""
    try:
        new = change()
    except StaleVersion as error:
        return _stale(artifact, error, target)
    except ItemNotFound:
        abort(404)
    except ItemFieldsError as error:
        return on_error(error.errors)
    return _saved(new, message.format(version=new.version))


def _form_context(artifact: Artifact, **context: Any) -> dict[str, Any]:
    errors = context.get("errors") or {}
    return {
        "artifact": artifact,
        "page": service.artifact_page(artifact),
        "labels": FIELD_LABELS,
        "error_names": [label for name, label in FIELD_LABELS.items() if name in errors],
        **context,
    }


# One item


@bp.get("/<artifact_id>/items/<key>")
def item(artifact_id: str, key: str) -> Response:
    """Show one item (its card, when an inline edit is cancelled)."""
    artifact = get_owned_or_404(artifact_id)
    found = _item_of(artifact, key)
    return render(
        "artifacts/item.html",
        "artifacts/_item.html",
        target=_item_id(key),
        **_form_context(artifact, item=found, findings=traceability.findings(artifact)),
    )


@bp.get("/<artifact_id>/items/<key>/edit")
def edit_item(artifact_id: str, key: str) -> Response:
    """Show the form that edits one item, in its place or as a page."""
    artifact = get_owned_or_404(artifact_id)
    found = _item_of(artifact, key)
    return render(
        "artifacts/item_edit.html",
        "artifacts/_item_form.html",
        target=_item_id(key),
        **_form_context(artifact, item=found, kind=found.kind, values=found, errors={}),
    )


@bp.post("/<artifact_id>/items/<key>")
def update_item(artifact_id: str, key: str) -> Response:
    """Save an item's fields as a new version of the artifact."""
    artifact = get_owned_or_404(artifact_id)
    found = _item_of(artifact, key)

    def invalid(errors: dict[str, str]) -> Response:
        return render(
            "artifacts/item_edit.html",
            "artifacts/_item_form.html",
            target=_item_id(key),
            status=422,
            **_form_context(artifact, item=found, kind=found.kind, values=request.form, errors=errors),
        )

    return _attempt(
        artifact,
        _item_id(key),
        lambda: revisions.edit_item(artifact, key, request.form),
        f"{key} saved as version {{version}}.",
        invalid,
    )


@bp.post("/<artifact_id>/items")
def add_item(artifact_id: str) -> Response:
    """Add a story or requirement at the end, as a new version."""
    artifact = get_owned_or_404(artifact_id)
    kind = request.form.get("kind", "")
    target = f"add-{kind}"

    def invalid(errors: dict[str, str]) -> Response:
        return render(
            "artifacts/item_edit.html",
            "artifacts/_item_form.html",
            target=target,
            status=422,
            **_form_context(
                artifact,
                item=None,
                kind=kind if kind in ("story", "requirement") else "story",
                values=request.form,
                errors=errors,
            ),
        )

    return _attempt(
        artifact,
        target,
        lambda: revisions.add_item(artifact, request.form),
        "Item added as version {version}.",
        invalid,
    )


@bp.post("/<artifact_id>/items/<key>/move")
def move_item(artifact_id: str, key: str) -> Response:
    """Move an item one place up or down, as a new version."""
    artifact = get_owned_or_404(artifact_id)
    _item_of(artifact, key)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if offset is None:
        abort(400)
    return _attempt(
        artifact,
        None,
        lambda: revisions.move_item(artifact, key, offset),
        f"{key} moved {request.form['direction']}: version {{version}}.",
        lambda errors: abort(400),
    )


@bp.get("/<artifact_id>/items/<key>/delete")
def confirm_delete_item(artifact_id: str, key: str) -> str:
    """Ask before removing an item (the page for browsers without JavaScript)."""
    artifact = get_owned_or_404(artifact_id)
    return render_template("artifacts/item_delete.html", **_form_context(artifact, item=_item_of(artifact, key)))


@bp.post("/<artifact_id>/items/<key>/delete")
def delete_item(artifact_id: str, key: str) -> Response:
    """Remove an item from the artifact's next version; earlier versions keep it."""
    artifact = get_owned_or_404(artifact_id)
    found = _item_of(artifact, key)

    def refused(errors: dict[str, str]) -> Response:
        return render(
            "artifacts/item_delete.html",
            "artifacts/_form_errors.html",
            target=_item_id(key),
            status=422,
            **_form_context(artifact, item=found, errors=errors),
        )

    return _attempt(
        artifact,
        _item_id(key),
        lambda: revisions.delete_item(artifact, key),
        f"{key} removed: version {{version}}.",
        refused,
    )


# The whole artifact


@bp.get("/<artifact_id>/edit")
def edit(artifact_id: str) -> str:
    """Show the form that edits an artifact's title and text."""
    artifact = get_owned_or_404(artifact_id)
    values = {"title": artifact.title, "content": service.prose(artifact)}
    return render_template("artifacts/edit.html", **_form_context(artifact, values=values, errors={}))


@bp.post("/<artifact_id>/edit")
def update(artifact_id: str) -> Response:
    """Save an artifact's title and text as a new version."""
    artifact = get_owned_or_404(artifact_id)
    form = request.form

    def invalid(errors: dict[str, str]) -> Response:
        return render(
            "artifacts/edit.html",
            "artifacts/_edit_form.html",
            target="artifact-edit",
            status=422,
            **_form_context(artifact, values=form, errors=errors),
        )

    return _attempt(
        artifact,
        "artifact-edit",
        lambda: revisions.edit_artifact(artifact, title=form.get("title", ""), text=form.get("content", "")),
        "Saved as version {version}.",
        invalid,
    )
