#!/bin/sh
# Chooses the process by the container's command: api (default), worker or migrate.
# `exec` replaces the shell, so tini's signals reach node directly.
set -eu
role="${1:-api}"
case "$role" in
  api)     exec node --import tsx services/api/main.ts ;;
  worker)  exec node --import tsx services/worker/main.ts ;;
  migrate) exec node --import tsx services/migrations/main.ts ;;
  *)       exec "$@" ;;
esac
