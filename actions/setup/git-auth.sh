# Sourced by the steps that push registry tags: git authenticates with the token through
# environment configuration that lives only as long as the step's processes. Nothing is written
# to .git/config, so checkouts keep `persist-credentials: false`.
# shellcheck shell=bash
if [ -n "${GITHUB_TOKEN:-}" ]; then
  echo "::add-mask::$GITHUB_TOKEN"
  mlgate_basic="$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')"
  echo "::add-mask::$mlgate_basic"
  export GIT_CONFIG_COUNT=1
  export GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $mlgate_basic"
  unset mlgate_basic
fi
