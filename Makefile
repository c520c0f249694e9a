# tipline: `make run` starts a working tip line, `make test` proves it works.
GO ?= go

.PHONY: run test build bench lint fuzz eval learn

## run: serve the site, API and workers on :8080 (embedded store and demo config unless REDIS_URL/TIPLINE_CONFIG are set)
run:
	$(GO) run ./cmd/tipline serve

## test: every test, against a real Redis (REDIS_URL, else a throwaway redis-server, else the embedded store)
# The timeout is for a loaded machine: the end-to-end tests build and run
# the binary, Redis, Sentinel and a Redis Cluster.
test:
	$(GO) test -count=1 -timeout 30m ./...

## build: a static binary in bin/tipline
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/tipline ./cmd/tipline

## bench: the benchmarks, then the pipeline's figures as the README's "Performance" table
PIPELINE_BENCH = IntakeVsFloor|WorkerDrain|MemoryPerTips
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 $$($(GO) list ./... | grep -v '/cmd/tipline$$')
	@mkdir -p .bench
	$(GO) test ./cmd/tipline -run '^$$' -count=1 -bench '$(PIPELINE_BENCH)' -benchtime 1x | tee .bench/pipeline.txt
	$(GO) test ./cmd/tipline -run '^$$' -count=1 -bench 'CriticalReportToPage' -benchtime 200x | tee -a .bench/pipeline.txt
	@echo; echo "| benchmark | figure | measured |"; echo "| --- | --- | --- |"
	@awk '/^Benchmark/ { n = $$1; sub(/-[0-9]+$$/, "", n); for (i = 3; i < NF; i += 2) if ($$(i+1) != "ns/op") printf "| %s | %s | %s |\n", n, $$(i+1), $$i }' .bench/pipeline.txt

## eval: score triage against the labelled corpus (CORPUS=... for another)
CORPUS ?= triage/testdata/corpus.jsonl
eval:
	$(GO) run ./cmd/tipline triage -eval -f $(CORPUS)

## learn: recount triage/learned.tsv from the labelled sets (fresh12 and fresh13 stay unseen, to measure it on)
LEARN_FROM ?= corpus heldout fresh fresh2 fresh3 fresh4 fresh5 fresh6 fresh7 blind fresh8 fresh9 fresh10 fresh11
learn:
	cd triage/testdata && $(GO) run ../../cmd/tipline triage -learn $(addsuffix .jsonl,$(LEARN_FROM)) > ../learned.tsv.new
	mv triage/learned.tsv.new triage/learned.tsv

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
