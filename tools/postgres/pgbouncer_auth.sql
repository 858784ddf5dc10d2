-- PgBouncer's auth_query function and roles (tools/postgres/pgbouncer.ini).
-- Run as a superuser in every database PgBouncer serves (trades and
-- postgres); safe to run again. `tradestore stack up` applies it.
--
-- pgbouncer_auth: the one role whose SCRAM secret is in PgBouncer's auth
-- file. It may call get_auth and nothing else.
-- pgbouncer_stats: may read the admin console's SHOW commands.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgbouncer_auth') THEN
    CREATE ROLE pgbouncer_auth LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgbouncer_stats') THEN
    CREATE ROLE pgbouncer_stats LOGIN;
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS pgbouncer AUTHORIZATION CURRENT_USER;
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
GRANT USAGE ON SCHEMA pgbouncer TO pgbouncer_auth;

-- The SCRAM secret of a login role, read as the superuser that owns the
-- function; never a superuser's (those connect to Postgres directly).
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text)
  RETURNS TABLE (usename name, passwd text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT rolname, rolpassword::text
  FROM pg_authid
  WHERE rolname = p_usename AND rolcanlogin AND NOT rolsuper
    AND (rolvaliduntil IS NULL OR rolvaliduntil > now());
$$;

REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO pgbouncer_auth;
