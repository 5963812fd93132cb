#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, on 127.0.0.1 and a free port.
#
#   .ci/postgres.sh install     apt-get install Debian's postgresql if initdb is missing (root only)
#   .ci/postgres.sh start DIR   initdb a cluster in DIR (as the postgres user when run as root:
#                               initdb refuses root), start it, print the port
#   .ci/postgres.sh stop DIR    stop the server and remove DIR
#
# The cluster trusts local connections (user postgres, no password), runs without fsync and is
# UTF-8 with the C.UTF-8 locale: byte-order collation and Unicode lower(), like DuckDB and Spark.
set -euo pipefail

bindir() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  return 1
}

as_owner() {  # run a command as the cluster's owner: postgres when we are root
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  install)
    if ! bindir >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq postgresql >/dev/null
    fi
    bindir
    ;;
  start)
    dir=${2:?usage: postgres.sh start DIR}
    bin=$(bindir) || { echo "PostgreSQL is not installed (run: .ci/postgres.sh install)" >&2; exit 3; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC" \
          >/dev/null 2>&1; then
        echo "$port"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    if [ -d "$dir/data" ]; then
      bin=$(bindir)
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 install | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
