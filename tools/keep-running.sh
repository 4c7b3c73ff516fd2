#!/bin/sh
# Start a command again whenever it stops, as systemd's Restart=always would, except after exit
# code 2 (a start-up problem such as a wrong key or DATABASE_URL: fix it first) or 126/127 (the
# command cannot be run). Used by the
# Procfile's worker and standby, because honcho stops the whole stack when one process ends.
while :; do
  "$@"
  rc=$?
  case "$rc" in
    2|126|127) exit "$rc" ;;
  esac
  echo "keep-running: '$*' stopped (exit $rc); starting it again in 2 s" >&2
  sleep 2
done
