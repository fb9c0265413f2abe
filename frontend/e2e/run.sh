#!/bin/sh
# End-to-end tests of the trading UI against the whole stack, on throwaway services.
#
#   sh frontend/e2e/run.sh [playwright test args]      (from anywhere; `make ui-e2e`)
#
# Installs Debian's chromium if /usr/bin/chromium is missing and the npm packages if
# node_modules is missing, builds the UI, then runs e2e/stack.py under
# `python -m oms.launcher run --throwaway` with Django serving frontend/dist at `/`. Screenshots, the Playwright report and every role's log go to
# test-artifacts/ (git-ignored).
set -eu
FRONTEND=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(cd "$FRONTEND/.." && pwd)
PY="$ROOT/.venv/bin/python"

[ -x "$PY" ] || { echo "e2e: $PY is missing: run 'make venv' first" >&2; exit 2; }
command -v npm >/dev/null || { echo "e2e: npm is missing (Node 20 is needed)" >&2; exit 2; }
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cd "$FRONTEND"
[ -d node_modules ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
npm run build --silent
rm -rf "$ROOT/test-artifacts/e2e"
cd "$ROOT"
exec "$PY" -m oms.launcher run --throwaway -- "$PY" "$FRONTEND/e2e/stack.py" "$@"
