# podkit entry points. `make test` and `make demo` work on a fresh machine: scripts/bootstrap.sh
# installs uv, the system packages the tests need, and the workspace first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

PYTEST_ARGS ?=
DEMO_ARGS ?=
BOOTSTRAP = scripts/bootstrap.sh

.PHONY: help demo test e2e images push dist bench lint format

help:
	@echo "make demo   run the library's demo on embedded defaults (Ctrl-C stops it);"
	@echo "            DEMO_ARGS=\"--port-base=20000\" moves its ports (DEMO_ARGS=--help lists them)"
	@echo "make test   install what the tests need and run every test that needs no containers"
	@echo "make e2e    build the images and run the example pods with podman"
	@echo "make images build the images with podman (names: images/images.env) and print their sizes"
	@echo "make push REGISTRY=host/path  tag and push the images to that registry"
	@echo "make dist   build every package's wheel and sdist into dist/"
	@echo "make bench  run the benchmarks (they print ratios against a reference run)"
	@echo "make lint   ruff, ruff format --check, mypy"

demo:
	@UV="$$($(BOOTSTRAP))" && $$UV run python scripts/demo.py $(DEMO_ARGS)

test:
	@UV="$$($(BOOTSTRAP))" && set +e; $$UV run pytest --ignore=tests/e2e $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$status

# The images and the tests' stand-in images are built (or found up to date) before any test runs.
e2e:
	@UV="$$($(BOOTSTRAP) --e2e)" && UV="$$UV" images/build.sh --standins --native-only && set +e; \
		$$UV run pytest tests/e2e $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make e2e: pytest collected no tests" >&2; fi; exit $$status

images:
	@UV="$$($(BOOTSTRAP) --e2e)" && UV="$$UV" images/build.sh

push:
	@test -n "$(REGISTRY)" || { echo "make push: say where, e.g. make push REGISTRY=registry.example.com/team" >&2; exit 2; }
	@images/push.sh "$(REGISTRY)"

# Every workspace member (uv discovers them from the root pyproject), wheel and sdist.
dist:
	@UV="$$($(BOOTSTRAP) --no-system)" && rm -rf dist && $$UV build --all-packages --quiet --out-dir dist && ls dist

bench:
	@UV="$$($(BOOTSTRAP))" && for script in benchmarks/*.py; do \
		echo "== $$script"; $$UV run python "$$script" || exit 1; done

lint:
	@UV="$$($(BOOTSTRAP) --no-system)" && $$UV run ruff check . && \
		$$UV run ruff format --check . && $$UV run mypy

format:
	@UV="$$($(BOOTSTRAP) --no-system)" && $$UV run ruff format . && $$UV run ruff check --fix .
