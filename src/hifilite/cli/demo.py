"""`hifilite demo` command (registered on the shared app)."""
from ._app import app  # noqa
