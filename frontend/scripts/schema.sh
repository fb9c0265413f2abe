#!/bin/sh
# Types of the REST API from the Django OpenAPI schema (drf-spectacular).
#   sh scripts/schema.sh write   regenerate src/services/schema.d.ts
#   sh scripts/schema.sh check   regenerate into a temporary file and diff (exit 1 on drift)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(cd .. && pwd)
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "schema: $PY is missing (run 'make venv' at the repository root)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$ROOT" && "$PY" manage.py spectacular --file "$TMP/schema.yml")
npx openapi-typescript "$TMP/schema.yml" --output "$TMP/schema.d.ts" >/dev/null
case "${1:-check}" in
  write) cp "$TMP/schema.d.ts" src/services/schema.d.ts; echo "wrote src/services/schema.d.ts" ;;
  check)
    if diff -u src/services/schema.d.ts "$TMP/schema.d.ts"; then
      echo "schema: src/services/schema.d.ts matches the API"
    else
      echo "schema: src/services/schema.d.ts is stale; run 'npm run gen-schema'" >&2; exit 1
    fi ;;
  *) echo "usage: $0 write|check" >&2; exit 2 ;;
esac
