#!/usr/bin/env bash
# Stops the daemons .ci/slurm-up.sh DIR started, by the pids it recorded (never by name).
#
#   bash .ci/slurm-down.sh DIR
set -uo pipefail

dir=${1:?usage: slurm-down.sh DIR}
[ -f "$dir/pids" ] || exit 0
# Stop in reverse start order: slurmd, slurmctld, munged.
tac "$dir/pids" | while read -r name pid; do
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
        echo "slurm-down: stopped $name (pid $pid)" >&2
    fi
done
: > "$dir/pids"
