"""Flask extensions, created unbound; create_app binds them."""

from typing import Any

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .auth.cookies import SecureLoginManager

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = SecureLoginManager()
csrf = CSRFProtect()
# While its store (Redis) is unreachable, the limiter counts in this process's memory, and goes
# back to the store once it answers again.
limiter = Limiter(key_func=get_remote_address, default_limits=[], in_memory_fallback_enabled=True)


def redis_options(*, socket_timeout: float) -> dict[str, Any]:
    """Options for every Redis client of the app: short waits, and one quick retry of a dropped connection.

    redis-py's defaults would keep a request waiting for seconds on each call while Redis is down.
    """
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": 2,
        "health_check_interval": 30,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
    }
