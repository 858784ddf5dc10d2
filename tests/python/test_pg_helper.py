"""tradestore.pg, the reconnect helper for every Python service: retries
only where safe, an unknown commit surfaced, and no password in a
message."""

from __future__ import annotations

import threading

import pytest

import tradestore
from tradestore import pg


def make_table(pool: pg.Pool) -> None:
    pool.run(lambda cur: cur.execute(
        "CREATE TABLE IF NOT EXISTS fills (k text PRIMARY KEY)"))


def put(pool: pg.Pool, key: str) -> None:
    pool.run(lambda cur: cur.execute(
        "INSERT INTO fills VALUES (%s) ON CONFLICT DO NOTHING", (key,)))


def keys(pool: pg.Pool) -> list:
    def read(cur):
        cur.execute("SELECT k FROM fills ORDER BY k")
        return [r[0] for r in cur.fetchall()]
    return pool.run(read)


def test_postgres_stopped_and_started_under_it(stack, pg_dsn):
    # No health check: the first attempt always meets the dead connection.
    with pg.Pool(pg_dsn, deadline=120, health_check_after_idle=3600) as pool:
        make_table(pool)
        put(pool, "before")
        stack.stop_postgres()
        # Started again by another thread once a call is retrying.
        starter = threading.Timer(1.0, stack.start_postgres)
        starter.start()
        try:
            put(pool, "during")  # retried until Postgres is back
        finally:
            starter.join()
        put(pool, "after")
        assert keys(pool) == ["after", "before", "during"]
        assert pool.retries > 0


def test_pgbouncer_restarted_under_it(stack, bouncer_dsn):
    with pg.Pool(bouncer_dsn, deadline=120,
                 health_check_after_idle=3600) as pool:
        make_table(pool)
        put(pool, "a")
        stack.restart_pgbouncer()
        # The pooled connection died with PgBouncer; no health check runs
        # (idle for less than an hour), so the call meets the dead socket
        # before COMMIT and retries on a new connection.
        put(pool, "b")
        assert pool.retries > 0
        assert keys(pool) == ["a", "b"]


def test_a_dead_idle_connection_is_replaced_by_the_health_check(
        stack, pg_dsn, database):
    with pg.Pool(pg_dsn, health_check_after_idle=0) as pool:
        make_table(pool)
        stack.admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'tradestore-py'",
            (database,))
        put(pool, "x")
        assert pool.retries == 0
        assert keys(pool) == ["x"]


def test_a_lost_commit_acknowledgement_is_unknown_not_retried(pg_dsn):
    with pg.Pool(pg_dsn) as pool:
        make_table(pool)
        # At its first COMMIT the backend ends itself: the client cannot
        # know whether the commit happened (here it did not).
        pool.run(lambda cur: cur.execute("""
            CREATE SEQUENCE commits;
            CREATE FUNCTION die_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF nextval('commits') = 1 THEN
                PERFORM pg_terminate_backend(pg_backend_pid());
                PERFORM pg_sleep(5);
              END IF;
              RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON fills
              DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
              EXECUTE FUNCTION die_once();"""))
        with pytest.raises(tradestore.CommitUnknown, match="look the write"):
            put(pool, "k")
        assert pool.retries == 0
        # The write is idempotent (ON CONFLICT DO NOTHING): settled by
        # repeating it.
        put(pool, "k")
        assert keys(pool) == ["k"]


def test_serialization_failures_and_deadlocks_are_retried(pg_dsn):
    with pg.Pool(pg_dsn) as pool:
        make_table(pool)
        pool.run(lambda cur: cur.execute("CREATE SEQUENCE tries"))
        for state in ("40001", "40P01"):
            before = pool.retries

            def body(cur):
                cur.execute("INSERT INTO fills VALUES (%s)", (state,))
                cur.execute(f"""DO $$ BEGIN
                    IF nextval('tries') % 2 = 1 THEN
                      RAISE EXCEPTION 'conflict' USING ERRCODE = '{state}';
                    END IF; END $$""")
            pool.run(body)
            assert pool.retries == before + 1
        assert keys(pool) == ["40001", "40P01"]


def test_errors_that_repeat_are_not_retried(pg_dsn):
    with pg.Pool(pg_dsn) as pool:
        make_table(pool)
        put(pool, "k")
        with pytest.raises(tradestore.AlreadyExists):
            pool.run(lambda cur: cur.execute(
                "INSERT INTO fills VALUES ('k')"))
        with pytest.raises(tradestore.InvalidArgument):
            pool.run(lambda cur: cur.execute("SELECT 1/0"))
        with pytest.raises(ZeroDivisionError):  # the body's own error
            pool.run(lambda cur: (cur.execute("INSERT INTO fills VALUES "
                                              "('z')"), 1 / 0))
        assert pool.retries == 0
        assert keys(pool) == ["k"]


def test_a_wrong_password_fails_at_once_and_is_never_shown(stack, database):
    dsn = (f"host=127.0.0.1 port={stack.status['postgres']['port']} "
           f"dbname={database} user=tradestore_app password=not-the-one")
    with pg.Pool(dsn) as pool:
        with pytest.raises(tradestore.PermissionDenied) as e:
            pool.run(lambda cur: cur.execute("SELECT 1"))
        assert pool.retries == 0
        assert "not-the-one" not in str(e.value)
        assert "password=***" in str(e.value)
    assert "not-the-one" not in pg.mask_dsn(
        "postgresql://u:not-the-one@h/db")


def test_the_pool_holds_at_most_max_size_connections(stack, pg_dsn,
                                                     database):
    with pg.Pool(pg_dsn, max_size=2) as pool:
        make_table(pool)
        errors = []

        def work(i: int) -> None:
            try:
                for j in range(20):
                    put(pool, f"{i}-{j}")
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(i,))
                   for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(keys(pool)) == 120
        backends = stack.admin_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
            "application_name = 'tradestore-py'", (database,))[0][0]
        assert 1 <= backends <= 2
