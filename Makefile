# Afkar — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin

.PHONY: run build test test-short vet services bench bench-national national-seed fuzz fonts screenshots clean

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

## bench: what users get — sustained end-to-end on PostgreSQL + Redis (appendfsync everysec, then
## always) and on the embedded default, then the store micro-benchmarks. RUNS=3 prints the median
## and range of each figure over three passes per configuration. Then the national-size read
## figures (bench-national, written to bench/results.txt) when NATIONAL_DB has been seeded
## with `make national-seed` once (20 M responses, ~500 agencies: ~25 GB; 11 min on a quiet 2-core machine).
RUNS ?= 1
BENCH_FLAGS ?=
bench: services build
	./$(BIN)/loadgen -server ./$(BIN)/afkar -runs $(RUNS) -mode postgres -fsync everysec $(BENCH_FLAGS)
	./$(BIN)/loadgen -server ./$(BIN)/afkar -runs $(RUNS) -mode postgres -fsync always $(BENCH_FLAGS)
	./$(BIN)/loadgen -server ./$(BIN)/afkar -runs $(RUNS) -mode embedded $(BENCH_FLAGS)
	$(GO) test -run XXX -bench . -benchtime 3x ./survey/sqlstore/ ./survey/redisbuffer/
	@if psql '$(NATIONAL_DB)' -Atc 'SELECT 1 FROM agencies LIMIT 1' >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory bench-national; \
	else echo "national size: not measured — NATIONAL_DB is not seeded (make national-seed: ~11 min, ~25 GB)"; fi

## national-seed: create the database NATIONAL_DB names and seed it with the national demo
## (31 provinces × 16 agencies, NATIONAL_RESPONSES over 730 days, COPY); prints progress and time
NATIONAL_DB        ?= postgres://postgres@127.0.0.1:5432/national?sslmode=disable
NATIONAL_RESPONSES ?= 20000000
national-seed: services build
	createdb -h 127.0.0.1 -U postgres national 2>/dev/null || true
	AFKAR_DATABASE_URL='$(NATIONAL_DB)' AFKAR_DEMO=0 ./$(BIN)/afkar demo --national --responses $(NATIONAL_RESPONSES)

## bench-national: on the seeded NATIONAL_DB, start afkar serve and measure p50/p95 of the score
## endpoint (30/90/365 days), the agency dashboard, the province table and an agency-month
## export's first row, sequential and 8 clients; one line per figure, also written to
## bench/results.txt. Not part of `make test`; `make bench` runs it when
## NATIONAL_DB is seeded.
bench-national: services build
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/benchnational ./cmd/benchnational
	./$(BIN)/benchnational -server ./$(BIN)/afkar -db '$(NATIONAL_DB)' -out bench/results.txt

## fuzz: fuzz the response decoder and validator for a minute
fuzz:
	$(GO) test ./survey -run XXX -fuzz FuzzDecodeValidate -fuzztime 60s

## fonts: fetch Vazirmatn from the npm registry (npm pack, no install) and copy its variable
## webfont and licence into api/web/static/fonts, checking the font's sha256. The server serves it
## as /static/fonts/vazirmatn.<first 10 hex of sha256>.woff2 (the name is computed at start).
VAZIRMATN        := 33.0.3
VAZIRMATN_SHA256 := 4e3fa217d38fdafc1fea4414ceb58ca5e662cf0ab5fa735a8c8c20e8b42cad92
FONTS_DIR        := api/web/static/fonts
fonts:
	@tmp=$$(mktemp -d) && \
	(cd $$tmp && npm pack --silent vazirmatn@$(VAZIRMATN) >/dev/null && tar xzf vazirmatn-$(VAZIRMATN).tgz) && \
	echo "$(VAZIRMATN_SHA256)  $$tmp/package/fonts/webfonts/Vazirmatn[wght].woff2" | sha256sum -c - && \
	cp "$$tmp/package/fonts/webfonts/Vazirmatn[wght].woff2" $(FONTS_DIR)/Vazirmatn-wght.woff2 && \
	cp $$tmp/package/OFL.txt $(FONTS_DIR)/OFL.txt && \
	rm -rf $$tmp

## screenshots: the browser tests that draw pages (landing, kiosk) save their screenshots under
## docs/screenshots/ for the README
screenshots:
	mkdir -p docs/screenshots
	AFKAR_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'Browser' ./api/ ./cmd/afkar/

clean:
	rm -rf $(BIN)
