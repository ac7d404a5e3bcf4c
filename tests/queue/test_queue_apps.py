"""One process may hold queue apps on several databases (a test run, a bench, a tool serving two
catalogs): each app has the import-job tasks under their own names."""

from __future__ import annotations

from bucketdex.queue.app import make_app
from bucketdex.queue.map_tasks import COMPUTE
from bucketdex.queue.tasks import CHUNK, FINISH, PLAN


def test_apps_on_two_databases_each_know_the_tasks_by_their_names() -> None:
    # (no connection is made: an app connects when it is opened)
    first = make_app("postgresql+psycopg://u@127.0.0.1:5432/first")
    second = make_app("postgresql+psycopg://u@127.0.0.1:5432/second")
    assert first is not second
    for app in (first, second):
        ours = {name for name in app.tasks if "procrastinate" not in name}  # (its built-ins aside)
        assert ours == {PLAN, CHUNK, FINISH, COMPUTE}, sorted(app.tasks)
        assert all(app.tasks[name].blueprint is app for name in ours)
