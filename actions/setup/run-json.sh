# Sourced by the wrapper actions: `run_json TITLE ARGS...` runs `mlgate ARGS` (ARGS carry `--json`
# before any `--` that ends the options) and hands the result to the runner:
#   - the JSON result in a file, shown folded in the log; outputs `result` (the JSON, `null` when
#     the command failed before printing one), `result-file` (its path) and `exit-code`;
#   - progress and errors stream to the log as they come; on failure the error becomes an
#     `::error` annotation titled "mlgate TITLE";
#   - a job summary section with the outcome, the error and the JSON result (folded).
# Returns mlgate's exit code.
# shellcheck shell=bash
run_json() {
  local name="$1"
  shift
  local file err tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
  file="$(mktemp "$tmp/mlgate-${name// /-}-result-XXXXXX")"
  err="$(mktemp "$tmp/mlgate-${name// /-}-stderr-XXXXXX")"
  local -a codes=(1)
  # stdout (the JSON) to the file; stderr both to the log, live, and to a file for the error.
  {
    "${MLGATE_BIN:-mlgate}" "$@" 2>&1 1>&3 3>&- | tee "$err" >&2
    codes=("${PIPESTATUS[@]}")
  } 3> "$file" || true
  local status="${codes[0]}"
  [ -s "$file" ] || echo null > "$file"
  echo "::group::mlgate $name: result"
  cat "$file"
  echo "::endgroup::"
  local error=""
  if [ "$status" -ne 0 ]; then
    # mlgate's handler prints "error: ...", click's usage errors "Error: ..."; keep what follows.
    error="$(sed -n '/^[Ee]rror: /,$p' "$err")"
    # Exit 1 without an error is a verdict: the command annotated its failed checks itself.
    if [ -z "$error" ] && [ "$status" -ne 1 ]; then
      error="$(tail -n 20 "$err")"
      [ -n "$error" ] || error="mlgate $name exited with $status"
    fi
  fi
  if [ -n "$error" ]; then
    echo "::error $(_run_json_where "${error%%$'\n'*}")title=mlgate $name::$(_run_json_escape "$error")"
  fi
  local delimiter="ghadelimiter_${RANDOM}${RANDOM}${RANDOM}${RANDOM}"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      printf 'result<<%s\n%s\n%s\n' "$delimiter" "$(cat "$file")" "$delimiter"
      printf 'result-file=%s\n' "$file"
      printf 'exit-code=%s\n' "$status"
    } >> "$GITHUB_OUTPUT"
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      if [ "$status" -eq 0 ]; then
        printf '### mlgate %s: done\n\n' "$name"
      else
        printf '### mlgate %s: failed (exit code %s)\n\n' "$name" "$status"
        [ -z "$error" ] || printf '~~~~text\n%s\n~~~~\n\n' "$error"
      fi
      printf '<details><summary>Result (JSON)</summary>\n\n~~~~json\n'
      # A long result (the state of a large registry) is cut; the file has all of it.
      printf '%s\n~~~~\n\n</details>\n\n' "$(head -c 60000 "$file")"
    } >> "$GITHUB_STEP_SUMMARY"
  fi
  rm -f "$err"
  return "$status"
}

# Workflow command data: %, CR and LF escaped (a value can never start a command of its own).
_run_json_escape() {
  local value="${1//'%'/%25}"
  value="${value//$'\r'/%0D}"
  printf '%s' "${value//$'\n'/%0A}"
}

# "file=...,line=...,col=...," of an error that names a place ("error: FILE:LINE:COL (key):
# message"), the file relative to the workspace, so the annotation sits on that line; else "".
_run_json_where() {
  local file line col=""
  if [[ $1 =~ ^[Ee]rror:\ (.+):([0-9]+):([0-9]+)(\ \([^\)]*\))?:\  ]]; then
    file="${BASH_REMATCH[1]}" line="${BASH_REMATCH[2]}" col="${BASH_REMATCH[3]}"
  elif [[ $1 =~ ^[Ee]rror:\ (.+):([0-9]+)(\ \([^\)]*\))?:\  ]]; then
    file="${BASH_REMATCH[1]}" line="${BASH_REMATCH[2]}"
  else
    return 0
  fi
  file="${file#"${GITHUB_WORKSPACE:-$PWD}"/}"
  file="$(_run_json_escape "$file")"
  file="${file//:/%3A}"
  printf 'file=%s,line=%s,' "${file//,/%2C}" "$line"
  [ -z "$col" ] || printf 'col=%s,' "$col"
}
