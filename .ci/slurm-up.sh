#!/usr/bin/env bash
# Starts a one-node Slurm cluster on loopback for the Slurm executor's tests.
#
#   bash .ci/slurm-up.sh DIR
#
# Installs slurm-wlm and munge if they are missing (apt, retried once), writes slurm.conf and
# the daemons' state under DIR, starts munged (unless a working one is already running),
# slurmctld and slurmd, and waits until the node is idle. It writes DIR/env (SLURM_CONF and
# MOHAQ_SLURM=1, to be sourced) and DIR/pids (the pids .ci/slurm-down.sh stops). Fails with a
# message naming the daemon and its log when something does not come up.
set -euo pipefail

dir=${1:?usage: slurm-up.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
say() { echo "slurm-up: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        say "slurm-wlm and munge already installed"
        return
    fi
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    local attempt
    for attempt in 1 2; do
        if apt-get update -qq </dev/null && apt-get install -y -qq slurm-wlm munge </dev/null >/dev/null; then
            return
        fi
        say "apt failed (attempt $attempt)"
        sleep 5
    done
    fail "could not install slurm-wlm and munge with apt"
}

install_packages

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
ctld_port=${MOHAQ_SLURMCTLD_PORT:-6817}
d_port=${MOHAQ_SLURMD_PORT:-6818}
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
: > "$dir/pids"

cat > "$dir/slurm.conf" <<CONF
# One-node cluster on loopback, written by .ci/slurm-up.sh.
ClusterName=mohaq-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

# munge: reuse a working daemon, else start one (as root it needs --force).
if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
else
    [ -s /etc/munge/munge.key ] || fail "no /etc/munge/munge.key (the munge package creates it)"
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    munged --force --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
        || fail "munged did not start; see $dir/log/munged.log"
    for _ in $(seq 1 50); do
        munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.2
    done
    munge -n </dev/null | unmunge >/dev/null || fail "munge does not answer; see $dir/log/munged.log"
    echo "munged $(cat "$dir/munged.pid")" >> "$dir/pids"
    say "munged started (pid $(cat "$dir/munged.pid"))"
fi

wait_for_pidfile() { # name file
    for _ in $(seq 1 100); do
        [ -s "$2" ] && kill -0 "$(cat "$2")" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$1 did not start; see $dir/log/$1.log"
}

slurmctld -f "$SLURM_CONF" -i </dev/null || fail "slurmctld did not start; see $dir/log/slurmctld.log"
wait_for_pidfile slurmctld "$dir/slurmctld.pid"
echo "slurmctld $(cat "$dir/slurmctld.pid")" >> "$dir/pids"
say "slurmctld started (pid $(cat "$dir/slurmctld.pid"))"
slurmd -f "$SLURM_CONF" -N "$host" </dev/null || fail "slurmd did not start; see $dir/log/slurmd.log"
wait_for_pidfile slurmd "$dir/slurmd.pid"
echo "slurmd $(cat "$dir/slurmd.pid")" >> "$dir/pids"
say "slurmd started (pid $(cat "$dir/slurmd.pid"))"

state=""
for _ in $(seq 1 60); do
    state=$(sinfo -h -N -n "$host" -o %t 2>/dev/null | head -n1 || true)
    [ "$state" = "idle" ] && break
    sleep 1
done
[ "$state" = "idle" ] || fail "node $host is '${state:-unreachable}' after 60 s, not idle; see $dir/log/slurmctld.log and $dir/log/slurmd.log"
say "node $host idle with $cpus CPUs ($mem_mb MB); SLURM_CONF=$SLURM_CONF"

cat > "$dir/env" <<ENV
export SLURM_CONF='$SLURM_CONF'
export MOHAQ_SLURM=1
ENV
