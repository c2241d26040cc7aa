"""The sweeper's state changes, and the migrations against the models."""

from __future__ import annotations

from datetime import timedelta

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from invigil.container import Container
from invigil.kit.clock import utcnow
from invigil.models import metadata
from invigil.sessions import service
from invigil.sessions.models import ExamSession, OfflinePeriod
from tests.factories import ThreadServer, make_exam
from tests.integration.agentkit import activate


def test_migrations_match_the_models(installation):
    with installation.container.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_offline_detection_and_abandonment(installation):
    exam = make_exam(installation, n=3, start_offset=-5, minutes=10)
    # A server without the background sweeper: this test moves the clock itself.
    quiet = Container.from_settings(
        installation.container.settings.model_copy(update={"run_jobs_in_process": False})
    )
    srv = ThreadServer(quiet).start()
    http = httpx.Client(base_url=srv.url)
    agent = activate(http, exam.codes[0])
    agent.heartbeat(1)
    c = installation.container
    now = utcnow()
    with c.uow() as db:
        assert service.sweep(db, now, 30) == {"offline": 0, "closed": 0, "abandoned": 0}
    later = now + timedelta(seconds=31)
    with c.uow() as db:
        assert service.sweep(db, later, 30)["offline"] == 1
        assert service.sweep(db, later, 30)["offline"] == 0  # idempotent
        s = db.get(ExamSession, agent.session_id)
        assert s.state == "offline"
    assert agent.heartbeat(2).json()["state"] == "running"
    http.close()
    srv.stop()
    quiet.close()
    with c.uow() as db:
        period = db.query(OfflinePeriod).filter_by(session_id=agent.session_id).one()
        assert period.ended_at is not None
        assert period.started_at < period.ended_at
    after_exam = now + timedelta(minutes=6)
    with c.uow() as db:  # the one who never came is abandoned at the end; the active one is not
        counts = service.sweep(db, after_exam, 30)
        assert counts["abandoned"] == 2
        assert db.get(ExamSession, exam.session_ids[1]).state == "abandoned"
        assert db.get(ExamSession, agent.session_id).state == "offline"
    much_later = now + timedelta(minutes=30)
    with c.uow() as db:  # silent long after the end, and past the allowed offline time
        assert service.sweep(db, much_later, 30)["abandoned"] == 1
        assert db.get(ExamSession, agent.session_id).state == "abandoned"
