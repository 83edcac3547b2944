"""The store's queries that a send plan and a sync make are answered through an index: at a
million readers a scan of `subscribers` or of every delivery ever made, per send or per DSN,
is what would make them slow. The queries are caught as a real dry run makes them (a trace on
the store's own connection) and explained by SQLite itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import make_project

# Reads that walk a table on purpose: sync maps any address it meets back to the one the store
# keeps, once per run (subscribers/apply.py Readers.known, records.delivered_addresses); the
# list identity check takes the newest copy made with a token, walking back from the newest row
# and stopping at the first (subscribers/identity.py).
ON_PURPOSE = ("SELECT address FROM subscribers", "SELECT DISTINCT address FROM deliveries",
              "SELECT address FROM deliveries UNION SELECT address FROM subscribers",
              "SELECT issue, address, message_id, sha256 FROM deliveries WHERE message_id LIKE")


def _queries(root: Path, monkeypatch) -> list[str]:
    from briefing.content.validate import Project, load_config
    from briefing.deliver.plan import SendOptions, prepare
    from briefing.subscribers import store as store_module
    from briefing.subscribers.apply import Readers
    from briefing.subscribers.records import issues_sent_to

    seen: list[str] = []
    opened = store_module.Store.open.__func__  # type: ignore[attr-defined]

    def traced(cls, project_root, relative):
        store = opened(cls, project_root, relative)
        store.db.set_trace_callback(seen.append)
        return store

    monkeypatch.setattr(store_module.Store, "open", classmethod(traced))
    monkeypatch.chdir(root)
    project = Project(root)
    plan = prepare(project, None, SendOptions(smtp="smtp://127.0.0.1:9", insecure=True))
    readers = Readers(project, load_config(project), plan.store, plan.tokens)
    readers.copy("<copy@example.org>")  # a DSN that quotes a Message-ID
    readers.known()
    issues_sent_to(plan.store.db, "one@example.org")  # a transient failure's count
    plan.store.close()
    return [q for q in dict.fromkeys(seen) if q.lstrip().upper().startswith("SELECT")]


def test_the_send_plan_and_sync_read_through_indexes(tmp_path: Path, monkeypatch) -> None:
    project = make_project(tmp_path / "news")
    assert project.cli("build").code == 0
    project.write("readers.csv", "email\n" + "".join(f"r{n}@example.org\n" for n in range(50)))
    assert project.cli("subscribers", "import", "readers.csv", "--email-column",
                       "email").code == 0
    queries = _queries(project.root, monkeypatch)
    db = sqlite3.connect(project.root / ".briefing/state.sqlite3")
    plans = {q: " ; ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + q))
             for q in queries}
    assert len(plans) >= 6, plans
    for query, plan in plans.items():
        if " ".join(query.split()).startswith(ON_PURPOSE):
            continue
        for table in ("subscribers", "deliveries", "feedback"):
            assert f"SCAN {table}" not in plan, (query, plan)
    by_table = " ".join(plans.values())
    for index in ("subscribers_status", "deliveries_issue", "deliveries_message_id",
                  "deliveries_address"):
        assert f"USING INDEX {index}" in by_table, index
