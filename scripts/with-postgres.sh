#!/usr/bin/env bash
# with-postgres.sh CMD...: run CMD with PRIVACYVAULT_TEST_POSTGRES_DSN naming
# a PostgreSQL server. If the variable is already set, CMD runs against
# that server; otherwise a throwaway cluster is created with the server
# binaries (initdb, pg_ctl) in a temporary directory, listening on a Unix
# socket there (and on 127.0.0.1:$PGTEST_PORT when that is set; CMD then
# connects over that loopback TCP port), and removed afterwards. As root,
# the cluster runs as the unprivileged user `nobody` (PostgreSQL refuses to
# run as root).
set -euo pipefail

if [[ -n "${PRIVACYVAULT_TEST_POSTGRES_DSN:-}" ]]; then
	exec "$@"
fi

bindir=""
if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
	bindir="$(pg_config --bindir)"
else
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x "$d/initdb" ]]; then bindir="$d"; break; fi
	done
fi
if [[ -z "$bindir" ]] && command -v initdb >/dev/null 2>&1; then
	bindir="$(dirname "$(command -v initdb)")"
fi
if [[ -z "$bindir" ]]; then
	echo "with-postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl) found;" >&2
	echo "  install them (Debian: apt-get install -y postgresql) or set PRIVACYVAULT_TEST_POSTGRES_DSN" >&2
	exit 1
fi

dir="$(mktemp -d "${TMPDIR:-/tmp}/pvpg.XXXXXX")"
chmod 0755 "$dir"
as=()
if [[ "$(id -u)" == 0 ]]; then
	chown nobody "$dir"
	as=(runuser -u nobody --)
fi
cleanup() {
	"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
listen="''"
if [[ -n "${PGTEST_PORT:-}" ]]; then listen="127.0.0.1"; fi
port="${PGTEST_PORT:-5432}"
"${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	-o "-k $dir -c listen_addresses=$listen -p $port -c max_connections=400 -c shared_buffers=64MB" start >/dev/null ||
	{ cat "$dir/server.log" >&2; exit 1; }

# With a port, clients connect over loopback TCP (as a fleet's sidecars
# would over the network); without, over the Unix socket.
host="$dir"
if [[ -n "${PGTEST_PORT:-}" ]]; then host=127.0.0.1; fi
export PRIVACYVAULT_TEST_POSTGRES_DSN="host=$host port=$port user=postgres dbname=postgres sslmode=disable"
set +e
"$@"
rc=$?
set -e
exit $rc
