# Set-up and pipeline. `make run` and `make test` work from a fresh clone with python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Reproducible corpus: timestamps come from the last commit of the sources, when there is one.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct -- corpus/sources 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/toolkit build corpus
	$(BIN)/toolkit prov corpus -o corpus/index/prov.json
	$(BIN)/toolkit prov corpus -o corpus/index/prov.ttl
	rm -rf build/corpus-bag
	$(BIN)/toolkit package corpus -o build/corpus-bag

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench
	$(BIN)/ruff format --check toolkit tests bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

bench: $(STAMP)
	$(BIN)/python bench/bench_tag.py
	$(BIN)/python bench/bench_validate.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_profiles.py
	$(BIN)/python bench/bench_editor.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_scale.py
