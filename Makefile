# fixstick: see README.md. Every target works from a clean clone.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
MANIFEST ?= manifests/netfx11sp1-kb979906.yaml

.PHONY: all build runner test lint bench demo bundle fuzz clean

all: build

## build: the builder for this machine, with the runners embedded (dist/builder)
build: runner
	$(GOBUILD) -o dist/builder ./builder

## runner: cross-compile runner.exe (windows/amd64) and runner-x86.exe (windows/386)
runner:
	GOOS=windows GOARCH=amd64 $(GOBUILD) -o dist/runner.exe ./runner
	GOOS=windows GOARCH=386 $(GOBUILD) -o dist/runner-x86.exe ./runner

## test: lint, then every test (the Wine tests run when Wine is installed)
test: lint
	$(GO) test ./...

## lint: gofmt, go vet for linux and windows
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=windows GOARCH=386 $(GO) vet ./...

## bundle: build the seed bundle (needs internet access to Microsoft's servers)
bundle: build
	dist/builder build $(MANIFEST) -o dist/$(notdir $(basename $(MANIFEST))).zip

clean:
	rm -rf dist
