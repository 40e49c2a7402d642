# Sticky: the two commands that matter are `make run` and `make test`.
GO        ?= go
DATA      ?= ./sticky-data
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
# Load test knobs: see `go run ./bench/load -h`.
LOADFLAGS ?=

.PHONY: all build run demo-setup test test-short bench fuzz load vet check-imports tidy-check clean

all: build

## build: the three binaries into ./bin (stickyd, sticky, loganalyser)
build:
	$(GO) build -o bin/ ./cmd/...

## run: build, create the demo principals once, print how to try it, serve on $(ADDR) with data in $(DATA)
run: build
	@./scripts/demo-setup.sh "$(DATA)" "$(ADDR)"
	./bin/stickyd serve --addr $(ADDR) --data $(DATA)

## demo-setup: only create the demo principals and print the walkthrough
demo-setup: build
	@./scripts/demo-setup.sh "$(DATA)" "$(ADDR)"

## test: vet, the dependency rules, then every test
test: vet check-imports
	$(GO) test -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -timeout 10m ./...

## bench: every benchmark, short (BENCHTIME=1s)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./...

## fuzz: a short smoke run (FUZZTIME each) of every Fuzz* target
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz-smoke.sh

## load: start the real stickyd on a temp dir and measure reads/s and stores/s
load:
	$(GO) run ./bench/load $(LOADFLAGS)

vet:
	$(GO) vet ./...

## check-imports: DESIGN.md's dependency rules
check-imports:
	$(GO) run ./internal/tools/checkimports

## tidy-check: go.mod and go.sum are what `go mod tidy` would write
tidy-check:
	$(GO) mod tidy -diff

clean:
	rm -rf bin
