# shellcheck shell=bash
# Starts the portal (app on :3000, backend on :7007) in the background for the
# end-to-end tests, and stops it again. MODELOPS_BACKSTAGE_PACKAGES=backend
# starts the backend alone.

modelops_backstage_start() {
  local log=$1
  shift
  local packages=${MODELOPS_BACKSTAGE_PACKAGES:-} ports=(3000 7007)
  [ "$packages" = backend ] && ports=(7007)
  for port in "${ports[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "modelops: port $port is already in use; stop whatever serves it (a running ./scripts/start?) and retry" >&2
      return 1
    fi
  done
  local configs=()
  for c in "$@"; do configs+=(--config "$PWD/$c"); done
  mkdir -p "$(dirname "$log")" data
  # shellcheck disable=SC2086
  setsid yarn backstage-cli repo start "${configs[@]}" $packages >"$log" 2>&1 &
  MODELOPS_BACKSTAGE_PID=$!
  export MODELOPS_BACKSTAGE_PID
  local deadline=$((SECONDS + 300))
  until curl -fsS -o /dev/null http://localhost:7007/.backstage/health/v1/readiness 2>/dev/null &&
    { [ "$packages" = backend ] || curl -fsS -o /dev/null http://localhost:3000/ 2>/dev/null; }; do
    if ! kill -0 "$MODELOPS_BACKSTAGE_PID" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "modelops: Backstage did not become ready; last lines of $log:" >&2
      tail -n 40 "$log" >&2
      modelops_backstage_stop
      return 1
    fi
    sleep 2
  done
  if [ "$packages" = backend ]; then
    echo "modelops: Backstage backend is up on http://localhost:7007" >&2
  else
    echo "modelops: Backstage is up (app http://localhost:3000, backend http://localhost:7007)" >&2
  fi
}

modelops_backstage_stop() {
  [ -n "${MODELOPS_BACKSTAGE_PID:-}" ] || return 0
  kill -TERM -- "-$MODELOPS_BACKSTAGE_PID" 2>/dev/null || true
  for _ in $(seq 1 20); do
    kill -0 -- "-$MODELOPS_BACKSTAGE_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$MODELOPS_BACKSTAGE_PID" 2>/dev/null || true
  unset MODELOPS_BACKSTAGE_PID
}
