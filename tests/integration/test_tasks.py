"""The Tasks page through HTTP: every action as an HTMX fragment and as a plain form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Project, Task, Thread, User, utcnow
from webapp.tasks import service

from ..conftest import AuthActions, csrf_token_from, make_app, other_client


def _task(app: Flask, user: User, title: str = "Send the minutes", **fields) -> str:
    with app.app_context():
        return service.create_task(user.id, title=title, **fields).id


def _project(app: Flask, owner_id: str, name: str = "Acme rollout") -> str:
    with app.app_context():
        project = Project(user_id=owner_id, name=name)
        db.session.add(project)
        db.session.commit()
        return project.id


def _thread(app: Flask, user: User, title: str = "Kick-off meeting") -> str:
    with app.app_context():
        thread = Thread(user_id=user.id, title=title, model_provider="offline")
        db.session.add(thread)
        db.session.commit()
        return thread.id


def _stored(app: Flask, task_id: str) -> Task | None:
    with app.app_context():
        return db.session.get(Task, task_id)


def _row(task_id: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": f"task-{task_id}"}


def _titles(html: str) -> list[str]:
    return re.findall(r'<span class="task-title">([^<]*)</span>', html)


def _page(client: FlaskClient, url: str = "/tasks") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


class TestList:
    def test_empty_list_says_what_to_do(self, client: FlaskClient, user: User) -> None:
        page = _page(client)
        assert "<h1>Tasks</h1>" in page and "No tasks yet" in page
        assert "<strong>0</strong> pending · <strong>0</strong> completed" in page
        assert '<span class="nav-label">Tasks</span>' in page

    def test_rows_show_due_date_priority_project_and_chat(self, app: Flask, client: FlaskClient, user: User) -> None:
        project, thread = _project(app, user.id), _thread(app, user)
        _task(
            app,
            user,
            "Draft user stories",
            description="Checkout flow",
            due_date="2030-03-05",
            priority="high",
            project_id=project,
            thread_id=thread,
        )
        page = _page(client)
        assert _titles(page) == ["Draft user stories"]
        assert "Checkout flow" in page and '<time datetime="2030-03-05">5 Mar 2030</time>' in page
        assert "High priority" in page
        assert f'href="/projects/{project}">Project: Acme rollout</a>' in page
        assert f'href="/threads/{thread}">From chat: Kick-off meeting</a>' in page

    def test_overdue_pending_tasks_are_highlighted(self, app: Flask, client: FlaskClient, user: User) -> None:
        yesterday = utcnow().date() - timedelta(days=1)
        late = _task(app, user, "Late", due_date=yesterday)
        done = _task(app, user, "Late but done", due_date=yesterday)
        with app.app_context():
            service.complete_task(user.id, done)
        page = _page(client)
        assert re.search(rf'id="task-{late}" class="task-row is-overdue"', page)
        assert re.search(rf'id="task-{done}" class="task-row is-done"', page)
        assert page.count("· overdue") == 1

    def test_filters_and_sort_come_from_the_url(self, app: Flask, client: FlaskClient, user: User) -> None:
        _task(app, user, "Book the workshop", priority="high")
        _task(app, user, "Review the BRD", description="Checkout section", due_date="2030-01-10", priority="low")
        done = _task(app, user, "Send the minutes", due_date="2030-01-01")
        with app.app_context():
            service.complete_task(user.id, done)
        assert _titles(_page(client, "/tasks?sort=due")) == ["Send the minutes", "Review the BRD", "Book the workshop"]
        assert _titles(_page(client, "/tasks?sort=priority")) == [
            "Book the workshop",
            "Send the minutes",
            "Review the BRD",
        ]
        assert _titles(_page(client, "/tasks?status=completed")) == ["Send the minutes"]
        assert _titles(_page(client, "/tasks?status=pending&q=checkout")) == ["Review the BRD"]
        page = _page(client, "/tasks?q=nothing-like-this")
        assert "No tasks match" in page and 'value="nothing-like-this"' in page

    def test_unknown_filter_values_fall_back_to_defaults(self, app: Flask, client: FlaskClient, user: User) -> None:
        _task(app, user)
        assert _titles(_page(client, "/tasks?status=bogus&sort=bogus&page=-3")) == ["Send the minutes"]

    def test_load_more_pages_through_the_list(self, app: Flask, client: FlaskClient, user: User) -> None:
        with app.app_context():
            for number in range(1, 61):
                db.session.add(
                    Task(user_id=user.id, title=f"Task {number:02}", created_at=utcnow() + timedelta(seconds=number))
                )
            db.session.commit()
        page = _page(client)
        assert len(_titles(page)) == 50 and _titles(page)[0] == "Task 60"
        assert 'hx-get="/tasks?page=2"' in page and "Load more" in page
        more = client.get("/tasks?page=2", headers={"HX-Request": "true", "HX-Target": "task-more"})
        html = more.get_data(as_text=True)
        assert _titles(html) == [f"Task {number:02}" for number in range(10, 0, -1)]
        assert "<html" not in html and "Load more" not in html
        plain = _page(client, "/tasks?page=2")
        assert "Page 2." in plain and len(_titles(plain)) == 10


class TestAdd:
    def test_plain_form(self, app: Flask, client: FlaskClient, user: User) -> None:
        response = client.post("/tasks", data={"title": "Call Joe", "due_date": "2030-02-01", "priority": "low"})
        assert response.status_code == 303 and response.headers["Location"] == "/tasks"
        page = _page(client)
        assert "Task added." in page and _titles(page) == ["Call Joe"]
        assert "<strong>1</strong> pending" in page

    def test_htmx_returns_fresh_form_new_row_and_counts(self, client: FlaskClient, user: User) -> None:
        response = client.post(
            "/tasks",
            data={"title": "Call Joe", "priority": "medium"},
            headers={"HX-Request": "true", "HX-Target": "task-add"},
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "<html" not in html
        assert '<form id="task-add"' in html and 'value=""' in html
        assert '<ul hx-swap-oob="afterbegin:#task-rows">' in html and _titles(html) == ["Call Joe"]
        assert 'id="task-counts" class="task-counts" hx-swap-oob="true"><strong>1</strong> pending' in html
        # The list's "No tasks yet" is emptied, not left under the new row.
        assert '<div id="task-list-empty" hx-swap-oob="true"></div>' in html
        assert 'id="task-list-empty"' in _page(client)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"title": "  "}, "Enter a title."),
            ({"title": "x" * 501}, "Keep the title under 500 characters."),
            ({"title": "Call Joe", "due_date": "next friday"}, "Enter a date as YYYY-MM-DD."),
            ({"title": "Call Joe", "priority": "urgent"}, "Choose low, medium or high."),
            ({"title": "Call Joe", "project_id": "not-mine"}, "Choose one of your projects."),
        ],
    )
    def test_bad_input_is_shown_inline_and_nothing_is_saved(
        self, app: Flask, client: FlaskClient, user: User, data: dict, message: str
    ) -> None:
        fragment = client.post("/tasks", data=data, headers={"HX-Request": "true", "HX-Target": "task-add"})
        assert fragment.status_code == 422
        html = fragment.get_data(as_text=True)
        assert message in html and '<form id="task-add"' in html and "<html" not in html
        page = client.post("/tasks", data=data)
        assert page.status_code == 422
        html = page.get_data(as_text=True)
        assert message in html and "<h1>Tasks</h1>" in html
        assert ('aria-invalid="true"' in html) == ("project_id" not in data)
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0

    def test_another_users_project_is_refused(self, app: Flask, client: FlaskClient, user: User) -> None:
        ben = other_client(app)
        with app.app_context():
            ben_id = db.session.scalar(sa.select(User.id).where(User.email == "ben@example.com"))
        project_id = _project(app, ben_id, "Ben's")
        response = client.post("/tasks", data={"title": "Sneaky", "project_id": project_id})
        assert response.status_code == 422 and "Choose one of your projects." in response.get_data(as_text=True)
        assert ben.get("/tasks").status_code == 200


class TestCompletion:
    def test_htmx_toggles_the_row(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        done = client.post(f"/tasks/{task}/complete", headers=_row(task))
        html = done.get_data(as_text=True)
        assert done.status_code == 200 and "<html" not in html
        assert f'id="task-{task}" class="task-row is-done"' in html and 'aria-checked="true"' in html
        assert f'hx-post="/tasks/{task}/reopen"' in html
        assert "<strong>0</strong> pending · <strong>1</strong> completed" in html
        assert _stored(app, task).completed_at is not None
        reopened = client.post(f"/tasks/{task}/reopen", headers=_row(task)).get_data(as_text=True)
        assert 'aria-checked="false"' in reopened and "<strong>1</strong> pending" in reopened
        assert _stored(app, task).completed_at is None

    def test_plain_form_goes_back_to_the_filtered_list(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        response = client.post(f"/tasks/{task}/complete", data={"next": "/tasks?status=completed"})
        assert response.status_code == 303 and response.headers["Location"] == "/tasks?status=completed"
        page = _page(client, "/tasks?status=completed")
        assert "Task completed." in page and _titles(page) == ["Send the minutes"]

    def test_next_must_be_a_local_path(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        response = client.post(f"/tasks/{task}/complete", data={"next": "//evil.example/tasks"})
        assert response.headers["Location"] == "/tasks"

    def test_counts_follow_the_lists_project(self, app: Flask, client: FlaskClient, user: User) -> None:
        project = _project(app, user.id)
        task = _task(app, user, project_id=project)
        _task(app, user, "Elsewhere")
        html = client.post(f"/tasks/{task}/complete", data={"scope": project}, headers=_row(task)).get_data(
            as_text=True
        )
        assert "<strong>0</strong> pending · <strong>1</strong> completed" in html


class TestEdit:
    def test_htmx_edit_form_in_the_row_then_save(self, app: Flask, client: FlaskClient, user: User) -> None:
        project = _project(app, user.id)
        task = _task(app, user)
        form = client.get(f"/tasks/{task}/edit", headers=_row(task)).get_data(as_text=True)
        assert f'<li id="task-{task}" class="task-row is-editing">' in form and "<html" not in form
        assert 'value="Send the minutes"' in form and "Acme rollout" in form
        saved = client.post(
            f"/tasks/{task}",
            headers=_row(task),
            data={
                "title": "Send minutes to Joe",
                "description": "With actions",
                "due_date": "2030-04-01",
                "priority": "high",
                "project_id": project,
            },
        )
        html = saved.get_data(as_text=True)
        assert saved.status_code == 200 and _titles(html) == ["Send minutes to Joe"]
        assert "With actions" in html and "High priority" in html and "Project: Acme rollout" in html
        cancel = client.get(f"/tasks/{task}", headers=_row(task)).get_data(as_text=True)
        assert _titles(cancel) == ["Send minutes to Joe"] and "<html" not in cancel

    def test_plain_edit_page_and_save(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        page = _page(client, f"/tasks/{task}/edit?next=/tasks%3Fsort%3Ddue")
        assert "<h1>Edit task</h1>" in page and 'name="next" value="/tasks?sort=due"' in page
        response = client.post(
            f"/tasks/{task}",
            data={
                "title": "Renamed",
                "description": "",
                "due_date": "",
                "priority": "low",
                "next": "/tasks?sort=due",
            },
        )
        assert response.status_code == 303 and response.headers["Location"] == "/tasks?sort=due"
        page = _page(client, "/tasks?sort=due")
        assert "Task saved." in page and _titles(page) == ["Renamed"] and "Low priority" in page

    def test_bad_input_is_shown_inline_and_nothing_is_saved(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        data = {"title": "", "description": "x" * 5001, "due_date": "2030-13-01", "priority": "urgent"}
        fragment = client.post(f"/tasks/{task}", data=data, headers=_row(task))
        html = fragment.get_data(as_text=True)
        assert fragment.status_code == 422 and "<html" not in html
        for message in (
            "Enter a title.",
            "Keep the description under 5,000 characters.",
            "Enter a date as YYYY-MM-DD.",
            "Choose low, medium or high.",
        ):
            assert message in html
        page = client.post(f"/tasks/{task}", data=data)
        assert page.status_code == 422 and "<h1>Edit task</h1>" in page.get_data(as_text=True)
        assert _stored(app, task).title == "Send the minutes"


class TestDelete:
    def test_confirmation_page_without_javascript(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        page = _page(client, f"/tasks/{task}/delete")
        assert "Delete this task?" in page and "Send the minutes" in page
        assert f'action="/tasks/{task}/delete"' in page

    def test_htmx_delete_offers_undo_and_undo_brings_the_row_back(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        task = _task(app, user)
        deleted = client.post(f"/tasks/{task}/delete", headers=_row(task))
        html = deleted.get_data(as_text=True)
        assert deleted.status_code == 200 and "Deleted “Send the minutes”." in html and "Undo" in html
        assert f'hx-post="/tasks/{task}/restore"' in html and "<strong>0</strong> pending" in html
        assert _titles(_page(client)) == []
        restored = client.post(f"/tasks/{task}/restore", headers=_row(task)).get_data(as_text=True)
        assert _titles(restored) == ["Send the minutes"] and "<strong>1</strong> pending" in restored
        assert _titles(_page(client)) == ["Send the minutes"]

    def test_plain_delete_then_undo_from_the_page(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        response = client.post(f"/tasks/{task}/delete", data={"next": "/tasks"})
        assert response.status_code == 303
        page = _page(client)
        assert _titles(page) == [] and "Deleted “Send the minutes”." in page
        assert f'action="/tasks/{task}/restore"' in page
        response = client.post(f"/tasks/{task}/restore", data={"next": "/tasks"})
        assert response.status_code == 303
        page = _page(client)
        assert "Task restored." in page and _titles(page) == ["Send the minutes"]

    def test_undo_is_refused_after_the_window(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        client.post(f"/tasks/{task}/delete")
        with app.app_context():
            db.session.execute(sa.update(Task).values(deleted_at=utcnow() - timedelta(minutes=5)))
            db.session.commit()
        assert "Deleted “" not in _page(client)
        late = client.post(f"/tasks/{task}/restore", headers=_row(task))
        assert late.status_code == 409 and "too late to undo" in late.get_data(as_text=True)
        client.post(f"/tasks/{task}/restore")
        assert "It is too late to undo that deletion." in _page(client)


class TestDeletedInAnotherTab:
    @pytest.fixture
    def task(self, app: Flask, client: FlaskClient, user: User) -> str:
        task = _task(app, user)
        client.post(f"/tasks/{task}/delete")
        return task

    @pytest.mark.parametrize("action", ["complete", "reopen", "delete", ""])
    def test_htmx_row_says_the_task_was_deleted(self, client: FlaskClient, task: str, action: str) -> None:
        url = f"/tasks/{task}/{action}".rstrip("/")
        response = client.post(url, data={"title": "New title", "priority": "low"}, headers=_row(task))
        assert response.status_code == 409
        assert "This task was deleted." in response.get_data(as_text=True)

    def test_plain_forms_flash_the_message(self, client: FlaskClient, task: str) -> None:
        response = client.post(f"/tasks/{task}/complete", data={"next": "/tasks"})
        assert response.status_code == 303
        assert "This task was deleted." in _page(client)
        assert client.get(f"/tasks/{task}/edit").status_code == 303
        assert "This task was deleted." in _page(client)


class TestProjectTasks:
    def test_project_list_adds_into_the_project(self, app: Flask, client: FlaskClient, user: User) -> None:
        project = _project(app, user.id)
        _task(app, user, "In the project", project_id=project)
        _task(app, user, "Elsewhere")
        page = _page(client, f"/tasks?project={project}")
        assert "Tasks in Acme rollout" in page and _titles(page) == ["In the project"]
        assert f'href="/projects/{project}">Back to the project</a>' in page
        assert f'<input type="hidden" name="project_id" value="{project}">' in page
        assert "<strong>1</strong> pending" in page
        response = client.post(
            "/tasks", data={"title": "Also here", "project_id": project, "next": f"/tasks?project={project}"}
        )
        assert response.headers["Location"] == f"/tasks?project={project}"
        assert _titles(_page(client, f"/tasks?project={project}")) == ["Also here", "In the project"]

    def test_another_users_project_is_not_found(self, app: Flask, client: FlaskClient, user: User) -> None:
        ben = other_client(app)
        with app.app_context():
            ben_id = db.session.scalar(sa.select(User.id).where(User.email == "ben@example.com"))
        project = _project(app, ben_id)
        refused = client.get(f"/tasks?project={project}")
        assert refused.status_code == 404 and "Not found" in refused.get_data(as_text=True)
        own = ben.get(f"/tasks?project={project}")
        assert own.status_code == 200 and "Back to the project" in own.get_data(as_text=True)


class TestIsolation:
    def test_another_users_task_is_404_on_every_route(self, app: Flask, client: FlaskClient, user: User) -> None:
        task = _task(app, user)
        ben = other_client(app)
        for url in (f"/tasks/{task}", f"/tasks/{task}/edit", f"/tasks/{task}/delete"):
            assert ben.get(url).status_code == 404
            assert ben.get(url, headers=_row(task)).status_code == 404
        for url in (
            f"/tasks/{task}",
            f"/tasks/{task}/complete",
            f"/tasks/{task}/reopen",
            f"/tasks/{task}/delete",
            f"/tasks/{task}/restore",
        ):
            response = ben.post(url, data={"title": "Mine now", "priority": "low"})
            assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)
            assert ben.post(url, headers=_row(task)).status_code == 404
        assert "Send the minutes" not in ben.get("/tasks").get_data(as_text=True)
        stored = _stored(app, task)
        assert stored.title == "Send the minutes" and not stored.completed and stored.deleted_at is None

    def test_logged_out_visitors_are_sent_to_log_in(self, client: FlaskClient) -> None:
        response = client.get("/tasks")
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/login")


def test_plain_forms_work_with_csrf_on(database_url: str) -> None:
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        register = client.get("/register").get_data(as_text=True)
        AuthActions(client).register(csrf_token=csrf_token_from(register))
        page = _page(client)
        assert client.post("/tasks", data={"title": "No token"}).status_code == 400
        response = client.post("/tasks", data={"title": "With token", "csrf_token": csrf_token_from(page)})
        assert response.status_code == 303 and _titles(_page(client)) == ["With token"]
    finally:
        with app.app_context():
            db.session.execute(sa.delete(Task))
            db.session.execute(sa.delete(User))
            db.session.commit()
            db.engine.dispose()
