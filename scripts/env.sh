# shellcheck shell=bash
# Source this file (`source scripts/env.sh`) to get the local-stack tools on PATH:
#   - <repo>/.local/bin (temporal CLI installed by scripts/setup.sh)
#   - Go (/usr/local/go/bin) when `go` is not already on PATH
#   - the scripts dir of the python3 that has moto (moto_server), which pyenv shims
#     or a non-login shell may not expose
# It exports REPO_ROOT, PYTHON3 (absolute interpreter path, used as MOTO_PYTHON too)
# and, when found, TEMPORAL_CLI and MOTO_SERVER. Safe to source more than once.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

_localstack_path_prepend() {
  case ":$PATH:" in
    *":$1:"*) ;;
    *) [ -d "$1" ] && PATH="$1:$PATH" ;;
  esac
  return 0
}

_localstack_path_prepend "$REPO_ROOT/.local/bin"
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH="$PATH:/usr/local/go/bin"
fi

# python3: the first interpreter (PATH, pyenv shims, pyenv versions, /usr) that already has
# moto and flask, else the first one that runs. Printed as its real path (sys.executable), so
# pyenv shims resolve to the interpreter whose scripts dir holds moto_server.
_localstack_find_python() {
  local p first=""
  for p in "$(command -v python3 2>/dev/null || true)" \
           "${PYENV_ROOT:-$HOME/.pyenv}/shims/python3" \
           $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/python3 2>/dev/null | sort -rV) \
           /usr/local/bin/python3 /usr/bin/python3; do
    [ -n "$p" ] && [ -x "$p" ] || continue
    if "$p" -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("moto") and u.find_spec("flask") else 1)' >/dev/null 2>&1; then
      "$p" -c 'import sys; print(sys.executable)'
      return 0
    fi
    [ -z "$first" ] && "$p" -c 'import sys' >/dev/null 2>&1 && first="$p"
  done
  [ -n "$first" ] || return 1
  "$first" -c 'import sys; print(sys.executable)'
}
if PYTHON3="$(_localstack_find_python)"; then
  export PYTHON3
  export MOTO_PYTHON="${MOTO_PYTHON:-$PYTHON3}"
  _localstack_path_prepend "$(dirname "$PYTHON3")"
  # pip's scripts dir for that interpreter, the user-scheme one and the project's fallback venv
  for _d in "$("$PYTHON3" -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)" \
            "$("$PYTHON3" -c 'import site; print(site.getuserbase())' 2>/dev/null)/bin" \
            "$REPO_ROOT/.local/venv/bin"; do
    [ -n "$_d" ] && _localstack_path_prepend "$_d"
  done
  unset _d
else
  unset PYTHON3
fi
export PATH

if [ -z "${TEMPORAL_CLI:-}" ] && [ -x "$REPO_ROOT/.local/bin/temporal" ]; then
  export TEMPORAL_CLI="$REPO_ROOT/.local/bin/temporal"
fi
if [ -z "${MOTO_SERVER:-}" ]; then
  if [ -x "$REPO_ROOT/.local/venv/bin/moto_server" ]; then
    export MOTO_SERVER="$REPO_ROOT/.local/venv/bin/moto_server"
  elif command -v moto_server >/dev/null 2>&1; then
    MOTO_SERVER="$(command -v moto_server)"
    export MOTO_SERVER
  fi
fi
unset -f _localstack_path_prepend _localstack_find_python

# The project supports Node 20 (the LTS this machine image and CI ship; package.json engines
# >=20) with the AWS SDK versions pinned in package-lock.json. Those SDK builds print a
# NodeVersionSupportWarning block in every process about their successors needing Node 22;
# it says nothing about the pinned versions, so it is switched off here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
