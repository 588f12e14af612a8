"""The Alembic migrations: from empty to head, and in agreement with the models."""

from __future__ import annotations

import datetime as dt
import re
import threading
import zlib

import sqlalchemy as sa
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable

from govbot.db import (
    current_revision,
    head_revision,
    is_up_to_date,
    make_engine,
    schema_differences,
    upgrade,
)
from govbot.db.documents import contents
from govbot.db.migrate import downgrade
from govbot.db.models import (
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    Base,
    SnapshotFinding,
    SpecDocument,
)
from govbot.findings import Audience, Severity

# Every table of the models; the migrations must create exactly these (plus alembic's).
TABLES = set(Base.metadata.tables)


def test_upgrade_from_empty_to_head_creates_every_table(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision() == "0009"
            assert is_up_to_date(connection)
            assert set(inspect(connection).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless_and_downgrade_undoes_it(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert current_revision(connection) is None
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(db_url)


def test_dashboard_indexes_come_with_0005_and_go_with_its_downgrade(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)

    def index_names() -> set[str]:
        with engine.connect() as connection:
            found = inspect(connection)
            return {i["name"] for t in ("changes", "review_queue") for i in found.get_indexes(t)}

    try:
        added = {"ix_changes_project_id_status_updated", "ix_review_queue_waited_days"}
        assert added <= index_names()
        assert "ix_changes_project_id_status" not in index_names()
        downgrade(db_url, "0004")
        assert not added & index_names()
        assert "ix_changes_project_id_status" in index_names()
        upgrade(db_url)
        assert added <= index_names()
    finally:
        engine.dispose()


def test_0006_deflates_the_stored_documents_and_its_downgrade_inflates_them(
    db_url: str,
) -> None:
    """Documents stored as written before 0006 read back the same after it, deflated on
    disk; the downgrade gives the bytes as written back."""
    documents = sa.table(
        "spec_documents",
        sa.column("digest", sa.String(64)),
        sa.column("content", sa.LargeBinary()),
        sa.column("size", sa.Integer()),
        sa.column("created_at", sa.DateTime()),
    )
    written = {
        f"{n:064x}": (b'{"openapi": "3.1.0", "paths": {}}\n' * 200) + bytes([n]) for n in range(3)
    }
    upgrade(db_url, "0005")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                documents.insert(),
                [
                    {
                        "digest": d,
                        "content": c,
                        "size": len(c),
                        "created_at": dt.datetime(2026, 1, 1),
                    }
                    for d, c in written.items()
                ],
            )

        def stored() -> dict[str, bytes]:
            with engine.connect() as connection:
                rows = connection.execute(sa.select(documents.c.digest, documents.c.content))
                return {d: bytes(c) for d, c in rows}

        upgrade(db_url)
        raw = stored()
        assert {d: zlib.decompress(c) for d, c in raw.items()} == written
        assert all(len(raw[d]) < len(written[d]) / 4 for d in written)
        with Session(engine) as session:  # the model reads them back as written
            assert {r.digest: r.content for r in session.scalars(select(SpecDocument))} == written
        downgrade(db_url, "0005")
        assert stored() == written
    finally:
        engine.dispose()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    """Several govbot processes may run "db upgrade" at once; all succeed."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_models_and_migrations_agree(db_engine: Engine) -> None:
    """Alembic finds nothing to autogenerate: tables, columns, types, indexes, keys."""
    with db_engine.connect() as connection:
        assert schema_differences(connection) == []


def test_check_constraints_and_partial_indexes_match_the_models(db_engine: Engine) -> None:
    """What compare_metadata does not look at: CHECK constraints and index predicates."""
    inspector = inspect(db_engine)
    checked = 0
    for table in Base.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=db_engine.dialect))
        # name -> the quoted values in it (the members of an enum, say)
        expected = {
            name: _literals(body)
            for name, body in re.findall(r"CONSTRAINT (\w+) CHECK \((.*)\)", ddl)
        }
        checked += len(expected)
        actual = {
            c["name"]: _literals(c["sqltext"]) for c in inspector.get_check_constraints(table.name)
        }
        assert actual == expected, table.name
        for index in table.indexes:
            where = index.dialect_options[db_engine.dialect.name].get("where")
            (reflected,) = [i for i in inspector.get_indexes(table.name) if i["name"] == index.name]
            reflected_where = reflected.get("dialect_options", {}).get(
                f"{db_engine.dialect.name}_where"
            )
            if where is None:
                assert reflected_where is None, index.name
            else:
                assert _words(reflected_where) == _words(where), index.name
    assert checked >= 19  # every CHECK of the models was compared (19 at revision 0003)


def _literals(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def _words(predicate: object) -> list[str]:
    """``state = 'queued'`` and PostgreSQL's ``((state)::text = 'queued'::text)`` alike."""
    text = str(predicate).replace("::text", "")
    return re.findall(r"[a-z_]+", text)


def test_every_constraint_and_index_has_a_conventional_name(db_engine: Engine) -> None:
    inspector = inspect(db_engine)
    for table in TABLES:
        names = [i["name"] for i in inspector.get_indexes(table)]
        names += [u["name"] for u in inspector.get_unique_constraints(table)]
        names += [f["name"] for f in inspector.get_foreign_keys(table)]
        for name in names:
            assert re.fullmatch(rf"(ix|uq|fk)_{table}_\w+", name or ""), (table, name)
            assert len(name) <= 63, name


def test_0007_keeps_versions_as_differences_and_its_downgrade_writes_them_whole(
    db_url: str,
) -> None:
    """A version kept as its difference from another reads back whole, and after the
    downgrade every row holds its whole version (deflated), as 0006 expects."""
    whole = b'{"openapi": "3.1.0", "paths": {"/a": {}}}\n' * 50
    second = whole.replace(b'"/a"', b'"/b"', 1)
    third = second + b" "
    at = whole.index(b"/a") + 1  # the byte that differs
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            session.add_all(
                [
                    SpecDocument(digest="a" * 64, content=whole, size=len(whole), created_at=when),
                    SpecDocument(
                        digest="b" * 64,
                        content=b"b",
                        size=len(second),
                        created_at=when,
                        base="a" * 64,
                        head=at,
                        tail=len(whole) - at - 1,
                        depth=1,
                    ),
                    SpecDocument(
                        digest="c" * 64,
                        content=b" ",
                        size=len(third),
                        created_at=when,
                        base="b" * 64,
                        head=len(second),
                        tail=0,
                        depth=2,
                    ),
                ]
            )
            session.commit()
            wanted = {"a" * 64: whole, "b" * 64: second, "c" * 64: third}
            assert contents(session, ["c" * 64, "b" * 64, "a" * 64]) == wanted
        downgrade(db_url, "0006")
        documents = sa.table(
            "spec_documents", sa.column("digest", sa.String(64)), sa.column("content")
        )
        with engine.connect() as connection:
            rows = connection.execute(sa.select(documents.c.digest, documents.c.content))
            assert {d: zlib.decompress(bytes(c)) for d, c in rows} == wanted
            assert "base" not in {
                c["name"] for c in inspect(connection).get_columns("spec_documents")
            }
        upgrade(db_url)
        with Session(engine) as session:
            assert contents(session, wanted) == wanted
            assert session.scalars(select(SpecDocument.base)).all() == [None, None, None]
    finally:
        engine.dispose()


def _sharing_snapshots(session: Session, kind: str) -> tuple[ApiSnapshot, ...]:
    """An API's owner, reader and alone snapshots: the reader reads the owner's rows of
    ``kind`` (``operations``, ``findings``: the ``<kind>_of`` column), the last has
    rows of another digest."""
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    spec = ApiSpec(
        project="p",
        branch="b",
        file="a.json",
        audience=Audience.EXTERNAL,
        commit="0" * 40,
        merged_at=when,
    )
    session.add(spec)
    session.flush()
    snapshots = tuple(
        ApiSnapshot(
            api_id=spec.id,
            project="p",
            branch="b",
            file="a.json",
            commit=c * 40,
            merged_at=when,
            audience=Audience.EXTERNAL,
            **{f"{kind}_digest": d},
        )
        for c, d in (("a", "1" * 64), ("b", "1" * 64), ("c", "2" * 64))
    )
    session.add_all(snapshots)
    session.flush()
    setattr(snapshots[1], f"{kind}_of", snapshots[0].id)
    return snapshots


def test_0008_shares_operation_rows_and_its_downgrade_copies_them_back(db_url: str) -> None:
    """Snapshots reading an earlier snapshot's operation rows each get their own copy,
    in order, when the columns go; upgrading again keeps those rows (never shared)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            owner, reader, alone = _sharing_snapshots(session, "operations")
            session.add_all(
                ApiOperation(
                    snapshot_id=snapshot.id,
                    key=f"GET /{path}",
                    method="GET",
                    path=f"/{path}",
                    audience=Audience.EXTERNAL,
                    source="default",
                    evidence="not classified",
                )
                for snapshot, path in ((owner, "x"), (owner, "y"), (alone, "z"))
            )
            session.commit()
            ids = {"owner": owner.id, "reader": reader.id, "alone": alone.id}
        downgrade(db_url, "0007")
        operations = sa.table(
            "api_operations", sa.column("id"), sa.column("snapshot_id"), sa.column("path")
        )
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(operations.c.snapshot_id, operations.c.path).order_by(operations.c.id)
            ).all()
            assert "operations_of" not in {
                c["name"] for c in inspect(connection).get_columns("api_snapshots")
            }
        by = {name: [p for s, p in rows if s == i] for name, i in ids.items()}
        assert by == {"owner": ["/x", "/y"], "reader": ["/x", "/y"], "alone": ["/z"]}
        upgrade(db_url)
        with Session(engine) as session:
            assert session.scalars(select(ApiSnapshot.operations_of)).all() == [None] * 3
            assert session.scalars(select(ApiSnapshot.operations_digest)).all() == [""] * 3
            assert session.scalar(select(sa.func.count(ApiOperation.id))) == 5
    finally:
        engine.dispose()


def test_0009_shares_finding_rows_and_its_downgrade_copies_them_back(db_url: str) -> None:
    """Snapshots reading an earlier snapshot's finding rows each get their own copy, in
    order, when the columns go; upgrading again keeps those rows (never shared)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            owner, reader, alone = _sharing_snapshots(session, "findings")
            session.add_all(
                SnapshotFinding(
                    snapshot_id=snapshot.id,
                    rule="CON001",
                    name="n",
                    severity=Severity.WARNING,
                    audience=Audience.EXTERNAL,
                    file="a.json",
                    line=line,
                    pointer=f"/paths/~1{line}",
                    message=f"m{line}",
                    fingerprint=f"{line}" * 8,
                )
                for snapshot, line in ((owner, 1), (owner, 2), (alone, 3))
            )
            session.commit()
            ids = {"owner": owner.id, "reader": reader.id, "alone": alone.id}
        downgrade(db_url, "0008")
        findings = sa.table(
            "snapshot_findings",
            sa.column("id"),
            sa.column("snapshot_id"),
            sa.column("line"),
            sa.column("severity"),
        )
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(findings.c.snapshot_id, findings.c.line, findings.c.severity).order_by(
                    findings.c.id
                )
            ).all()
            assert "findings_of" not in {
                c["name"] for c in inspect(connection).get_columns("api_snapshots")
            }
        by = {name: [line for s, line, _ in rows if s == i] for name, i in ids.items()}
        assert by == {"owner": [1, 2], "reader": [1, 2], "alone": [3]}
        assert {severity for *_, severity in rows} == {rows[0][2]}
        upgrade(db_url)
        with Session(engine) as session:
            assert session.scalars(select(ApiSnapshot.findings_of)).all() == [None] * 3
            assert session.scalars(select(ApiSnapshot.findings_digest)).all() == [""] * 3
            assert session.scalar(select(sa.func.count(SnapshotFinding.id))) == 5
    finally:
        engine.dispose()
