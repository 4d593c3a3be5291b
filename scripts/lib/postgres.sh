# shellcheck shell=bash
# A throwaway PostgreSQL server on loopback for the store tests. Exports the
# connection string that @backstage/backend-test-utils' TestDatabases reads.

MODELOPS_PG_PORT=${MODELOPS_PG_PORT:-55432}

modelops_postgres_start() {
  local bindir major
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then
    echo "modelops: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    return 1
  fi
  major=$(basename "$(dirname "$bindir")")
  MODELOPS_PG_DIR=$(mktemp -d /tmp/modelops-pg.XXXXXX)
  chown postgres "$MODELOPS_PG_DIR"
  runuser -u postgres -- "$bindir/initdb" -D "$MODELOPS_PG_DIR/data" -A trust -U postgres >"$MODELOPS_PG_DIR/initdb.log" 2>&1 || {
    echo "modelops: initdb failed, see $MODELOPS_PG_DIR/initdb.log" >&2
    return 1
  }
  runuser -u postgres -- "$bindir/pg_ctl" -D "$MODELOPS_PG_DIR/data" -l "$MODELOPS_PG_DIR/server.log" -w \
    -o "-p $MODELOPS_PG_PORT -k $MODELOPS_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null || {
    echo "modelops: PostgreSQL did not start on 127.0.0.1:$MODELOPS_PG_PORT (port taken?), see $MODELOPS_PG_DIR/server.log" >&2
    return 1
  }
  export "BACKSTAGE_TEST_DATABASE_POSTGRES${major}_CONNECTION_STRING=postgresql://postgres@127.0.0.1:$MODELOPS_PG_PORT"
  export MODELOPS_PG_DIR MODELOPS_PG_BINDIR="$bindir"
  echo "modelops: PostgreSQL $major on 127.0.0.1:$MODELOPS_PG_PORT" >&2
}

modelops_postgres_stop() {
  [ -n "${MODELOPS_PG_DIR:-}" ] && [ -d "$MODELOPS_PG_DIR/data" ] || return 0
  runuser -u postgres -- "$MODELOPS_PG_BINDIR/pg_ctl" -D "$MODELOPS_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$MODELOPS_PG_DIR"
}
