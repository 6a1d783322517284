"""The app as the web server loads it (`gunicorn "webapp.wsgi:app"`): no migration tooling."""

from . import create_app

app = create_app(migrations=False)
