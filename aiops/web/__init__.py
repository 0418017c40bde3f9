"""The browser chat UI: static files served at ``/`` and ``/static/`` (see ``router``)."""
