#!/usr/bin/env bash
# Install the mlgate engine into an isolated virtual environment and put only `mlgate` on PATH,
# so the project's own Python (which trains the models) stays untouched.
#
# Every composite action of mlgate runs this first; after the setup action it is a no-op.
# Inputs arrive as environment variables (never expanded into this script's text):
#   MLGATE_PYTHON   interpreter for the virtual environment (default: python3)
#   MLGATE_VERSION  install this release from the package index instead of the action's source
#   MLGATE_HOME     where the environment goes (default: see below)
#
# The engine goes in with its `serve` extra: publish and release pin what `mlgate serve` needs
# at the versions installed beside it.
# Without MLGATE_HOME, on a runner with a tool cache (where setup-python keeps its interpreters:
# AGENT_TOOLSDIRECTORY, else RUNNER_TOOL_CACHE, read as setup-python reads them) the environment
# lives there, named by what it holds (the mlgate source's digest or release, and the
# interpreter): a runner that keeps its tool cache between jobs (self-hosted) installs once and
# later jobs reuse it; a fresh hosted runner installs every time. Elsewhere: $RUNNER_TEMP/mlgate.
set -euo pipefail

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

emit() {  # emit NAME VALUE: one step output, heredoc form so any value is safe
  [ -n "${GITHUB_OUTPUT:-}" ] || return 0
  local delimiter="ghadelimiter_${RANDOM}${RANDOM}${RANDOM}${RANDOM}"
  printf '%s<<%s\n%s\n%s\n' "$1" "$delimiter" "$2" "$delimiter" >> "$GITHUB_OUTPUT"
}

if [ -n "${MLGATE_BIN:-}" ] && [ -x "$MLGATE_BIN" ] && version="$("$MLGATE_BIN" --version 2>/dev/null)"; then
  echo "mlgate already set up: $MLGATE_BIN ($version)"
  emit mlgate-path "$MLGATE_BIN"
  emit version "${version##* }"
  # The venv's interpreter sits beside the real mlgate script the link in bin/ points to.
  venv_python="$(dirname "$(readlink -f "$MLGATE_BIN")")/python"
  if [ -x "$venv_python" ]; then
    emit python-path "$venv_python"
  fi
  exit 0
fi

python="${MLGATE_PYTHON:-python3}"
if [ -n "${MLGATE_VERSION:-}" ]; then
  if ! [[ "$MLGATE_VERSION" =~ ^[0-9]+(\.[0-9]+)*([a-z]+[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$ ]]; then
    echo "::error title=mlgate setup::version must look like 1.2.3, got: $MLGATE_VERSION"
    exit 2
  fi
  spec="mlgate[serve]==$MLGATE_VERSION"
  what="mlgate-$MLGATE_VERSION"
else
  spec="${source_dir}[serve]"
  # Every file the wheel is built from, so an edited source never reuses a stale environment.
  built_from=()
  for part in pyproject.toml README.md src; do
    if [ -e "$source_dir/$part" ]; then built_from+=("$part"); fi
  done
  what="source-$(cd "$source_dir" && find "${built_from[@]}" -type f ! -name '*.pyc' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
fi

interpreter="$("$python" -c 'import platform, sys; print(platform.python_version(), sys.base_prefix)')"
if [ -n "${MLGATE_HOME:-}" ]; then
  home="$MLGATE_HOME"
elif tools="${AGENT_TOOLSDIRECTORY:-${RUNNER_TOOL_CACHE:-}}" && [ -n "$tools" ] \
    && [ -d "$tools" ] && [ -w "$tools" ]; then
  home="$tools/mlgate/$what-py${interpreter%% *}-$(printf '%s' "$interpreter" | sha256sum | cut -c1-8)"
else
  home="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate"
fi

mkdir -p "$(dirname "$home")"
if command -v flock >/dev/null; then  # two runners sharing one tool cache install in turn
  exec 9>"$home.lock"
  flock 9
fi
if [ "$(cat "$home/.complete" 2>/dev/null)" = "$what $interpreter" ] && [ -x "$home/bin/mlgate" ] \
    && version="$("$home/bin/mlgate" --version 2>/dev/null)"; then
  echo "mlgate reused from $home ($version)"
else
  echo "::group::Install mlgate into $home/venv"
  rm -f "$home/.complete"
  "$python" -m venv --clear "$home/venv"
  "$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$home/venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$spec"
  echo "::endgroup::"
  mkdir -p "$home/bin"
  ln -sf "$home/venv/bin/mlgate" "$home/bin/mlgate"
  version="$("$home/bin/mlgate" --version)"
  echo "$what $interpreter" > "$home/.complete"
  echo "installed $version"
fi

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$home/bin" >> "$GITHUB_PATH"
fi
if [ -n "${GITHUB_ENV:-}" ]; then
  echo "MLGATE_BIN=$home/bin/mlgate" >> "$GITHUB_ENV"
fi
export MLGATE_BIN="$home/bin/mlgate"
emit mlgate-path "$home/bin/mlgate"
emit version "${version##* }"
emit python-path "$home/venv/bin/python"
