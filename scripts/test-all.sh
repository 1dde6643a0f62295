#!/usr/bin/env bash
# Installs the local-stack tools (temporal CLI, moto, node_modules) and runs
# the test suite, whose tests start their own temporal dev server / moto server on free ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== setup"
bash scripts/setup.sh

# setup.sh ran in a child shell: put .local/bin, Go and python3's scripts dir (moto_server)
# on PATH here too; CI's non-login shell may have no pyenv shims.
# shellcheck source=scripts/env.sh
source scripts/env.sh
echo "== tools: temporal=$(command -v temporal || echo missing) MOTO_SERVER=${MOTO_SERVER:-unset} PYTHON3=${PYTHON3:-unset}"

echo "== typecheck"
npm run typecheck

echo "== lint"
npm run lint

echo "== test"
npm test
