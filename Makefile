.PHONY: run test demo lint

# Set up everything (Python env, database, demo organisation) and start Atende.
run:
	scripts/bootstrap
	.venv/bin/atende demo
	.venv/bin/atende run

# The whole test suite (what CI runs).
test:
	scripts/test

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy src/atende
