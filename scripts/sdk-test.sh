#!/usr/bin/env bash
# make sdk-test: start the real sidecar (bin/privacyvault, dev mode, the
# sample configuration with max_batch 5 so that SDK batch splitting is
# exercised) on a free loopback port, then run each SDK's tests against it.
# Usage: sdk-test.sh LANG... (python, typescript, java).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work"' EXIT

sed 's/max_batch: 10000/max_batch: 5/' "$root/examples/config.yaml" >"$work/config.yaml"
grep -q 'max_batch: 5$' "$work/config.yaml" || { echo "sdk-test: examples/config.yaml no longer sets max_batch: 10000"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export PRIVACYVAULT_ADDR=127.0.0.1:$port

"$root/bin/privacyvault" serve --dev --config "$work/config.yaml" --listen "$PRIVACYVAULT_ADDR" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if "$root/bin/privacyvault" health >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "sdk-test: sidecar exited"; cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
"$root/bin/privacyvault" health >/dev/null || { echo "sdk-test: sidecar not serving"; cat "$work/serve.log"; exit 1; }
echo "sdk-test: sidecar on $PRIVACYVAULT_ADDR"

for lang in "$@"; do
  echo "sdk-test: $lang"
  case $lang in
    python) (cd "$root/sdk/python" && .venv/bin/python -m pytest -q -p no:cacheprovider) ;;
    typescript) (cd "$root/sdk/typescript" && npm test --silent) ;;
    java) (cd "$root/sdk/java" && mvn -B -ntp test) ;;
    *) echo "sdk-test: unknown SDK $lang"; exit 2 ;;
  esac
done
