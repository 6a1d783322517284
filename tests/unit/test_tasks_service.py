"""The task rules, on every database: validation, filters, order, ownership, undo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp.extensions import db
from webapp.models import Project, Task, Thread, User, utcnow
from webapp.tasks import service
from webapp.tasks.service import TaskDeleted, TaskNotFound, TaskQuery, TaskValidationError, UndoExpired


@pytest.fixture
def ctx(app: Flask):
    with app.app_context():
        yield


def _user(email: str = "ana@example.com") -> str:
    user = User(email=email, display_name=email.split("@")[0], password_hash="x")
    db.session.add(user)
    db.session.commit()
    return user.id


def _project(user_id: str, name: str = "Acme") -> str:
    project = Project(user_id=user_id, name=name)
    db.session.add(project)
    db.session.commit()
    return project.id


def _titles(page: service.TaskPage) -> list[str]:
    return [task.title for task in page.tasks]


class TestValidation:
    def test_create_strips_and_parses_raw_strings(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="  Send minutes ", due_date="2030-01-31", priority=" HIGH ")
        assert (task.title, task.due_date, task.priority, task.completed) == (
            "Send minutes",
            date(2030, 1, 31),
            "high",
            False,
        )

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"title": "   "}, {"title": "Enter a title."}),
            ({"title": "x" * 501}, {"title": "Keep the title under 500 characters."}),
            ({"description": "x" * 5001}, {"description": "Keep the description under 5,000 characters."}),
            ({"due_date": "31/01/2030"}, {"due_date": "Enter a date as YYYY-MM-DD."}),
            ({"due_date": "2030-02-30"}, {"due_date": "Enter a date as YYYY-MM-DD."}),
            ({"priority": "urgent"}, {"priority": "Choose low, medium or high."}),
            ({"project_id": "no-such-project"}, {"project_id": "Choose one of your projects."}),
            ({"thread_id": "no-such-chat"}, {"thread_id": "Choose one of your chats."}),
        ],
    )
    def test_bad_input_names_the_field_and_saves_nothing(self, ctx, fields: dict, expected: dict) -> None:
        ana = _user()
        with pytest.raises(TaskValidationError) as raised:
            service.create_task(ana, **{"title": "Fine", **fields})
        assert raised.value.errors == expected
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0

    def test_every_broken_rule_is_reported_at_once(self, ctx) -> None:
        ana = _user()
        with pytest.raises(TaskValidationError) as raised:
            service.create_task(ana, title="", due_date="soon", priority="urgent")
        assert set(raised.value.errors) == {"title", "due_date", "priority"}

    def test_limits_are_inclusive(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="x" * 500, description="y" * 5000)
        assert len(task.title) == 500 and len(task.description) == 5000

    def test_another_users_project_and_chat_are_refused(self, ctx) -> None:
        ana, ben = _user(), _user("ben@example.com")
        bens_project = _project(ben)
        bens_chat = Thread(user_id=ben, model_provider="offline")
        db.session.add(bens_chat)
        db.session.commit()
        with pytest.raises(TaskValidationError) as raised:
            service.create_task(ana, title="Mine", project_id=bens_project, thread_id=bens_chat.id)
        assert set(raised.value.errors) == {"project_id", "thread_id"}

    def test_update_changes_only_the_given_fields(self, ctx) -> None:
        ana = _user()
        project = _project(ana)
        task = service.create_task(ana, title="Draft", description="notes", due_date="2030-01-01", priority="low")
        service.update_task(ana, task.id, title="Draft BRD", project_id=project)
        task = service.get_task(ana, task.id)
        assert (task.title, task.description, task.due_date, task.priority, task.project.name) == (
            "Draft BRD",
            "notes",
            date(2030, 1, 1),
            "low",
            "Acme",
        )
        service.update_task(ana, task.id, due_date="", project_id=None, description=None)
        task = service.get_task(ana, task.id)
        assert (task.due_date, task.project_id, task.description) == (None, None, "")

    def test_invalid_update_keeps_the_task_as_it_was(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="Draft")
        with pytest.raises(TaskValidationError):
            service.update_task(ana, task.id, title="Renamed", priority="urgent")
        db.session.expire_all()
        assert service.get_task(ana, task.id).title == "Draft"


class TestCompletion:
    def test_complete_sets_and_reopen_clears_completed_at(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="Call Joe")
        done = service.complete_task(ana, task.id)
        assert done.completed and done.completed_at is not None
        assert abs(utcnow() - done.completed_at) < timedelta(minutes=1)
        first = done.completed_at
        assert service.complete_task(ana, task.id).completed_at == first
        reopened = service.reopen_task(ana, task.id)
        assert not reopened.completed and reopened.completed_at is None

    def test_overdue_means_pending_and_due_before_today(self, ctx) -> None:
        ana = _user()
        today = utcnow().date()
        late = service.create_task(ana, title="Late", due_date=today - timedelta(days=1))
        due_today = service.create_task(ana, title="Today", due_date=today)
        assert late.is_overdue_on(today) and not due_today.is_overdue_on(today)
        assert not service.complete_task(ana, late.id).is_overdue_on(today)


class TestListing:
    @pytest.fixture
    def ana(self, ctx) -> str:
        ana = _user()
        project = _project(ana)
        specs = [
            ("Write user stories", "for checkout", "2030-03-01", "low", None),
            ("Book workshop", "", None, "high", project),
            ("Review BRD", "Check the CHECKOUT flow", "2030-01-15", "medium", project),
            ("Send minutes", "", "2030-02-01", "high", None),
        ]
        for title, description, due, priority, project_id in specs:
            service.create_task(
                ana, title=title, description=description, due_date=due, priority=priority, project_id=project_id
            )
        service.complete_task(ana, _id(ana, "Send minutes"))
        return ana

    def test_newest_first_by_default(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana)) == ["Send minutes", "Review BRD", "Book workshop", "Write user stories"]

    def test_due_date_soonest_first_and_undated_last(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana, TaskQuery(sort="due"))) == [
            "Review BRD",
            "Send minutes",
            "Write user stories",
            "Book workshop",
        ]

    def test_priority_high_first(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana, TaskQuery(sort="priority"))) == [
            "Send minutes",
            "Book workshop",
            "Review BRD",
            "Write user stories",
        ]

    def test_status_filters(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana, TaskQuery(status="completed"))) == ["Send minutes"]
        assert "Send minutes" not in _titles(service.list_tasks(ana, TaskQuery(status="pending")))

    def test_text_matches_title_or_description_ignoring_case(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana, TaskQuery(text="checkout"))) == ["Review BRD", "Write user stories"]
        assert _titles(service.list_tasks(ana, TaskQuery(text="BOOK"))) == ["Book workshop"]

    def test_text_wildcards_are_literal(self, ana: str) -> None:
        assert _titles(service.list_tasks(ana, TaskQuery(text="%"))) == []
        assert _titles(service.list_tasks(ana, TaskQuery(text="_"))) == []

    def test_project_filter_and_names_are_loaded(self, ana: str) -> None:
        project = db.session.scalar(sa.select(Project.id))
        page = service.list_tasks(ana, TaskQuery(project_id=project, sort="due"))
        assert _titles(page) == ["Review BRD", "Book workshop"]
        assert {task.project.name for task in page.tasks} == {"Acme"}
        assert service.counts(ana, project) == (2, 0)

    def test_counts(self, ana: str) -> None:
        assert service.counts(ana) == (3, 1)

    def test_pages(self, ana: str) -> None:
        first = service.list_tasks(ana, per_page=3)
        second = service.list_tasks(ana, page=2, per_page=3)
        assert first.has_more and not second.has_more
        assert len(first.tasks) == 3 and _titles(second) == ["Write user stories"]
        assert first.next_args() == {"page": 2}

    def test_unknown_status_or_sort_is_a_validation_error(self, ctx) -> None:
        with pytest.raises(TaskValidationError) as raised:
            TaskQuery(status="done", sort="name")
        assert set(raised.value.errors) == {"status", "sort"}

    def test_query_from_url_ignores_unknown_values(self) -> None:
        query = TaskQuery.from_args({"status": "bogus", "sort": "due", "q": " brd ", "project": ""})
        assert query == TaskQuery(sort="due", text="brd")
        assert query.args(page=2) == {"sort": "due", "q": "brd", "page": 2}


def _id(user_id: str, title: str) -> str:
    return db.session.scalar(sa.select(Task.id).where(Task.user_id == user_id, Task.title == title))


class TestIsolation:
    def test_another_users_task_is_not_found_everywhere(self, ctx) -> None:
        ana, ben = _user(), _user("ben@example.com")
        task = service.create_task(ana, title="Ana's").id
        for call in (
            service.get_task,
            service.complete_task,
            service.reopen_task,
            service.delete_task,
            service.restore_task,
        ):
            with pytest.raises(TaskNotFound) as raised:
                call(ben, task)
            assert type(raised.value) is TaskNotFound
        with pytest.raises(TaskNotFound):
            service.update_task(ben, task, title="Ben's now")
        assert service.list_tasks(ben).tasks == [] and service.counts(ben) == (0, 0)
        assert service.get_task(ana, task).title == "Ana's"

    def test_another_users_project_is_not_offered_or_found(self, ctx) -> None:
        ana, ben = _user(), _user("ben@example.com")
        _project(ana, "Ana's project")
        bens = _project(ben, "Ben's project")
        assert [name for _, name in service.project_choices(ana)] == ["Ana's project"]
        assert service.find_project(ana, bens) is None


class TestDeletion:
    def test_delete_hides_the_task_and_restore_brings_it_back(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="Call Joe").id
        service.delete_task(ana, task)
        assert service.list_tasks(ana).tasks == [] and service.counts(ana) == (0, 0)
        assert [deleted.title for deleted in service.recently_deleted(ana)] == ["Call Joe"]
        with pytest.raises(TaskDeleted, match="This task was deleted."):
            service.complete_task(ana, task)
        assert service.restore_task(ana, task).title == "Call Joe"
        assert _titles(service.list_tasks(ana)) == ["Call Joe"]
        assert service.recently_deleted(ana) == []

    def test_restore_after_the_window_is_refused(self, ctx) -> None:
        ana = _user()
        task = service.create_task(ana, title="Call Joe").id
        service.delete_task(ana, task)
        db.session.execute(sa.update(Task).values(deleted_at=utcnow() - service.UNDO_WINDOW - timedelta(seconds=1)))
        db.session.commit()
        assert service.recently_deleted(ana) == []
        with pytest.raises(UndoExpired):
            service.restore_task(ana, task)

    def test_old_deletions_are_purged_on_the_next_delete(self, ctx) -> None:
        ana, ben = _user(), _user("ben@example.com")
        old, bens = service.create_task(ana, title="Old").id, service.create_task(ben, title="Ben's").id
        service.delete_task(ana, old)
        service.delete_task(ben, bens)
        db.session.execute(sa.update(Task).values(deleted_at=utcnow() - service.PURGE_AFTER - timedelta(hours=1)))
        db.session.commit()
        service.delete_task(ana, service.create_task(ana, title="New").id)
        remaining = set(db.session.scalars(sa.select(Task.title)))
        assert remaining == {"New", "Ben's"}
        with pytest.raises(TaskNotFound):
            service.restore_task(ana, old)
