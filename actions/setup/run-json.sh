# Sourced by the wrapper actions: run_json NAME ARGS... runs `mlgate ARGS --json`, keeps the
# JSON result in a file, shows it folded in the log, and sets the outputs `result` (the JSON)
# and `result-file` (its path). The exit code is mlgate's.
# shellcheck shell=bash
run_json() {
  local name="$1"
  shift
  local file="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-$name-$$.json"
  local status=0
  "${MLGATE_BIN:-mlgate}" "$@" --json > "$file" || status=$?
  echo "::group::mlgate $name: result"
  cat "$file"
  echo "::endgroup::"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    local delimiter="ghadelimiter_${RANDOM}${RANDOM}${RANDOM}${RANDOM}"
    {
      printf 'result<<%s\n' "$delimiter"
      cat "$file"
      printf '\n%s\n' "$delimiter"
      printf 'result-file=%s\n' "$file"
      printf 'exit-code=%s\n' "$status"
    } >> "$GITHUB_OUTPUT"
  fi
  return "$status"
}
