# hyperv.nested development entry points. The two that matter:
#   make lab    simulated Hyper-V fleet, playbooks/site.yml twice (idempotence), report
#   make test   every check, each as a recorded step (tools/run_tests.py)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.hyperv-nested-requirements
REQUIREMENTS := requirements/test.txt requirements/runtime.txt tests/simulator/pyproject.toml
COLLECTIONS := build/collections
LINK := $(COLLECTIONS)/ansible_collections/hyperv/nested
LAB ?= tests/simulator/labs/bare-hosts.yml

export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help deps venv link lab test sanity lint ruff mypy pytest coverage build importer docs-check changelog clean

help:
	@echo "make lab     start the simulated lab, converge it twice with playbooks/site.yml, report, stop"
	@echo "make test    every check (sanity, lint, mypy, pytest, build, galaxy-importer, ansible-doc, changelog)"
	@echo "make deps    install the system packages the tests need (apt-get; sudo when not root)"
	@echo "single steps: make sanity lint ruff mypy pytest build importer docs-check changelog; make clean"

# System packages (MIT Kerberos KDC and client, libkrb5 headers, gcc, OpenSSH client), installed
# with apt-get when missing (sudo when not root): tools/system_deps.sh.
deps:
	@bash tools/system_deps.sh

# The virtual environment: created with $(PYTHON), refreshed when requirements change.
venv: deps $(STAMP)

$(STAMP): $(REQUIREMENTS)
	@bash tools/system_deps.sh
	@if ! $(VPY) -c 'import sys' >/dev/null 2>&1; then \
		echo "creating $(VENV) with $(PYTHON)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	$(VPY) -m pip install --quiet -r requirements/test.txt
	$(VPY) -m pip install --quiet --no-deps -e tests/simulator
	@touch $@

# The working tree as the installed collection hyperv.nested (ANSIBLE_COLLECTIONS_PATH above).
link:
	@$(PYTHON) tools/collection_link.py >/dev/null

lab: venv link
	$(VPY) tools/lab.py --lab $(LAB)

test: venv link
	$(VPY) tools/run_tests.py

sanity: venv link
	$(VPY) tools/run_tests.py sanity
lint: venv link
	$(VPY) tools/run_tests.py ansible-lint
ruff: venv
	$(VPY) tools/run_tests.py ruff
mypy: venv link
	$(VPY) tools/run_tests.py mypy
pytest: venv link
	$(VPY) tools/run_tests.py pytest coverage
build: venv
	$(VPY) tools/run_tests.py build
importer: venv
	$(VPY) tools/run_tests.py build galaxy-importer
docs-check: venv link
	$(VPY) tools/run_tests.py ansible-doc
changelog: venv
	$(VPY) tools/run_tests.py changelog

clean:
	rm -rf build dist tests/output .cache/mypy .cache/pytest .cache/coverage .ruff_cache .mypy_cache .pytest_cache
