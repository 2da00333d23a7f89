# The two commands: `make demo` and `make test`. Run as root on Debian 12/13.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Hybrid cgroup hosts need the unified hierarchy inside systemd containers.
CGROUP_HYBRID := $(shell [ "$$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && echo .hybrid)
export CONTAINERS_CONF := $(CURDIR)/molecule/containers$(CGROUP_HYBRID).conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export TIMINGS_FILE := $(CURDIR)/.cache/timings.txt
# Debian packages the controller needs: podman (runc runtime), debootstrap
# for the base images, the SSH client that reaches the hosts, and what the
# venv and the checks use.
APT_PACKAGES := podman runc debootstrap python3-venv git curl openssh-client
TIMED := ansible/bin/timed
ROLES := $(wildcard roles/*)

.PHONY: help
help:
	@echo "make demo        deploy the stack into a local systemd container and print its URL"
	@echo "make demo-down   remove the demo container"
	@echo "make test        every check: format, lint, unit tests, bench smoke, drills, Molecule (Debian 12 and 13)"
	@echo "make bench       ASGI or WSGI? measure every server configuration (QUICK=1: smoke run)"
	@echo "make drills      deploy, restart, reload, roll back under load on the sandbox, and roll the cluster:"
	@echo "                 0 failed requests, 0 lost votes (make drills-sandbox | drills-cluster: one of the two)"
	@echo "make audit       look the locked dependencies up in a vulnerability database (needs its service)"
	@echo "make lint | unit | molecule | images | argument-specs"

# ------------------------------------------------------------ controller ---
.cache/apt.stamp: Makefile
	@mkdir -p .cache
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi
	@touch $@

$(BIN)/ansible-playbook: requirements.txt polls/pyproject.toml | .cache/apt.stamp
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -e 'polls[test]'
	@touch $@

.PHONY: controller
controller: .cache/apt.stamp $(BIN)/ansible-playbook

.PHONY: images
images: controller
	molecule/images/build.sh bookworm
	molecule/images/build.sh trixie

# ------------------------------------------------------------------ demo ---
.PHONY: demo
demo: controller
	ansible-playbook -i inventory/sandbox ansible/sandbox-up.yml
	ansible-playbook -i inventory/sandbox site.yml
	@ansible/bin/demo-summary

.PHONY: demo-down
demo-down: controller
	ansible-playbook -i inventory/sandbox ansible/sandbox-down.yml

# ------------------------------------------------------------------ test ---
.PHONY: test
test: controller
	@rm -f $(TIMINGS_FILE)
	@$(TIMED) format $(MAKE) --no-print-directory format
	@$(TIMED) lint $(MAKE) --no-print-directory lint
	@$(TIMED) unit $(MAKE) --no-print-directory unit
	@$(TIMED) bench-smoke $(MAKE) --no-print-directory bench QUICK=1
	@$(TIMED) drills $(MAKE) --no-print-directory drills-sandbox
	@$(TIMED) molecule-default $(MAKE) --no-print-directory molecule-default
	@$(TIMED) molecule-cluster $(MAKE) --no-print-directory molecule-cluster
	@echo "== make test: all stages passed"; cat $(TIMINGS_FILE)

.PHONY: format
format: controller
	black --check --diff .

.PHONY: lint
lint: controller
	ruff check .
	yamllint --strict .
	@for role in $(ROLES); do python ansible/bin/argument-specs.py $$role --check || exit 1; done
	ansible-lint --profile production --strict site.yml ansible roles molecule

.PHONY: argument-specs
argument-specs: controller
	@for role in $(ROLES); do python ansible/bin/argument-specs.py $$role; done

.PHONY: unit
unit: controller
	cd polls && pytest
	pytest ansible/tests bench/tests
	@$(MAKE) --no-print-directory unit-postgres

# The same app tests against a real PostgreSQL server (psycopg 3), in a
# throwaway cluster under /tmp that is removed afterwards.
PG_SCRATCH := /tmp/polls-pg-scratch
.PHONY: unit-postgres
unit-postgres: controller
	@url=$$(ansible/bin/pg-scratch start $(PG_SCRATCH)) && \
	  (cd polls && POLLS_DATABASE_URL=$$url pytest -q polls/tests/test_views.py polls/tests/test_models.py polls/tests/test_query_plans.py); \
	  status=$$?; ansible/bin/pg-scratch stop $(PG_SCRATCH); exit $$status

# `make audit` looks up every locked dependency of the app and of its build in
# a vulnerability database (pip-audit: PyPI's, or OSV's with AUDIT_SERVICE=osv)
# and fails on a known vulnerability or on a package it could not look up.
# It needs that service on the network; `make test` does not run it (README).
AUDIT_SERVICE ?= pypi
$(VENV)/.audit: | $(BIN)/ansible-playbook
	$(BIN)/pip install --quiet --disable-pip-version-check pip-audit==2.10.1
	@touch $@

.PHONY: audit
audit: controller $(VENV)/.audit
	pip-audit --strict --vulnerability-service $(AUDIT_SERVICE) --disable-pip \
	  --require-hashes -r polls/requirements.lock -r polls/build-requirements.lock

# `make bench` measures every server configuration, directly and through the
# sandbox's nginx (so it deploys the sandbox first), tunes the deployed
# default's settings, measures each page at 10, 10k and 1M questions, holds
# 100 to 4,000 connections through nginx, and
# profiles an index request under each server
# (bench/README.md). QUICK=1 runs one short round that only checks the harness.
$(VENV)/.bench: bench/requirements.txt | $(BIN)/ansible-playbook
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

BENCH_OUT := $(if $(QUICK),--quick --output .cache/bench-smoke)

.PHONY: bench
bench: controller $(VENV)/.bench demo
	@# nginx is only a yardstick here: if this installs it, it must not keep serving.
	@command -v wrk >/dev/null && command -v nginx >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null && \
	   { systemctl disable --now nginx >/dev/null 2>&1 || true; })
	python bench/run.py $(BENCH_OUT)
	python bench/datasize.py $(BENCH_OUT)
	python bench/load.py $(BENCH_OUT)
	python bench/postgres.py $(BENCH_OUT)
	$(if $(QUICK),,python bench/run.py --tuning --rounds 3 --workloads 'index,vote,io sync view,io async view')
	python bench/cpu_profile.py $(BENCH_OUT)

.PHONY: wrk
wrk:
	@command -v wrk >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)

# `make drills` runs both drills (ansible/drills/), each failing on any
# failed request or lost vote under GET and vote load:
# drills-sandbox deploys the sandbox (the repository's release live), then
# deploys a changed release, restarts and reloads the live instance twice
# each, rolls back and tries broken releases, then storms it with bad input,
# fills the disk under its state directory and restarts the container;
# drills-cluster converges the Molecule cluster (load balancer, two web
# hosts, PostgreSQL), then votes 200 at once, stops, drains and kills a web
# host, rolls a changed release out, rolls a failing one (stopped at the first
# host), rolls back, and converges once more with nothing to change. `make test` runs the
# sandbox's here and the cluster's in `molecule test -s cluster` (its verify).
.PHONY: drills drills-sandbox drills-cluster
drills: drills-sandbox drills-cluster

drills-sandbox: controller demo wrk
	cd ansible && python -m drills

drills-cluster: images wrk
	molecule converge --scenario-name cluster
	POLLS_CLUSTER_DRILL_ARGS=--no-change molecule verify --scenario-name cluster; \
	  status=$$?; molecule destroy --scenario-name cluster; exit $$status

# default: the whole stack on one host, Debian 12 and 13 side by side;
# cluster: a load balancer, two web hosts and a PostgreSQL host, reached
# over SSH; its verify runs the cluster drills.
.PHONY: molecule molecule-default molecule-cluster
molecule: molecule-default molecule-cluster
molecule-default: images
	molecule test --scenario-name default
molecule-cluster: images wrk
	molecule test --scenario-name cluster
