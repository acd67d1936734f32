# The README's two commands:
#   make demo   installs what is missing, builds build/release/pathfinder, runs the main job
#   make test   installs what is missing, builds with ASan/UBSan and -Werror, runs every test
# Other targets: release, dev, bench (Google Benchmark, numbers go to bench/RESULTS.md),
# docs (regenerates docs/fields.md from the field tables), clean.
SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PF := build/release/pathfinder

.PHONY: demo test deps release dev bench docs clean

deps:
	@bash scripts/install-deps.sh

release: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

dev: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

demo: release
	@bash scripts/demo.sh $(PF)

test: dev
	@ctest --preset dev -j $(JOBS)

bench: deps
	@cmake --preset bench >/dev/null
	@cmake --build --preset bench -j $(JOBS)
	@build/bench/bench/pf_bench

docs: dev
	@build/dev/pathfinder schema --markdown > docs/fields.md

clean:
	rm -rf build
