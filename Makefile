GO ?= go
DATA ?= ./sticky-data
ADDR ?= 127.0.0.1:8080

.PHONY: all build run test test-short bench fuzz vet check-imports clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

run: build
	@./scripts/demo-setup.sh "$(DATA)" "$(ADDR)"
	./bin/stickyd serve --addr $(ADDR) --data $(DATA)

test: vet check-imports
	$(GO) test -count=1 -timeout 20m ./...

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pdp/ ./ibe/ ./obligations/

vet:
	$(GO) vet ./...

check-imports:
	$(GO) run ./internal/tools/checkimports

clean:
	rm -rf bin
