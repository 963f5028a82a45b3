"""`hifilite vocode` command (registered on the shared app)."""
