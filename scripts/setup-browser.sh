#!/usr/bin/env bash
# Installs Debian's chromium for the Web UI test (test/e2e/webUi.test.ts drives it headless through
# playwright-core, which downloads no browser of its own). Idempotent: does nothing when
# $CHROMIUM or /usr/bin/chromium is there. Without root or sudo it prints what to run and carries
# on (exit 0): only that one test needs the browser.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
log() { echo "[setup] $*"; }

if [ -x "$CHROMIUM" ]; then
  log "chromium present: $CHROMIUM"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  log "WARNING: $CHROMIUM not found and apt-get is not available; install Chromium and set CHROMIUM=/path/to/chromium for test/e2e/webUi.test.ts"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  log "WARNING: $CHROMIUM not found; install it with: sudo apt-get install -y chromium (needed by test/e2e/webUi.test.ts only)"
  exit 0
fi
log "chromium not found: installing Debian's chromium (apt-get install -y chromium)"
# Keep the output: a failing apt-get says why (no network, a held package) better than we could.
"${SUDO[@]}" apt-get update -qq || log "WARNING: apt-get update failed; trying the install with the package lists there are"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium || {
  echo "[setup] ERROR: apt-get install -y chromium failed (see above); test/e2e/webUi.test.ts needs it" >&2
  exit 1
}
[ -x "$CHROMIUM" ] || { echo "[setup] ERROR: installed chromium, but $CHROMIUM is still missing; set CHROMIUM to its path" >&2; exit 1; }
log "installed $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
