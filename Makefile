# tipline: `make run` starts a working tip line, `make test` proves it works.
GO ?= go

.PHONY: run test build bench lint fuzz eval

## run: serve the site, API and workers on :8080 (embedded store and demo config unless REDIS_URL/TIPLINE_CONFIG are set)
run:
	$(GO) run ./cmd/tipline serve

## test: every test, against a real Redis (REDIS_URL, else a throwaway redis-server, else the embedded store)
test:
	$(GO) test -count=1 ./...

## build: a static binary in bin/tipline
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/tipline ./cmd/tipline

## bench: the benchmarks, with the figures the README quotes
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## eval: score triage against the labelled corpus (CORPUS=... for another)
CORPUS ?= triage/testdata/corpus.jsonl
eval:
	$(GO) run ./cmd/tipline triage -eval -f $(CORPUS)

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## fuzz: every fuzz target for FUZZTIME each (default 30s); `make test` runs their seed corpora
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done
