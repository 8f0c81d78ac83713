# fixstick: see README.md. Every target works from a clean clone.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
MANIFEST ?= manifests/netfx11sp1-kb979906.yaml

RUNNERBIN := builder/internal/runnerbin/bin

.PHONY: all build runner helper test lint bench demo bundle fuzz winres clean

all: build

## build: the builder for this machine, carrying both runners inside (dist/builder)
build: runner helper
	mkdir -p $(RUNNERBIN)/legacy
	cp dist/runner.exe dist/runner-x86.exe $(RUNNERBIN)/
	cp dist/legacy/fixhelp.exe dist/legacy/fixhelp-x86.exe $(RUNNERBIN)/legacy/
	$(GOBUILD) -tags embedrunner -o dist/builder ./builder

## runner: cross-compile runner.exe (windows/amd64) and runner-x86.exe (windows/386), and the legacy helper
runner: helper
	GOOS=windows GOARCH=amd64 $(GOBUILD) -o dist/runner.exe ./runner
	GOOS=windows GOARCH=386 $(GOBUILD) -o dist/runner-x86.exe ./runner

## helper: the legacy executor's native helper for XP SP3 to 8.1, x64 and x86 (dist/legacy/fixhelp*.exe;
## mingw-w64, reproducible)
helper:
	mkdir -p dist/legacy
	$(MAKE) -C runner/legacy/helper OUT=$(CURDIR)/dist/legacy

## test: lint, then every test (the Wine tests run when Wine is installed)
test: lint
	GO=$(GO) scripts/test.sh

## lint: gofmt, go vet for linux and windows
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows GOARCH=386 $(GO) vet ./...

## demo: no network needed: plan, build and verify a small bundle from a local server
demo: build
	scripts/demo.sh

## bench: cold fetch vs curl + sha256sum, warm rebuild vs zip -0, the legacy path's SHA-256 under Wine (figures, not assertions)
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./builder/internal/fetch ./builder/internal/pack
	$(GO) run ./bench/fetch -builder dist/builder
	bench/pack.sh dist/builder
	$(GO) test -run '^$$' -bench 'Wine(Helper|JScript)SHA256' -benchtime 1x ./builder/internal/legacy

## fuzz: the fuzz targets (manifest parser, archive extraction, lock codec), 5 minutes each
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 5m ./builder/internal/manifest
	$(GO) test -run '^$$' -fuzz FuzzExtract -fuzztime 5m ./builder/internal/pack
	$(GO) test -run '^$$' -fuzz FuzzLock -fuzztime 5m ./payload

## winres: remake the runner's committed manifest and version resources (runner/rsrc_windows_*.syso)
winres:
	cd runner && $(GO) run github.com/tc-hib/go-winres@v0.3.3 simply --arch amd64,386 --manifest cli --admin \
		--product-version 1.0.0.0 --file-version 1.0.0.0 --product-name fixstick --copyright "fixstick authors" \
		--file-description "fixstick runner: repairs this computer with a bundle" --original-filename runner.exe

## bundle: build the seed bundle (needs internet access to Microsoft's servers)
bundle: build
	dist/builder build $(MANIFEST) -o dist/$(notdir $(basename $(MANIFEST))).zip

clean:
	rm -rf dist $(RUNNERBIN)
