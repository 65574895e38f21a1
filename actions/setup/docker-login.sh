# Sourced by the steps that push images: `docker_login REGISTRY USERNAME PASSWORD` logs in for
# this step only. The login goes to a private copy of the docker configuration (DOCKER_CONFIG,
# which the docker CLI and the docker SDK both read) that is deleted when the step ends, so the
# password never stays on the runner and logins made by earlier steps keep working (a
# configuration that names a credential store, "credsStore", keeps the login in that store).
# An empty REGISTRY or PASSWORD skips the login (docker's own configuration is used as it is).
# shellcheck shell=bash
docker_login() {
  local registry="$1" username="$2" password="$3"
  if [ -z "$registry" ] || [ -z "$password" ]; then
    return 0
  fi
  echo "::add-mask::$password"
  local own="${DOCKER_CONFIG:-${HOME:-}/.docker}"
  mlgate_docker_config="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mlgate-docker-XXXXXX")"
  trap 'rm -rf "$mlgate_docker_config"' EXIT
  if [ -f "$own/config.json" ]; then
    cp "$own/config.json" "$mlgate_docker_config/config.json"
  fi
  local sub
  for sub in contexts cli-plugins; do
    if [ -d "$own/$sub" ]; then
      ln -s "$own/$sub" "$mlgate_docker_config/$sub"
    fi
  done
  export DOCKER_CONFIG="$mlgate_docker_config"
  printf 'docker login %q (for this step only)\n' "$registry"
  printf '%s' "$password" | docker login "$registry" --username "$username" --password-stdin
}
