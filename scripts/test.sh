#!/usr/bin/env bash
# The test command: every crate's tests, on SQLite and on PostgreSQL.
# Starts (or installs) PostgreSQL first so the PostgreSQL half runs too, and makes the
# Python tools the contract tests use (scripts/python-tools.sh), and Chromium with
# Playwright and axe for the browser journeys (scripts/browser-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SAISEI_TEST_POSTGRES_URL:-}" ]; then
  SAISEI_TEST_POSTGRES_URL=$(scripts/postgres.sh)
  export SAISEI_TEST_POSTGRES_URL
fi
echo "test.sh: PostgreSQL tests use $SAISEI_TEST_POSTGRES_URL" >&2
if [ -z "${SAISEI_PYTHON_TOOLS:-}" ]; then
  SAISEI_PYTHON_TOOLS=$(scripts/python-tools.sh)
  export SAISEI_PYTHON_TOOLS
fi
echo "test.sh: contract tests use the tools in $SAISEI_PYTHON_TOOLS" >&2

if [ -z "${SAISEI_BROWSER_TOOLS:-}" ]; then
  SAISEI_BROWSER_TOOLS=$(scripts/browser-tools.sh)
  export SAISEI_BROWSER_TOOLS
fi
echo "test.sh: browser journeys use Chromium and the tools in $SAISEI_BROWSER_TOOLS" >&2

cargo test --workspace --locked "$@"
