"""Group commit: answers only after the commit, one failing unit never costs the others, backpressure."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from invigil.kit.backpressure import Busy, Gate
from invigil.kit.db import make_engine, make_sessionmaker
from invigil.kit.errors import Invalid
from invigil.kit.groupcommit import GroupCommit

META = MetaData()
ROWS = Table("rows", META, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True))


@pytest.fixture
def writer(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    META.create_all(engine)
    gc = GroupCommit(make_sessionmaker(engine), max_batch=50, max_pending=500)
    yield gc, engine
    gc.close()
    engine.dispose()


def _add(name: str):
    def work(db: Session) -> str:
        if name.startswith("bad"):
            raise Invalid(f"{name} is refused")
        db.execute(insert(ROWS).values(name=name))
        return name

    return work


def _names(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(ROWS.c.name)))


def test_many_units_share_transactions_and_each_gets_its_answer(writer):
    gc, engine = writer

    async def main() -> list[str]:
        return await asyncio.gather(*(gc.run(_add(f"n{i}")) for i in range(200)))

    assert asyncio.run(main()) == [f"n{i}" for i in range(200)]
    assert _names(engine) == {f"n{i}" for i in range(200)}
    assert gc.units == 200
    assert gc.batches < 200


def test_a_failing_unit_gets_its_error_and_the_rest_of_its_batch_is_stored(writer):
    gc, engine = writer

    async def main() -> list[object]:
        names = ["a1", "bad", "a2", "a1", "a3"]  # a refusal and a unique-key conflict
        return await asyncio.gather(*(gc.run(_add(n)) for n in names), return_exceptions=True)

    results = asyncio.run(main())
    assert results[0] == "a1"
    assert results[2] == "a2"
    assert results[4] == "a3"
    assert isinstance(results[1], Invalid)
    assert isinstance(results[3], IntegrityError)
    assert _names(engine) == {"a1", "a2", "a3"}


def test_nothing_is_answered_before_the_commit(writer):
    gc, engine = writer
    seen: list[set[str]] = []

    async def main() -> None:
        await gc.run(_add("c1"))
        seen.append(_names(engine))  # another connection sees it: committed

    asyncio.run(main())
    assert seen == [{"c1"}]


def test_beyond_max_pending_the_server_answers_busy(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    META.create_all(engine)
    gc = GroupCommit(make_sessionmaker(engine), max_pending=2)
    release = threading.Event()

    def slow(db: Session) -> None:
        release.wait(5)

    async def main() -> list[object]:
        first = asyncio.ensure_future(gc.run(slow))  # occupies the thread
        await asyncio.sleep(0.1)
        queued = [asyncio.ensure_future(gc.run(slow)) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(Busy) as refused:
            await gc.run(slow)
        assert refused.value.status == 503
        assert refused.value.detail["retry_after"] > 0
        release.set()
        return await asyncio.gather(first, *queued)

    assert asyncio.run(main()) == [None, None, None]
    gc.close()
    engine.dispose()


def test_gate_refuses_beyond_its_limit_and_frees_slots():
    gate = Gate(1)
    with gate.enter(), pytest.raises(Busy), gate.enter():
        pass
    with gate.enter():
        assert gate.in_flight == 1
    assert gate.in_flight == 0


def test_sqlite_writers_in_many_threads_all_succeed(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    META.create_all(engine)
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for i in range(20):
                with factory() as db, db.begin():
                    db.execute(insert(ROWS).values(name=f"t{k}-{i}"))
        except BaseException as exc:  # collected and checked below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_names(engine)) == 160
    engine.dispose()


def test_lingering_gathers_units_arriving_one_by_one_into_one_batch(tmp_path: Path):
    """Requests 20 ms apart share a transaction when the thread waits for them (without waiting, the
    first would commit alone within a millisecond or two)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    META.create_all(engine)
    patient = GroupCommit(make_sessionmaker(engine), linger=0.5)

    async def trickle() -> list[str]:
        async def one(i: int) -> str:
            await asyncio.sleep(i * 0.02)
            return await patient.run(_add(f"u{i}"))

        return await asyncio.gather(*(one(i) for i in range(10)))

    try:
        assert asyncio.run(trickle()) == [f"u{i}" for i in range(10)]
        assert patient.units == 10
        assert patient.batches <= 2  # spread over 180 ms, gathered by the 500 ms wait
    finally:
        patient.close()
    assert _names(engine) == {f"u{i}" for i in range(10)}
    engine.dispose()


def test_a_thread_keeps_its_connection_and_still_lets_other_writers_in(writer):
    """The connection stays checked out from batch to batch (no pool round trip), so SQLite's write
    lock must be given back at COMMIT itself, not when a connection returns to the pool."""
    gc, engine = writer
    seen: list[int] = []

    def remember(name: str):
        def work(db: Session) -> str:
            seen.append(id(db.connection().connection.dbapi_connection))
            return _add(name)(db)

        return work

    def other_writer(name: str) -> None:
        with engine.begin() as conn:
            conn.execute(insert(ROWS).values(name=name))

    async def main() -> None:
        for i in range(3):
            await gc.run(remember(f"k{i}"))
            outside = threading.Thread(target=other_writer, args=(f"o{i}",))
            outside.start()
            await asyncio.to_thread(outside.join, 5)
            assert not outside.is_alive(), "another writer waited for the group commit's lock"

    asyncio.run(main())
    assert len(set(seen)) == 1
    assert _names(engine) == {"k0", "k1", "k2", "o0", "o1", "o2"}


def test_after_a_database_failure_the_thread_takes_a_fresh_connection(writer):
    gc, engine = writer
    seen: list[int] = []

    def broken(db: Session) -> None:
        seen.append(id(db.connection().connection.dbapi_connection))
        db.execute(text("SELECT * FROM no_such_table"))  # OperationalError: the connection is suspect

    def refused(db: Session) -> None:
        seen.append(id(db.connection().connection.dbapi_connection))
        raise Invalid("refused")  # a unit's own refusal: nothing wrong with the connection

    async def main() -> None:
        with pytest.raises(Invalid):
            await gc.run(refused)
        with pytest.raises(OperationalError):
            await gc.run(broken)
        await gc.run(_add("after"))
        with pytest.raises(Invalid):
            await gc.run(refused)

    asyncio.run(main())
    assert seen[0] == seen[1]  # kept after a refusal
    assert seen[1] != seen[2]  # replaced after the failure
    assert _names(engine) == {"after"}


class _Doubling:
    """A batched kind whose items in one batch really are run together."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def run_many(self, db: Session, items):
        self.calls.append(list(items))
        if any(i < 0 for i in items):
            raise Invalid("negative")
        return [2 * i for i in items]


def test_units_of_a_batched_kind_run_together_and_alone_when_one_fails(writer):
    gc, _engine = writer
    kind = _Doubling()
    release = threading.Event()

    def hold(db: Session) -> None:
        release.wait(5)

    async def main() -> list[object]:
        first = asyncio.ensure_future(gc.run(hold))  # occupies the thread while the rest queue up
        await asyncio.sleep(0.1)
        batch = [asyncio.ensure_future(gc.run_batched(kind, i)) for i in (1, 2, 3)]
        plain = asyncio.ensure_future(gc.run(_add("plain")))
        await asyncio.sleep(0)
        release.set()
        await first
        together = await asyncio.gather(*batch, plain)
        # One negative item: the batch is rolled back and each unit runs alone for its own answer.
        release.clear()
        first = asyncio.ensure_future(gc.run(hold))
        await asyncio.sleep(0.1)
        mixed = [asyncio.ensure_future(gc.run_batched(kind, i)) for i in (4, -1, 5)]
        await asyncio.sleep(0)
        release.set()
        await first
        return together + list(await asyncio.gather(*mixed, return_exceptions=True))

    answers = asyncio.run(main())
    assert answers[:4] == [2, 4, 6, "plain"]
    assert (answers[4], answers[6]) == (8, 10)
    assert isinstance(answers[5], Invalid)
    assert kind.calls[0] == [1, 2, 3]  # one call for the three units of the first batch
    assert kind.calls[1:] == [[4, -1, 5], [4], [-1], [5]]  # together, then each alone
