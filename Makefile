# Afkar — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin

.PHONY: run build test test-short vet services bench fuzz clean

## run: build and start Afkar on the embedded default (SQLite + durable inbox + demo data)
run: build
	./$(BIN)/afkar serve

## build: the afkar binary and the load generator, pure Go (no cgo)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/afkar ./cmd/afkar
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/loadgen ./cmd/loadgen

## test: vet, then every test with the race detector, against real PostgreSQL and Redis
test: services vet
	$(GO) test -race -timeout 25m ./...

## test-short: the suite without the race detector, for a quick loop
test-short: services
	$(GO) test -timeout 15m ./...

vet:
	$(GO) vet ./...

## services: start local PostgreSQL and Redis if installed but stopped
services:
	@bash .ci/services

## bench: load-test the server on PostgreSQL + Redis and on the embedded default
bench: services build
	./$(BIN)/loadgen -server ./$(BIN)/afkar -mode postgres -duration 20s -concurrency 64
	./$(BIN)/loadgen -server ./$(BIN)/afkar -mode embedded -duration 20s -concurrency 64
	$(GO) test -run XXX -bench . -benchtime 3x ./survey/sqlstore/ ./survey/redisbuffer/

## fuzz: fuzz the response decoder and validator for a minute
fuzz:
	$(GO) test ./survey -run XXX -fuzz FuzzDecodeValidate -fuzztime 60s

clean:
	rm -rf $(BIN)
