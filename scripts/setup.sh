#!/usr/bin/env bash
# Installs what the local stack needs, skipping whatever is already there:
#   1. node_modules    `npm ci` when node_modules is missing or older than package-lock.json
#   2. temporal CLI    v1.5.1 in .local/bin: reuses a v1.5.1 binary from PATH / $(go env GOPATH)/bin
#                      (symlinked), else builds it with `go install -v` (needs Go >= 1.25, several
#                      minutes; a progress line every 15 s, the full output in .local/log/)
#   3. moto server     `python3 -m pip install` of whichever of 'moto[server]==5.*' and pyarrow is
#                      missing, saying which and why (falls back to a venv in .local/venv on an
#                      externally-managed Python); checks that scripts/moto_ranged.py can patch it
# Idempotent; a no-op run takes about a second. Afterwards `source scripts/env.sh` puts the
# tools on PATH. Exits non-zero with the failing command's own error output on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

TEMPORAL_CLI_VERSION=1.5.1
TEMPORAL_CLI_MODULE=github.com/temporalio/cli
# pyarrow: the tests read our Parquet output with an independent reader.
PY_REQUIREMENTS=('moto[server]==5.*' 'pyarrow')
MOTO_REQUIREMENT="${PY_REQUIREMENTS[*]}"
LOCAL_BIN="$ROOT/.local/bin"
LOG_DIR="$ROOT/.local/log"

log() { echo "[setup] $*"; }
die() {
  echo "[setup] ERROR: $*" >&2
  exit 1
}

# Runs a command with its output going to .local/log/<name>.log, printing a progress line every
# 15 s while it runs (with how many lines of output it has written: `go install -v` writes one per
# package built), so a long build is visibly alive without flooding the terminal. On failure it
# repeats the tail of that output under a clear ERROR line and returns the command's status.
run_logged() {
  local name=$1
  shift
  mkdir -p "$LOG_DIR"
  local logfile="$LOG_DIR/$name.log"
  log "+ $*   (output: $logfile)"
  local rc=0 start=$SECONDS
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if kill -0 "$pid" 2>/dev/null && [ $(((SECONDS - start) % 15)) -eq 0 ]; then
      log "  … still running after $((SECONDS - start)) s ($(wc -l <"$logfile") lines of output so far)"
    fi
  done
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "[setup] ERROR: command failed with exit code $rc: $*" >&2
    echo "[setup] ---- last lines of its output ($logfile) ----" >&2
    tail -n 40 "$logfile" >&2
    return "$rc"
  fi
  log "  done in $((SECONDS - start)) s"
}

# ---------------------------------------------------------------- 1. node_modules
setup_node() {
  command -v npm >/dev/null 2>&1 || die "npm not found on PATH (Node 20 is required)"
  if [ ! -d node_modules ]; then
    log "node_modules is missing: running npm ci"
  elif [ ! -e node_modules/.package-lock.json ]; then
    log "node_modules has no .package-lock.json (not made by npm ci/install): running npm ci"
  elif [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "package-lock.json is newer than node_modules: running npm ci"
  else
    log "node_modules is up to date with package-lock.json"
    return 0
  fi
  run_logged npm-ci npm ci --no-audit --no-fund || die "npm ci failed (see above)"
}

# ---------------------------------------------------------------- 2. temporal CLI
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

# True when $1 is a temporal CLI of version $TEMPORAL_CLI_VERSION. Release builds report
# "temporal version 1.5.1 (...)"; a plain `go install` build reports 0.0.0-DEV, so then the
# Go build info (`go version -m`) must name the module at v1.5.1.
temporal_ok() {
  local bin=$1 version go
  [ -n "$bin" ] && [ -x "$bin" ] || return 1
  version="$("$bin" --version 2>/dev/null)" || return 1
  case "$version" in
    "temporal version $TEMPORAL_CLI_VERSION "* | "temporal version $TEMPORAL_CLI_VERSION") return 0 ;;
  esac
  if [[ "$version" == *0.0.0-DEV* ]] && go="$(find_go)"; then
    "$go" version -m "$bin" 2>/dev/null |
      grep -qE "^[[:space:]]+mod[[:space:]]+${TEMPORAL_CLI_MODULE//./\\.}[[:space:]]+v${TEMPORAL_CLI_VERSION//./\\.}([[:space:]]|$)" &&
      return 0
  fi
  return 1
}

setup_temporal() {
  local target="$LOCAL_BIN/temporal"
  if temporal_ok "$target"; then
    log "temporal CLI $TEMPORAL_CLI_VERSION present: $target"
    return 0
  fi
  if [ -e "$target" ] || [ -L "$target" ]; then
    log "ignoring $target: not temporal CLI $TEMPORAL_CLI_VERSION ($("$target" --version 2>&1 | head -n 1 || true))"
  fi

  local candidates=() go gopath cand
  cand="$(PATH="${PATH//$LOCAL_BIN:/}" command -v temporal 2>/dev/null || true)"
  [ -n "$cand" ] && candidates+=("$cand")
  if go="$(find_go)"; then
    gopath="$("$go" env GOPATH 2>/dev/null | cut -d: -f1 || true)"
    [ -n "$gopath" ] && candidates+=("$gopath/bin/temporal")
  fi
  candidates+=("$HOME/go/bin/temporal" /root/go/bin/temporal)
  for cand in "${candidates[@]}"; do
    if temporal_ok "$cand"; then
      cand="$(readlink -f "$cand")"
      mkdir -p "$LOCAL_BIN"
      ln -sfn "$cand" "$target"
      log "temporal CLI $TEMPORAL_CLI_VERSION found at $cand: linked it as $target"
      return 0
    fi
  done

  go="$(find_go)" || die "temporal CLI $TEMPORAL_CLI_VERSION not found and Go is not installed to build it. Install Go >= 1.25 (or put a temporal CLI $TEMPORAL_CLI_VERSION on PATH / set TEMPORAL_CLI) and re-run scripts/setup.sh"
  log "temporal CLI $TEMPORAL_CLI_VERSION not found: building it with $go ($("$go" env GOVERSION)); this takes several minutes"
  mkdir -p "$LOCAL_BIN"
  rm -f "$target"
  # -X sets the version that `temporal --version` reports, as the release builds do
  GOBIN="$LOCAL_BIN" run_logged go-install-temporal "$go" install -v \
    -ldflags "-s -w -X $TEMPORAL_CLI_MODULE/temporalcli.Version=$TEMPORAL_CLI_VERSION" \
    "$TEMPORAL_CLI_MODULE/cmd/temporal@v$TEMPORAL_CLI_VERSION" ||
    die "go install of temporal CLI v$TEMPORAL_CLI_VERSION failed (see above)"
  temporal_ok "$target" || die "built $target but it does not report version $TEMPORAL_CLI_VERSION: $("$target" --version 2>&1 || true)"
  log "installed $("$target" --version) at $target"
}

# ---------------------------------------------------------------- 3. moto
# Prints, one per line, the pip requirements that interpreter $1 lacks, each with why
# ("requirement<TAB>reason"); prints nothing when moto 5 with its server extras and pyarrow import.
python_missing() {
  "$1" - <<'PY' 2>/dev/null || printf 'moto[server]==5.*\t%s did not run\npyarrow\t%s did not run\n' "$1" "$1"
missing = []
try:
    import moto
    if not moto.__version__.startswith("5."):
        missing.append(("moto[server]==5.*", "moto %s is installed, 5.x is needed" % moto.__version__))
    else:
        try:
            import moto.server  # noqa: F401  (needs the [server] extras: flask, werkzeug, ...)
        except Exception as err:
            missing.append(("moto[server]==5.*", "moto %s is installed without its server extras (%s)" % (moto.__version__, err)))
except ImportError:
    missing.append(("moto[server]==5.*", "moto is not installed"))
try:
    import pyarrow  # noqa: F401
except ImportError:
    missing.append(("pyarrow", "pyarrow is not installed"))
for req, why in missing:
    print("%s\t%s" % (req, why))
PY
}

moto_ok() {
  local py=$1
  [ -n "$py" ] && [ -x "$py" ] || return 1
  [ -z "$(python_missing "$py")" ]
}

setup_moto() {
  local venv="$ROOT/.local/venv"
  [ -n "${PYTHON3:-}" ] || die "python3 not found (looked on PATH, in pyenv and /usr/bin); install Python 3 with pip"
  if moto_ok "$PYTHON3"; then
    log "moto $("$PYTHON3" -c 'import moto; print(moto.__version__)') with server extras, and pyarrow, present for $PYTHON3"
    return 0
  fi
  if moto_ok "$venv/bin/python3"; then
    log "moto with server extras, and pyarrow, present in $venv"
    return 0
  fi
  local missing reqs=()
  missing="$(python_missing "$PYTHON3")"
  while IFS=$'\t' read -r req why; do
    log "$PYTHON3: $why"
    reqs+=("$req")
  done <<<"$missing"
  log "installing ${reqs[*]}"
  if run_logged pip-moto "$PYTHON3" -m pip install --disable-pip-version-check "${reqs[@]}"; then
    :
  elif grep -q 'externally-managed-environment' "$LOG_DIR/pip-moto.log"; then
    log "$PYTHON3 is externally managed: installing moto into the venv $venv instead"
    [ -x "$venv/bin/python3" ] || run_logged venv "$PYTHON3" -m venv "$venv" ||
      die "could not create $venv (on Debian: apt-get install python3-venv)"
    run_logged pip-moto-venv "$venv/bin/python3" -m pip install --disable-pip-version-check "${PY_REQUIREMENTS[@]}" ||
      die "pip install of $MOTO_REQUIREMENT into $venv failed (see above)"
    moto_ok "$venv/bin/python3" || die "installed $MOTO_REQUIREMENT into $venv but it still lacks: $(python_missing "$venv/bin/python3" | cut -f2 | paste -sd ';')"
    return 0
  else
    die "pip install of ${reqs[*]} failed (see above)"
  fi
  moto_ok "$PYTHON3" || die "installed ${reqs[*]} but $PYTHON3 still lacks: $(python_missing "$PYTHON3" | cut -f2 | paste -sd ';')"
}

# The local stack's moto (tests, demo, benchmark; MOTO_RANGED=0 for stock moto) runs through scripts/moto_ranged.py (GetObject reads only the range asked
# for), which patches moto's internals: say whether they are as it expects. If not, it serves as
# stock moto: correct, only slower.
check_moto_ranged() {
  local py="$PYTHON3" why
  moto_ok "$py" || py="$ROOT/.local/venv/bin/python3"
  if why="$("$py" "$ROOT/scripts/moto_ranged.py" --check 2>&1)"; then
    log "ranged moto (scripts/moto_ranged.py): its patches apply to this moto"
  else
    log "WARNING: scripts/moto_ranged.py will serve as stock moto: $why"
  fi
}

setup_node
setup_temporal
setup_moto
check_moto_ranged
bash "$ROOT/scripts/setup-browser.sh" # 4. Debian's chromium, for the Web UI test

# re-source so the summary sees what was just installed
unset MOTO_SERVER TEMPORAL_CLI
source "$ROOT/scripts/env.sh"
log "ready: temporal=$(command -v temporal || echo '?') moto_server=${MOTO_SERVER:-"$PYTHON3 -m moto.server"}"
log "for your shell: source scripts/env.sh"
