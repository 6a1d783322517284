"""The project page gathers the project's chats and tasks."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Artifact, Project, Task, Thread, User


def _project_with_work(app: Flask, user: User) -> str:
    with app.app_context():
        project = Project(user_id=user.id, name="Acme")
        db.session.add(project)
        db.session.flush()
        db.session.add_all(
            [
                Thread(user_id=user.id, project_id=project.id, model_provider="offline", title="Kick-off"),
                Task(user_id=user.id, project_id=project.id, title="Send the minutes"),
                Task(user_id=user.id, title="Unrelated errand"),
            ]
        )
        db.session.commit()
        return project.id


def test_chats_tab_lists_the_projects_chats(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = _project_with_work(app, user)
    page = client.get(f"/projects/{project_id}?tab=chats").get_data(as_text=True)
    assert "Kick-off" in page and f'name="project_id" value="{project_id}"' in page


def test_tasks_tab_shows_only_the_projects_tasks_and_adds_to_it(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = _project_with_work(app, user)
    page = client.get(f"/projects/{project_id}?tab=tasks").get_data(as_text=True)
    assert "Send the minutes" in page and "Unrelated errand" not in page
    assert "<strong>1</strong> pending" in page
    response = client.post(
        "/tasks", data={"title": "Draft the BRD", "project_id": project_id, "next": f"/projects/{project_id}?tab=tasks"}
    )
    assert response.status_code == 303
    assert "Draft the BRD" in client.get(f"/projects/{project_id}?tab=tasks").get_data(as_text=True)


def test_tabs_swap_as_fragments(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = _project_with_work(app, user)
    fragment = client.get(
        f"/projects/{project_id}?tab=tasks", headers={"HX-Request": "true", "HX-Target": "project-tab"}
    )
    html = fragment.get_data(as_text=True)
    assert html.startswith('<div id="project-tab">') and "<html" not in html and "Send the minutes" in html


def test_artifacts_tab_lists_the_latest_version_with_a_link(app: Flask, client: FlaskClient, user: User) -> None:
    from webapp.artifacts.service import save_artifact

    project_id = _project_with_work(app, user)
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread).where(Thread.project_id == project_id))
        for body in ("# v1", "# v2"):
            save_artifact(thread=thread, message_id=None, artifact_type="brd", title="Acme BRD", content_markdown=body)
        db.session.commit()
        artifact_ids = list(db.session.scalars(sa.select(Artifact.id).order_by(Artifact.version)))
    page = client.get(f"/projects/{project_id}?tab=artifacts").get_data(as_text=True)
    assert page.count("Acme BRD") == 1
    assert f"/artifacts/{artifact_ids[-1]}" in page and f'/artifacts/{artifact_ids[0]}"' not in page
