"""BA Assistant: a self-hosted AI workspace for business analysts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as settings
from .extensions import csrf, db, limiter, login_manager, redis_options

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None, *, migrations: bool = True) -> Flask:
    """Create and configure the app; `config` overrides the environment (tests).

    Without `migrations` the app has no `flask db` commands and never loads Alembic: the
    web server (webapp.wsgi) needs neither, and they would cost each worker 10 MB.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure_settings(app, config)
    configure_proxy(app)
    configure_logging(app)
    configure_edges(app)
    configure_extensions(app)
    if migrations:
        configure_migrations(app)
    configure_providers(app)
    configure_sso(app)
    configure_security_headers(app)
    configure_chat(app)
    configure_imports(app)
    configure_blueprints(app)
    configure_templates(app)
    configure_errors(app)
    configure_cli(app)
    return app


def configure_settings(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_object(settings.Defaults)
    app.config.update(settings.from_environment(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    settings.check(app.config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(app.config["SQLALCHEMY_DATABASE_URI"]))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.load_secret_key(Path(app.instance_path))


def configure_proxy(app: Flask) -> None:
    from .proxy import init_proxy
    from .turns import TakeTurnsReadingBodies

    init_proxy(app)
    app.wsgi_app = TakeTurnsReadingBodies(app.wsgi_app)  # type: ignore[method-assign]


def configure_logging(app: Flask) -> None:
    from .logs import init_logging

    init_logging(app)


def configure_security_headers(app: Flask) -> None:
    from .auth.sso import form_targets
    from .headers import init_security_headers

    init_security_headers(app, form_targets=form_targets(app.extensions["sso.providers"].values()))


def configure_edges(app: Flask) -> None:
    from .edges import init_edges

    init_edges(app)


def configure_extensions(app: Flask) -> None:
    from . import database

    db.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith("redis"):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_options(socket_timeout=2))
    limiter.init_app(app)
    from .auth.session import init_login

    init_login(app, login_manager)


def configure_migrations(app: Flask) -> None:
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)


def configure_providers(app: Flask) -> None:
    from .llm.catalog import ModelCatalog
    from .llm.registry import build_registry, preload_sdks

    app.extensions["llm"] = registry = build_registry(app.config)
    app.extensions["llm.models"] = ModelCatalog(registry)
    app.extensions["llm.preload"] = preload_sdks(registry)


def configure_sso(app: Flask) -> None:
    from .auth.sso import init_sso

    init_sso(app)


def configure_chat(app: Flask) -> None:
    from .chat.broker import build_broker
    from .chat.runner import ReplyRunner
    from .chat.streams import build_counter

    broker = build_broker(app.config["REDIS_URL"])
    app.extensions["chat.broker"] = broker
    app.extensions["chat.streams"] = build_counter(app.config["REDIS_URL"], app.config["MAX_STREAMS_PER_USER"])
    app.extensions["chat.runner"] = ReplyRunner(app, broker, workers=app.config["CHAT_WORKERS"])


def configure_imports(app: Flask) -> None:
    from .imports.queues import build_queue

    # Its threads start with the first upload, or when the web server loads (webapp.wsgi): never
    # in a CLI command, nor in an app that reads no file.
    app.extensions["imports"] = build_queue(app)


def configure_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .artifacts import editing  # noqa: F401  (its views attach to the artifacts blueprint)
    from .artifacts.routes import bp as artifacts_bp
    from .auth import link_routes, settings_routes, sso_routes  # noqa: F401  (their views attach to the blueprint)
    from .auth.routes import bp as auth_bp
    from .documents.routes import bp as documents_bp
    from .health.routes import init_health
    from .home.routes import bp as home_bp
    from .projects.routes import bp as projects_bp
    from .tasks.routes import bp as tasks_bp
    from .threads import conversation, routes  # noqa: F401  (their views attach to the blueprint)
    from .threads.blueprint import bp as threads_bp

    init_health(app)
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(threads_bp)
    app.register_blueprint(tasks_bp)
    app.register_blueprint(artifacts_bp)
    app.register_blueprint(admin_bp)


def configure_templates(app: Flask) -> None:
    from .rendering import init_templates

    init_templates(app)


def configure_errors(app: Flask) -> None:
    from .errors import init_errors

    init_errors(app)


def configure_cli(app: Flask) -> None:
    from .auth.cli import users_cli
    from .imports.cli import imports_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(imports_cli)
