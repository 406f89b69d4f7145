# privacyvault build. Tools are pinned and installed with `go install` into
# bin/tools, so a fresh machine needs only Go.

GO       ?= go
TOOLS    := $(CURDIR)/bin/tools
export PATH := $(TOOLS):$(PATH)

BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPCURL_VERSION            := v1.9.4
STATICCHECK_VERSION        := v0.8.2

BUF                := $(TOOLS)/buf-$(BUF_VERSION)
PROTOC_GEN_GO      := $(TOOLS)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION)
PROTOC_GEN_GO_GRPC := $(TOOLS)/.protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION)
GRPCURL            := $(TOOLS)/grpcurl-$(GRPCURL_VERSION)
STATICCHECK        := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)

# version and commit are stamped with -X: GOFLAGS=-buildvcs=false on the
# build machines leaves no VCS stamp for `privacyvault version` to read.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# Fuzz targets as package:Target. `make fuzz` runs each for FUZZTIME;
# `make test` runs each for FUZZTIME_SHORT. Minimizing a new input is capped
# so a short run spends its time fuzzing.
FUZZ_TARGETS   := ./tokenizer:FuzzCodecDecode ./tokenizer/format:FuzzFormatRoundTrip ./tokenizer/fpe:FuzzRoundTrip \
                  ./audit:FuzzVerify ./config:FuzzParse
FUZZTIME       ?= 30s
FUZZTIME_SHORT ?= 3s

GO_FILES = $(shell git ls-files --cached --others --exclude-standard '*.go' | grep -v '\.pb\.go$$')

.PHONY: all build run test devvault smoke fmt-check vet lint tidy-check generate generate-check tools bench bench-short bench-micro fuzz clean cli-docs cli-docs-check

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/privacyvault ./cmd/privacyvault

## run: build and start the sidecar on embedded defaults (127.0.0.1:7443, ./data).
run: build
	./bin/privacyvault serve --dev

## test: everything CI checks. Vault tests run against bin/devvault.
test: fmt-check vet lint tidy-check generate-check cli-docs-check devvault
	DEVVAULT_BIN=$(CURDIR)/bin/devvault $(GO) test -race -count=1 ./...
	$(GO) test -count=1 ./tokenizer/fpe/                # allocation budget (not under -race)
	$(GO) test -count=1 -tags purego ./tokenizer/fpe/   # the pure-Go FF1 rounds
	cd tools/devvault && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_SHORT)

## fuzz: run every fuzz target for FUZZTIME (default 30s) each; new crashers land in testdata/fuzz.
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} $${t##*:} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t##*:}\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=100x "$${t%%:*}"; \
	done

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

lint: $(BUF) $(STATICCHECK)
	$(BUF) lint
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags purego ./tokenizer/fpe/
	cd tools/devvault && $(STATICCHECK) ./...

## tidy-check: fail when `go mod tidy` would change go.mod or go.sum (either module).
tidy-check:
	$(GO) mod tidy -diff
	cd tools/devvault && $(GO) mod tidy -diff

## generate: regenerate the Go code from proto/ with the pinned tools.
generate: $(BUF) $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC)
	$(BUF) generate

## generate-check: fail when committed generated code differs from a fresh generation.
generate-check: generate
	@if [ -n "$$(git status --porcelain -- proto)" ]; then git status --short -- proto; git diff -- proto | head -50; echo "generated code is stale: run make generate and commit"; exit 1; fi

## cli-docs: regenerate the CLI reference in docs/cli/ from the command tree.
cli-docs:
	rm -rf docs/cli && $(GO) run ./cmd/privacyvault gen-docs docs/cli

## cli-docs-check: fail when docs/cli/ differs from the command tree.
cli-docs-check:
	$(GO) test -count=1 -run '^TestCLIDocsUpToDate$$' ./cmd/privacyvault/

## bench: the side-by-side run in BENCHMARKS.md: the real sidecar, Vault's Transit
## engine (bin/devvault) and a bare grpc-go server, each in its own process (about 8 minutes).
bench: build devvault
	$(GO) build -o bin/bench ./tools/bench
	./bin/bench -out BENCHMARKS.md -cmd 'make bench'

## bench-short: the same harness as a smoke run (tiny durations, 20,000-token scale
## phase); it asserts nothing about speed and leaves BENCHMARKS.md alone.
bench-short: build devvault
	$(GO) build -o bin/bench ./tools/bench
	./bin/bench -short -out '' -cmd 'make bench-short'

## bench-micro: the Go micro-benchmarks (FF1, store) reported in BENCHMARKS.md.
bench-micro:
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./tokenizer/... ./store/...

tools: $(BUF) $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC) $(STATICCHECK)

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
