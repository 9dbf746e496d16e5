#!/usr/bin/env bash
# `make engines-down`: stop exactly the processes `make engines-up` started, by their pid files. A pid
# whose command line does not name the engines folder (a reused pid) is not ours and is left alone.
set -uo pipefail
cd "$(dirname "$0")/.."
ENGINES=$(cd "${ENGINES:-.engines}" 2>/dev/null && pwd) || exit 0
shopt -s nullglob
for pidfile in "$ENGINES"/run/*.pid; do
    name=$(basename "$pidfile" .pid) pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$ENGINES"; then
        kill -TERM "$pid"
        for ((i = 0; i < 30 && $(kill -0 "$pid" 2>/dev/null && echo 1 || echo 0); i++)); do sleep 1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "engines: $name stopped (pid $pid)"
    fi
    rm -f "$pidfile"
done
