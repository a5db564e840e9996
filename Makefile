# custseg: `make` lists the targets. `make reports` and `make test` work as the first command on
# a fresh clone: both build the environment first (once), then the sample data, then their work.

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

# Tools (override on the command line, e.g. `make test PYTEST_ARGS=-x`).
PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
CUSTSEG := $(VENV)/bin/custseg
PYTEST := $(PY) -m pytest
PYTEST_ARGS ?=
JUPYTER := $(VENV)/bin/jupyter
# How notebooks are stripped, by `make strip` and by the git filter `make setup` installs: outputs go,
# the tags (parameters, remove-input) and the cell ids stay, so a commit shows only what a person changed.
NBSTRIP_ARGS := --keep-id --keep-metadata-keys cell.metadata.tags
# JupyterLab refuses to start as root unless told; containers and CI machines often run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

# Another Python to check the package on (`make test-python`): 3.13, the newest custseg supports; 3.11
# builds .venv, as the pins were resolved on it. A pyenv install counts when no python3.13 is on PATH.
# (A pyenv shim on PATH that cannot run 3.13 is passed over: the first that runs is taken.)
OTHER_PYTHON ?= $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
  $$p -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
OTHER_VENV := build/venv-other-python

# What to build: the study config, and the size of the bundled sample.
CONFIG ?= config/sample.yaml
# Report language: empty builds every language of the config (study.language, other_languages);
# `make reports LANGUAGE=zh` builds only the Chinese pages.
LANGUAGE ?=
SAMPLE_CUSTOMERS ?= 5000
SAMPLE_SEED ?= 20261001
# Where `make bench-100m` writes its 9 GB CSV and the outputs (about 30 GB free needed at the peak).
BENCH_DIR ?= build/bench

SETUP_STAMP := $(VENV)/.custseg-setup
SAMPLE_DIR := data/raw/sample
SAMPLE := $(SAMPLE_DIR)/sample_meta.json
SAMPLE_LINE_ITEMS := $(SAMPLE_DIR)/line_items.csv
SAMPLE_PROCESSED := data/processed/sample/study.json
# The same company as a marketplace's normalised tables (read by SQL over the files, config/sample_tables.yaml).
SAMPLE_TABLES_DIR := data/raw/sample-tables
SAMPLE_TABLES := $(SAMPLE_TABLES_DIR)/orders.csv
TABLES_CONFIG := config/sample_tables.yaml
# its own stamp: `make reports CONFIG=config/sample_tables.yaml` has another, with the recipe of reports
TABLES_STAMP := build/.make/sample-tables.reports
SRC := $(shell find src/custseg -type f \( -name '*.py' -o -name '*.csv' -o -name '*.j2' -o -name '*.css' -o -name '*.js' -o -name '*.json' -o -name '*.po' \))
# The generator and its tables: a change to any of them makes a new sample.
SAMPLE_SRC := $(shell find src/custseg/sample -type f \( -name '*.py' -o -name '*.csv' \))
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
# One stamp per config file: touched only after every report of that config built.
REPORTS_STAMP := build/.make/$(subst /,__,$(CONFIG))$(if $(LANGUAGE),.$(LANGUAGE)).reports
# The sample is generated only when a config that reads it is used: the default one (several
# tables) or config/sample_line_items.yaml (the same company as one line-item export).
CONFIG_DATA := $(if $(filter config/sample.yaml,$(CONFIG)),$(SAMPLE),$(if $(filter config/sample_line_items.yaml,$(CONFIG)),$(SAMPLE_LINE_ITEMS),$(if $(filter $(TABLES_CONFIG),$(CONFIG)),$(SAMPLE_TABLES))))

.PHONY: help setup setup-spark data process reports glossary pdf sample-tables servers-check test test-python lint bench bench-100m lab lock strip messages clean distclean

help: ## Show this list of targets
	@echo "custseg: customer classification and tiering studies"
	@echo
	@echo "usage: make <target> [CONFIG=path/to/study.yaml] [LANGUAGE=en|zh]"
	@echo
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-13s\033[0m %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) ## Create .venv with the pinned requirements and custseg installed editable (once)

$(SETUP_STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON_BOOT)" || { echo "make: no python3.11 or python3 on PATH" >&2; exit 1; }
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else "custseg needs Python 3.11 to 3.13, found " + sys.version.split()[0] + " at " + sys.executable)'
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name custseg --display-name "custseg (.venv)" > /dev/null
	@# In a git clone, notebooks are stripped as they are staged (.gitattributes names the filter);
	@# outside one (an unpacked archive) there is nothing to set up.
	if git rev-parse --git-dir > /dev/null 2>&1; then \
	  git config filter.nbstripout.clean "'$(abspath $(PY))' -m nbstripout $(NBSTRIP_ARGS)"; \
	  git config filter.nbstripout.smudge cat; \
	  git config filter.nbstripout.required true; \
	  git config diff.ipynb.textconv "'$(abspath $(PY))' -m nbstripout -t $(NBSTRIP_ARGS)"; \
	fi
	touch $@

# engine: spark's optional extra, not part of `make setup`: PySpark (requirements-spark.txt) into .venv, once
# Java 17+ is found (Spark runs on the JVM; local mode too).
setup-spark: $(SETUP_STAMP) ## Add engine: spark's optional extra to .venv: PySpark (requirements-spark.txt); needs Java 17+
	@command -v java > /dev/null 2>&1 || { echo "make: engine: spark needs a Java 17+ runtime and there is no java on PATH;" \
	  "install one (Debian, Ubuntu: sudo apt-get install default-jre-headless)" >&2; exit 1; }
	@java -version 2>&1 | awk -F '"' '/version/ && !said { split($$2, v, "."); found = v[1] + 0; said = $$0 } \
	  END { if (found < 17) { print "make: engine: spark needs Java 17+, java -version says: " said \
	  " (Debian, Ubuntu: sudo apt-get install default-jre-headless)" > "/dev/stderr"; exit 1 } }'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt

data: $(SAMPLE) ## Generate the synthetic sample company in data/raw/sample

$(SAMPLE): $(SAMPLE_SRC) | $(SETUP_STAMP)
	$(CUSTSEG) sample --out $(SAMPLE_DIR) --customers $(SAMPLE_CUSTOMERS) --seed $(SAMPLE_SEED)

$(SAMPLE_LINE_ITEMS): $(SAMPLE_SRC) | $(SETUP_STAMP)
	$(CUSTSEG) sample --out $(SAMPLE_DIR) --customers $(SAMPLE_CUSTOMERS) --seed $(SAMPLE_SEED) --line-items

# The plain files of this run go to build/ (a throwaway copy): rewriting data/raw/sample would
# make the plain sample's reports look out of date.
$(SAMPLE_TABLES): $(SAMPLE_SRC) | $(SETUP_STAMP)
	$(CUSTSEG) sample --out build/sample-tables-plain --customers $(SAMPLE_CUSTOMERS) --seed $(SAMPLE_SEED) \
	  --tables-out $(SAMPLE_TABLES_DIR)

process: $(SAMPLE_PROCESSED) ## Intake and segmentation of the sample: data/interim, data/processed

$(SAMPLE_PROCESSED): $(SAMPLE) config/sample.yaml $(SRC) | $(SETUP_STAMP)
	$(CUSTSEG) process --config config/sample.yaml
	touch $@

reports: $(REPORTS_STAMP) ## Build every report of CONFIG (default: the sample) into its reports folder

$(REPORTS_STAMP): $(CONFIG) $(CONFIG_DATA) $(SRC) $(NOTEBOOKS) | $(SETUP_STAMP)
	$(CUSTSEG) run --config $(CONFIG)$(if $(LANGUAGE), --language $(LANGUAGE))
	@mkdir -p $(@D) && touch $@

# Not part of `make reports`: it builds the same study again from other files (about as long as
# the sample's own build); `make reports CONFIG=config/sample_tables.yaml` is the same.
sample-tables: $(TABLES_STAMP) ## Build every report of config/sample_tables.yaml: the sample as normalised tables, joined by SQL

$(TABLES_STAMP): $(TABLES_CONFIG) $(SAMPLE_TABLES) $(SRC) $(NOTEBOOKS) | $(SETUP_STAMP)
	$(CUSTSEG) run --config $(TABLES_CONFIG)
	@mkdir -p $(@D) && touch $@

servers-check: | $(SETUP_STAMP) ## Test database inputs on real PostgreSQL and MariaDB servers (Debian's postgresql, mariadb-server)
	CUSTSEG_REQUIRE_SERVERS=1 $(PYTEST) $(PYTEST_ARGS) tests/test_database_inputs.py

# Where `make pdf` finds the pages of CONFIG: the sample's output.reports (set it for another config).
REPORTS_DIR ?= reports

# The glossary is a page of the plan like the others (notebooks/glossary.ipynb): `make reports` builds it
# and its manifest fingerprint keeps it until its notebook, the config, the data or the code change.
glossary: $(REPORTS_DIR)/glossary.html ## Build the reports of CONFIG if out of date and check the glossary page is among them

$(REPORTS_DIR)/glossary.html: $(REPORTS_STAMP)
	@test -f $@ || { echo "make: $@ was not built: is REPORTS_DIR the output.reports of $(CONFIG)?" >&2; exit 1; }

pdf: $(REPORTS_STAMP) ## Print every built page of CONFIG to an A4 PDF beside it (headless Chromium; REPORTS_DIR=reports)
	@$(MAKE) --no-print-directory pdf-pages CONFIG=$(CONFIG) REPORTS_DIR=$(REPORTS_DIR)

# The pages exist only once the reports are built, so they are listed by a second make: one PDF per
# page, made again only when its page is newer. (`make pdf`'s helper, not a target of its own.)
.PHONY: pdf-pages
pdf-pages: $(if $(filter pdf-pages,$(MAKECMDGOALS)),$(patsubst %.html,%.pdf,$(shell find $(REPORTS_DIR) -name '*.html' 2>/dev/null)))

$(REPORTS_DIR)/%.pdf: $(REPORTS_DIR)/%.html | $(SETUP_STAMP)
	$(PY) -m custseg.report.pdf $< $@

test: $(SAMPLE_PROCESSED) ## Run the unit and end-to-end tests, then execute every notebook (nbval)
	$(PYTEST) $(PYTEST_ARGS) tests
	$(PYTEST) $(PYTEST_ARGS) --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

test-python: $(SAMPLE_PROCESSED) ## Install the pins into a venv of OTHER_PYTHON (default 3.13) and run the command-line and end-to-end tests there
	@test -n "$(OTHER_PYTHON)" || { echo "make: no python3.13 on PATH or in ~/.pyenv; say which with OTHER_PYTHON=..." >&2; exit 1; }
	rm -rf $(OTHER_VENV)
	$(OTHER_PYTHON) -m venv $(OTHER_VENV)
	$(OTHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(OTHER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(OTHER_VENV)/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider tests/test_cli.py tests/test_e2e.py tests/test_project.py tests/test_intake.py tests/test_segmentation.py
	@# the editable install above pointed custseg at this tree from the other venv; .venv's stays as it was
	rm -rf $(OTHER_VENV)

lint: | $(SETUP_STAMP) ## Check style and import order (ruff) and the package's layers (import contract in .importlinter)
	$(VENV)/bin/ruff check src tests tools
	$(VENV)/bin/lint-imports --no-cache

bench: $(SAMPLE) | $(SETUP_STAMP) ## Time a raw line-item export end to end beside DuckDB and pandas (1M, 10M lines), intake and segmentation (1M, 10M order lines) and 45 studies in each language (figures, no asserts)
	$(PY) tools/benchmark_raw.py --lines 1000000,10000000
	$(PY) tools/benchmark_intake.py
	$(PY) tools/benchmark_segmentation.py
	$(PY) tools/benchmark_reports.py
	$(PY) tools/benchmark_reports.py --language zh

bench-100m: | $(SETUP_STAMP) ## Time 100M raw line items out of core: engine: duckdb (memory_limit 6GB) beside DuckDB's RFM summary; a 9 GB CSV in BENCH_DIR (figures, no asserts)
	mkdir -p $(BENCH_DIR)
	$(PY) tools/benchmark_raw.py --lines 100000000 --ways duckdb,custseg-duckdb --memory-limit 6GB --dir $(BENCH_DIR)

lab: $(SAMPLE_PROCESSED) ## Open JupyterLab on the notebooks with the registered custseg kernel
	$(JUPYTER) lab --notebook-dir=notebooks $(LAB_ARGS)

lock: ## Re-resolve requirements.in into requirements.txt and environment.yml
	rm -rf build/lock-venv
	$(PYTHON_BOOT) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Exact versions, resolved on Python 3.11 (3.12 and 3.13 install the same), put into .venv by \`make setup\`."; \
	  echo "# Generated by \`make lock\` from requirements.in; environment.yml carries the same pins."; \
	  build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^custseg'; } > requirements.txt
	$(PYTHON_BOOT) tools/write_environment_yml.py
	rm -rf build/lock-venv

messages: $(SETUP_STAMP) ## Bring the translation catalogs (src/custseg/locale) in step with the code
	$(PY) tools/update_messages.py

strip: $(SETUP_STAMP) ## Strip outputs from the template notebooks before committing
	$(VENV)/bin/nbstripout $(NBSTRIP_ARGS) $(NOTEBOOKS) $(wildcard notebooks/explore/*.ipynb)

clean: ## Remove everything the build made (keeps .venv and the raw sample)
	rm -rf build reports/*.html reports/regions reports/tiers reports/sample-tables data/interim data/processed exports

distclean: clean ## Also remove .venv and the generated sample
	rm -rf $(VENV) $(SAMPLE_DIR) $(SAMPLE_TABLES_DIR)
