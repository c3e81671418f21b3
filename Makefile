# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The thread variables (OPENBLAS_THREAD_TIMEOUT, OMP_WAIT_POLICY) are set by mlp_ref.env, which every
# Python entry point imports before numpy or torch.

.PHONY: run test test-fast bench pictures clean

# The project is installed editable, so pip compiles none of it: compileall does, once, rather than every
# process of the first test run compiling what it imports at the same moment.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,browser]'
	$(BIN)/python -m compileall -q -j 0 -x '/zoo/' mlp_ref tests conftest.py
	touch $@

run: $(BIN)/.installed
	$(BIN)/mlp-ref parity

# Two workers (pytest-xdist) that steal each other's queued tests, so neither idles at the end; the costly
# gradings (the zoos) are shared between them through the once_per_run fixture (conftest.py).
# No test reads logs: pytest's log capture (-p no:logging) would add and remove its handler on each of
# torch's ~50 loggers three times per test.
TEST_ARGS := -q --ignore=tests/benchmarks -n 2 --dist worksteal -p no:logging
# Compiled modules are cached (__pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is set:
# the run's fresh interpreters (the command line's, the autograder's) and the next run read them
# instead of compiling the project and rewriting the tests' asserts again.
PYCACHE := env -u PYTHONDONTWRITEBYTECODE

test: $(BIN)/.installed
	$(PYCACHE) $(BIN)/python -m pytest $(TEST_ARGS)

# The edit-run loop: stop at the first failure, leave out the tests marked slow (whole zoo, zips, browser).
test-fast: $(BIN)/.installed
	$(PYCACHE) $(BIN)/python -m pytest $(TEST_ARGS) -x -m "not slow" -p no:cacheprovider

# The extra `bench` adds jax (jax.jit, the third side). pytest-benchmark times every size, side and stage (JSON kept in bench-results/), the summary
# prints its table, then the paired runner checks the ratio goals with each side in its own process.
bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,bench]'
	mkdir -p bench-results
	$(BIN)/python -m pytest tests/benchmarks -q -p no:cacheprovider --benchmark-enable --benchmark-only \
		--benchmark-min-rounds=3 --benchmark-max-time=0.1 --benchmark-json=bench-results/pytest-benchmark.json
	$(BIN)/python -m mlp_ref.bench.summary bench-results/pytest-benchmark.json
	$(BIN)/python -m mlp_ref.bench --json bench-results/paired.json
	@echo "diagnostic: the same paired check with numpy's OpenBLAS on 1 thread (no waiting for a second thread)"
	$(BIN)/python -m mlp_ref.bench --sizes tiny small medium large --no-scaling --hazard-rounds 0 --numpy-threads 1
	$(BIN)/python -m mlp_ref.bench.profile tiny float32

# The README's pictures of the three pages, drawn by mlp-ref and a headless Chromium (apt-get install chromium).
pictures: $(BIN)/.installed
	$(BIN)/python tests/pages/pictures.py docs/pictures

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks build *.egg-info
