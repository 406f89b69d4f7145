# privacyvault build. Tools are pinned and installed with `go install` into
# bin/tools, so a fresh machine needs only Go.

GO       ?= go
TOOLS    := $(CURDIR)/bin/tools
export PATH := $(TOOLS):$(PATH)

BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPCURL_VERSION            := v1.9.4
GRPC_GATEWAY_VERSION       := v2.33.0
STATICCHECK_VERSION        := v0.8.2

# The bench's throwaway PostgreSQL listens on this loopback port (the
# postgres-store points), unless PRIVACYVAULT_TEST_POSTGRES_DSN names a server.
BENCH_PG_PORT ?= 55432

BUF                := $(TOOLS)/buf-$(BUF_VERSION)
PROTOC_GEN_GO      := $(TOOLS)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION)
PROTOC_GEN_GO_GRPC := $(TOOLS)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION)
GRPCURL            := $(TOOLS)/grpcurl-$(GRPCURL_VERSION)
PROTOC_GEN_GATEWAY := $(TOOLS)/.protoc-gen-grpc-gateway-$(GRPC_GATEWAY_VERSION)
PROTOC_GEN_OPENAPI := $(TOOLS)/.protoc-gen-openapiv2-$(GRPC_GATEWAY_VERSION)
GEN_PLUGINS        := $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC) $(PROTOC_GEN_GATEWAY) $(PROTOC_GEN_OPENAPI)
STATICCHECK        := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)

# The release version stamped into the binary (privacyvault version, the
# privacyvault_build_info metric) and the image: the VERSION file, the one
# version of the server and every SDK (docs/sdks.md). The revision is
# stamped too: GOFLAGS=-buildvcs=false on the build machines leaves no VCS
# stamp in the binary. The commit time makes the image's timestamps, and so
# its digest, reproducible.
VERSION  ?= $(shell cat $(CURDIR)/VERSION)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
CREATED  ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
LDFLAGS  := -X github.com/privacyvault/privacyvault/internal/version.version=$(VERSION) \
            -X github.com/privacyvault/privacyvault/internal/version.revision=$(REVISION)

# Fuzz targets as package:Target. `make fuzz` runs each for FUZZTIME;
# `make test` runs each for FUZZTIME_SHORT, an execution count: a duration
# races Go 1.26's fuzz coordinator at its deadline on a loaded machine
# (go.dev/issue/75804, fixed in Go 1.27) and fails with a bare "context
# deadline exceeded". Minimizing a new input is capped so a short run spends
# its time fuzzing.
FUZZ_TARGETS   := ./tokenizer:FuzzCodecDecode ./tokenizer/format:FuzzFormatRoundTrip ./tokenizer/fpe:FuzzRoundTrip \
                  ./audit:FuzzVerify ./config:FuzzParse ./internal/batchcodec:FuzzUnmarshal ./client:FuzzWireDecode ./client:FuzzWireEncode
FUZZTIME       ?= 30s
FUZZTIME_SHORT ?= 20000x

GO_FILES = $(shell git ls-files --cached --others --exclude-standard '*.go' | grep -v '\.pb\.go$$')

.PHONY: postgres all build run test devvault smoke fmt-check vet lint tidy-check generate generate-check tools bench bench-short bench-micro fuzz clean sdk-test sdk-deps generate-sdk baseline image promtool test-ops cli-docs cli-docs-check

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/privacyvault ./cmd/privacyvault

## run: build and start the sidecar on embedded defaults (127.0.0.1:7443, ./data).
run: build
	./bin/privacyvault serve --dev

## test: everything CI checks. Vault tests run against bin/devvault;
## PostgreSQL tests against a throwaway cluster (scripts/with-postgres.sh)
## unless PRIVACYVAULT_TEST_POSTGRES_DSN names a server.
test: fmt-check vet lint tidy-check generate-check cli-docs-check devvault sdk-test promtool postgres
	DEVVAULT_BIN=$(CURDIR)/bin/devvault ./scripts/with-postgres.sh $(GO) test -race -count=1 ./...
	$(GO) test -count=1 ./tokenizer/fpe/                # allocation budget (not under -race)
	$(GO) test -count=1 -run '^TestFormatAllocations$$' ./tokenizer/   # allocation budget (not under -race)
	$(GO) test -count=1 -run '^(TestFingerprintOneAllocation|TestTokenSetOneAllocation)$$' ./audit/   # allocation budgets (not under -race)
	$(GO) test -count=1 -tags purego ./tokenizer/fpe/   # the pure-Go FF1 rounds
	$(GO) test -count=1 -run '^(TestUnaryAllocs|TestWireAllocs)$$' ./client/   # allocation budgets (not under -race)
	cd tools/devvault && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)
	$(MAKE) test-ops

## fuzz: run every fuzz target for FUZZTIME (default 30s) each; new crashers land in testdata/fuzz.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} $${t##*:} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t##*:}\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x "$${t%%:*}"; \
	done

## test-ops: the deployment artefacts: image builder, Kubernetes manifests, Prometheus rules.
test-ops: promtool
	cd tools/image && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd examples/k8s && $(GO) vet ./... && ../../scripts/with-postgres.sh $(GO) test -count=1 ./...
	promtool check rules examples/prometheus/alerts.yaml
	promtool test rules examples/prometheus/alerts_test.yaml

## image: the container image as an OCI layout tarball, built without a
## Docker daemon on an empty base (static binary, user 65532); prints the digest.
image:
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/image/privacyvault ./cmd/privacyvault
	cd tools/image && $(GO) run . --binary $(CURDIR)/bin/image/privacyvault --out $(CURDIR)/bin/privacyvault-image.tar \
		--version $(VERSION) --revision "$(REVISION)" --created $(CREATED)

## promtool: Prometheus's rule checker, from Debian's prometheus package.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
		echo "promtool missing: installing Debian's prometheus package (needs root and apt)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } \
		|| { echo "cannot install promtool: run 'apt-get install prometheus' as root"; exit 1; }; }

## postgres: the PostgreSQL server binaries (initdb, pg_ctl) the store/postgres
## and fleet tests run a throwaway cluster from; Debian's postgresql package.
postgres:
	@[ -n "$$PRIVACYVAULT_TEST_POSTGRES_DSN" ] || command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "PostgreSQL server missing: installing Debian's postgresql package (needs root and apt)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } \
		|| { echo "cannot install PostgreSQL: run 'apt-get install postgresql' as root, or set PRIVACYVAULT_TEST_POSTGRES_DSN"; exit 1; }; }

## devvault: the Vault-API test server (HashiCorp Vault's Transit and KV v2 engines), its own module.
devvault:
	cd tools/devvault && $(GO) build -o ../../bin/devvault .

## smoke: the quickstart as a user runs it: `make run` in a fresh directory, then grpcurl list.
smoke: build $(GRPCURL)
	./scripts/smoke.sh $(GRPCURL)

fmt-check:
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./tokenizer/fpe/
	cd tools/devvault && $(GO) vet ./...

# The API of the last release: `buf breaking` in lint fails on any change
# that would break a client built against it. Image input so that the
# comparison needs no git tag (CI clones may have none); refresh it with
# `make baseline` when a release is cut (docs/sdks.md).
BASELINE        := proto/baseline/v1.binpb
BREAKING_CONFIG := {"version":"v2","breaking":{"use":["FILE"],"ignore":["google"]}}

lint: $(BUF) $(STATICCHECK)
	$(BUF) lint
	@mkdir -p bin
	$(BUF) build --exclude-source-info -o bin/api.binpb
	$(BUF) breaking bin/api.binpb --against $(BASELINE) --config '$(BREAKING_CONFIG)'
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags purego ./tokenizer/fpe/
	cd tools/devvault && $(STATICCHECK) ./...
	cd tools/image && $(STATICCHECK) ./...
	cd examples/k8s && $(STATICCHECK) ./...

## tidy-check: fail when `go mod tidy` would change go.mod or go.sum (any module).
tidy-check:
	$(GO) mod tidy -diff
	cd tools/devvault && $(GO) mod tidy -diff
	cd tools/image && $(GO) mod tidy -diff
	cd examples/k8s && $(GO) mod tidy -diff

## baseline: record the released API that later changes must stay compatible with.
baseline: $(BUF)
	$(BUF) build --exclude-source-info -o $(BASELINE)

## generate: regenerate the Go code, the gateway, the OpenAPI document and
## the SDKs' generated code from proto/ with the pinned tools.
generate: $(BUF) $(GEN_PLUGINS) generate-sdk
	$(BUF) generate

## generate-check: fail when committed generated code differs from a fresh generation.
generate-check: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then git status --short -- $(GENERATED); git diff -- $(GENERATED) | head -50; echo "generated code is stale: run make generate and commit"; exit 1; fi

## SDKs (sdk/): each toolchain's packages are installed by the build at the
## versions pinned in the SDK's own manifest (package-lock.json,
## requirements-dev.txt, pom.xml).
PY_VENV   := sdk/python/.venv
PY_DEPS   := $(PY_VENV)/.installed
TS_DEPS   := sdk/typescript/node_modules/.installed
GENERATED := proto server/gateway sdk/python/src/privacyvault/v1 sdk/typescript/src/gen
SDK_LANGS := python typescript java

sdk-deps: $(PY_DEPS) $(TS_DEPS)

$(PY_DEPS): sdk/python/requirements-dev.txt
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check -r $<
	touch $@

$(TS_DEPS): sdk/typescript/package-lock.json
	cd sdk/typescript && npm ci --no-audit --no-fund
	touch $@

generate-sdk: $(BUF) $(PY_DEPS) $(TS_DEPS)
	rm -rf sdk/python/src/privacyvault/v1/*_pb2*.py* && $(PY_VENV)/bin/python -m grpc_tools.protoc -I proto -I third_party/proto \
		--python_out=sdk/python/src --pyi_out=sdk/python/src --grpc_python_out=sdk/python/src \
		proto/privacyvault/v1/*.proto
	rm -rf sdk/typescript/src/gen && $(BUF) generate --template sdk/typescript/buf.gen.yaml

## sdk-test: start the built sidecar on a free port and run every SDK's
## tests against it.
sdk-test: build sdk-deps
	./scripts/sdk-test.sh $(SDK_LANGS)

## cli-docs: regenerate the CLI reference in docs/cli/ from the command tree.
cli-docs:
	rm -rf docs/cli && $(GO) run ./cmd/privacyvault gen-docs docs/cli

## cli-docs-check: fail when docs/cli/ differs from the command tree.
cli-docs-check:
	$(GO) test -count=1 -run '^TestCLIDocsUpToDate$$' ./cmd/privacyvault/

## bench: the side-by-side run in BENCHMARKS.md: the real sidecar, Vault's Transit
## engine (bin/devvault) and a bare grpc-go server, each in its own process (about 8 minutes).
## BENCH_FLAGS adds flags, e.g. BENCH_FLAGS='-before bin/privacyvault-old' measures an
## earlier binary in the same run (a before/after table), -profile DIR saves profiles.
bench: build devvault
	$(GO) build -o bin/bench ./tools/bench
	PGTEST_PORT=$(BENCH_PG_PORT) ./scripts/with-postgres.sh ./bin/bench -out BENCHMARKS.md -cmd "make bench $(if $(BENCH_FLAGS),BENCH_FLAGS='$(BENCH_FLAGS)')" $(BENCH_FLAGS)

## bench-short: the same harness as a smoke run (tiny durations, 20,000-token scale
## phase); it asserts nothing about speed and leaves BENCHMARKS.md alone.
bench-short: build devvault
	$(GO) build -o bin/bench ./tools/bench
	PGTEST_PORT=$(BENCH_PG_PORT) ./scripts/with-postgres.sh ./bin/bench -short -out '' -cmd 'make bench-short'

## bench-micro: the Go micro-benchmarks (FF1, codec, store, the batch wire codec, audit fingerprints, the SDK's batch path, the data plane's batches, batches of 1,000 through an in-process server) reported in BENCHMARKS.md.
bench-micro:
	./scripts/with-postgres.sh $(GO) test -run='^$$' -bench=. -benchmem -count=5 ./tokenizer/... ./store/... ./internal/batchcodec/ ./audit/ ./client/ ./core/ ./server/

tools: $(BUF) $(GEN_PLUGINS) $(STATICCHECK)

$(BUF):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	mv $(TOOLS)/buf $@

$(PROTOC_GEN_GO):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	touch $@

$(PROTOC_GEN_GO_GRPC):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	touch $@

$(PROTOC_GEN_GATEWAY):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
	touch $@

$(PROTOC_GEN_OPENAPI):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	touch $@

$(GRPCURL):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	mv $(TOOLS)/grpcurl $@

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $@

clean:
	rm -rf bin data
