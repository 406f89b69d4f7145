#!/usr/bin/env bash
# make sdk-test: start the real sidecar (bin/privacyvault, dev mode, the
# sample configuration with max_batch 5 so that SDK batch splitting is
# exercised) on a free loopback port, and a second one that takes callers
# from mTLS client certificates (SPIFFE IDs; a CA and certificates made here
# with openssl), then run each SDK's tests against them.
# Usage: sdk-test.sh LANG... (python, typescript, java).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start NAME ADDR ARGS...: run `privacyvault serve ARGS` in the background and
# wait until its port accepts connections.
start() {
  local name=$1 addr=$2; shift 2
  "$root/bin/privacyvault" serve "$@" >"$work/$name.log" 2>&1 &
  local p=$!
  pids+=("$p")
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then return 0; fi
    kill -0 "$p" 2>/dev/null || { echo "sdk-test: $name sidecar exited"; cat "$work/$name.log"; exit 1; }
    sleep 0.1
  done
  echo "sdk-test: $name sidecar not listening on $addr"; cat "$work/$name.log"; exit 1
}

sed 's/max_batch: 10000/max_batch: 5/' "$root/examples/config.yaml" >"$work/config.yaml"
grep -q 'max_batch: 5$' "$work/config.yaml" || { echo "sdk-test: examples/config.yaml no longer sets max_batch: 10000"; exit 1; }
export PRIVACYVAULT_ADDR=127.0.0.1:$(free_port)
start bearer "$PRIVACYVAULT_ADDR" --dev --config "$work/config.yaml" --listen "$PRIVACYVAULT_ADDR" --data-dir "$work/data"
"$root/bin/privacyvault" health >/dev/null || { echo "sdk-test: sidecar not serving"; cat "$work/bearer.log"; exit 1; }
echo "sdk-test: sidecar (bearer tokens) on $PRIVACYVAULT_ADDR"

# mTLS: a CA, a server certificate for localhost/127.0.0.1, and client
# certificates for spiffe://sdk.test/checkout (granted) and
# spiffe://sdk.test/stranger (no grant).
export PRIVACYVAULT_TLS_DIR=$work/tls
mkdir -p "$PRIVACYVAULT_TLS_DIR"
(
  cd "$PRIVACYVAULT_TLS_DIR"
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  openssl req -x509 "${ec[@]}" -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=sdk-test-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  leaf() { # name extensions
    openssl req "${ec[@]}" -keyout "$1-key.pem" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf '%s\n' "$2" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
  }
  leaf server "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
  leaf checkout "subjectAltName=URI:spiffe://sdk.test/checkout
extendedKeyUsage=clientAuth"
  leaf stranger "subjectAltName=URI:spiffe://sdk.test/stranger
extendedKeyUsage=clientAuth"
)
cat >"$work/mtls.yaml" <<YAML
classes:
  - {name: card_number, mode: random, format: {name: credit_card}}
identity:
  mtls: {ca_bundle_file: $PRIVACYVAULT_TLS_DIR/ca.pem, trust_domain: sdk.test, cert_file: $PRIVACYVAULT_TLS_DIR/server.pem, key_file: $PRIVACYVAULT_TLS_DIR/server-key.pem}
policy:
  purposes: [{name: payment}]
  grants:
    - {identity: "spiffe://sdk.test/checkout", purpose: payment, class: card_number, reveal: plain}
YAML
export PRIVACYVAULT_MTLS_ADDR=127.0.0.1:$(free_port)
start mtls "$PRIVACYVAULT_MTLS_ADDR" --dev --config "$work/mtls.yaml" --listen "$PRIVACYVAULT_MTLS_ADDR" --data-dir "$work/mtls-data"
echo "sdk-test: sidecar (mTLS) on $PRIVACYVAULT_MTLS_ADDR"

for lang in "$@"; do
  echo "sdk-test: $lang"
  case $lang in
    python) (cd "$root/sdk/python" && .venv/bin/python -m mypy src/privacyvault && .venv/bin/python -m pytest -q -p no:cacheprovider) ;;
    typescript) (cd "$root/sdk/typescript" && npm test --silent) ;;
    java) (cd "$root/sdk/java" && mvn -B -ntp test) ;;
    *) echo "sdk-test: unknown SDK $lang"; exit 2 ;;
  esac
done
