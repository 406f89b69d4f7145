#!/usr/bin/env bash
# Quickstart smoke test: start the sidecar exactly as `make run` does (serve
# --dev on 127.0.0.1:7443) in a scratch directory, then check that grpcurl
# lists the services and a tokenize/detokenize round trip works.
set -euo pipefail
grpcurl=$1
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$root/bin/privacyvault" serve --dev >serve.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if "$grpcurl" -plaintext 127.0.0.1:7443 list >list.txt 2>/dev/null; then break; fi
  sleep 0.1
done
cat list.txt
for svc in grpc.health.v1.Health grpc.reflection.v1.ServerReflection privacyvault.v1.TokenService privacyvault.v1.AdminService privacyvault.v1.SubjectService; do
  grep -qx "$svc" list.txt || { echo "smoke: $svc not listed"; cat serve.log; exit 1; }
done
export PRIVACYVAULT_TOKEN=dev-checkout-token-0001
tok=$(echo "4111111111111111" | "$root/bin/privacyvault" tokenize --class card_fpe)
back=$("$root/bin/privacyvault" detokenize --class card_fpe --purpose payment "$tok")
[ "$back" = "4111111111111111" ] || { echo "smoke: round trip failed"; exit 1; }
[ -f data/devkeys/master.key ] || { echo "smoke: no ./data/devkeys/master.key"; exit 1; }
echo "smoke: ok (services listed, card_fpe round trip, data under ./data)"
