#!/usr/bin/env bash
# local-slurm.sh — a throw-away one-node Slurm cluster for tests.
#
#   local-slurm.sh start    create DIR, start munged, slurmctld and slurmd, wait
#                           until the node is idle; prints `export SLURM_CONF=...`
#   local-slurm.sh stop     cancel this cluster's jobs, SIGTERM its daemons (by
#                           the pids recorded at start) and wait until they exit
#   local-slurm.sh status   the daemons' pids and whether each is alive; sinfo
#
# DIR is $DALE_SLURM_DIR (default /tmp/dale-slurm-$UID).  Everything lives under
# it: its own munge key and socket, slurm.conf, state, spool, logs, pid files.
# Nothing under /etc or /run is touched, so a system Slurm or munged can run
# beside it.  Environment:
#   DALE_SLURM_CPUS   CPUs the node announces (default: what slurmd -C finds);
#                     more than the cores lets several short array tasks run at
#                     once on a small machine (it oversubscribes the cores)
#   DALE_SLURM_PORT   slurmctld's port; slurmd takes the next one (default 6817)
# It must run as root (slurmd starts jobs as their user) and needs no systemd:
# the daemons are started directly and daemonize themselves.  Job isolation is
# off (proctrack/linuxproc, task/none: no cgroups), so --mem is not enforced.
set -euo pipefail

DIR=${DALE_SLURM_DIR:-/tmp/dale-slurm-$(id -u)}
CONF=$DIR/etc/slurm.conf
PORT=${DALE_SLURM_PORT:-6817}
say() { echo "local-slurm: $*" >&2; }

# wait_until SECONDS CMD... — run CMD every 0.2 s until it succeeds; 1 on timeout.
wait_until() {
    local end=$((SECONDS + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.2
    done
}

# alive PID NAME — PID runs a program whose name starts with NAME (so a pid
# reused by an unrelated process is never signalled).
alive() {
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
    case $comm in "$2"*) return 0 ;; *) return 1 ;; esac
}

node_idle() { [ "$(SLURM_CONF=$CONF timeout 10 sinfo -h -o %T 2>/dev/null | head -n 1)" = idle ]; }

start() {
    local d
    for d in munged slurmctld slurmd; do
        command -v "$d" >/dev/null || PATH=$PATH:/usr/sbin
        command -v "$d" >/dev/null || { say "$d is not installed (scripts/install-deps.sh installs slurm-wlm)"; exit 1; }
    done
    [ "$(id -u)" = 0 ] || { say "must run as root"; exit 1; }
    if [ -d "$DIR/pids" ] && status >/dev/null 2>&1; then say "already running under $DIR"; exit 1; fi
    rm -rf "$DIR"
    mkdir -p "$DIR"/{etc,state,spool/slurmd-localhost,log,pids,run} "$DIR"/munge/{key,lib,sock}
    # munged refuses a socket in a directory others cannot enter, and a key
    # that others can read: two directories with different modes
    chmod 0755 "$DIR" "$DIR/munge" "$DIR/munge/sock"
    chmod 0700 "$DIR/munge/key" "$DIR/munge/lib"
    local sock=$DIR/munge/sock/munge.socket.2
    mungekey -c -k "$DIR/munge/key/munge.key" 2>/dev/null \
        || dd if=/dev/urandom of="$DIR/munge/key/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$DIR/munge/key/munge.key"
    munged --key-file="$DIR/munge/key/munge.key" --socket="$sock" --pid-file="$DIR/run/munged.pid" \
        --seed-file="$DIR/munge/lib/munge.seed" --log-file="$DIR/log/munged.log"
    wait_until 10 test -s "$DIR/run/munged.pid" || { say "munged did not start: $DIR/log/munged.log"; exit 1; }
    cp "$DIR/run/munged.pid" "$DIR/pids/munged"

    # the node as slurmd sees it (sockets, cores, threads), named localhost
    # so that the file does not depend on this machine's hostname
    local topo cpus mem
    topo=$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //; s/ RealMemory=.*//')
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
    mem=$((${mem:-1024} * 9 / 10))
    local over=""
    if [ -n "${DALE_SLURM_CPUS:-}" ]; then
        # announce more CPUs than there are: slurmd takes the file's word for it
        topo="CPUs=$DALE_SLURM_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$DALE_SLURM_CPUS ThreadsPerCore=1"
        over="SlurmdParameters=config_overrides"
    fi
    cat >"$CONF" <<CONF
# one-node test cluster written by local-slurm.sh
ClusterName=dale$PORT
SlurmctldHost=localhost
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=1
MinJobAge=600
KillWait=5
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
$over
NodeName=localhost NodeAddr=127.0.0.1 $topo RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF=$CONF
    slurmctld -f "$CONF"
    wait_until 15 test -s "$DIR/run/slurmctld.pid" || { say "slurmctld did not start: $DIR/log/slurmctld.log"; exit 1; }
    cp "$DIR/run/slurmctld.pid" "$DIR/pids/slurmctld"
    slurmd -f "$CONF"
    wait_until 15 test -s "$DIR/run/slurmd.pid" || { say "slurmd did not start: $DIR/log/slurmd.log"; exit 1; }
    cp "$DIR/run/slurmd.pid" "$DIR/pids/slurmd"
    if ! wait_until 30 node_idle; then
        say "the node did not become idle: $(SLURM_CONF=$CONF timeout 10 sinfo -R 2>&1 | tail -n 1)"
        exit 1
    fi
    echo "export SLURM_CONF=$CONF"
}

stop() {
    [ -d "$DIR/pids" ] || { say "nothing started under $DIR"; return 0; }
    if [ -f "$CONF" ] && [ -f "$DIR/pids/slurmctld" ] && alive "$(cat "$DIR/pids/slurmctld")" slurmctld; then
        SLURM_CONF=$CONF timeout 10 scancel --user="$(id -un)" >/dev/null 2>&1 || true
    fi
    local name pid
    # slurmd first (it ends its job steps), the controller, munge last
    for name in slurmd slurmctld munged; do
        [ -f "$DIR/pids/$name" ] || continue
        pid=$(cat "$DIR/pids/$name")
        if alive "$pid" "$name"; then
            kill -TERM "$pid" 2>/dev/null || true
            if ! wait_until 20 eval "! alive $pid $name"; then
                say "$name ($pid) ignored SIGTERM for 20 s; SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                wait_until 5 eval "! alive $pid $name" || say "$name ($pid) is still there"
            fi
        fi
        rm -f "$DIR/pids/$name"
    done
}

status() {
    local name pid up=0
    for name in munged slurmctld slurmd; do
        pid=$(cat "$DIR/pids/$name" 2>/dev/null || echo "")
        if [ -n "$pid" ] && alive "$pid" "$name"; then echo "$name $pid running"; up=$((up + 1))
        else echo "$name ${pid:--} not running"; fi
    done
    [ -f "$CONF" ] && SLURM_CONF=$CONF timeout 10 sinfo 2>&1 || true
    [ "$up" -eq 3 ]
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status   (DALE_SLURM_DIR, DALE_SLURM_CPUS, DALE_SLURM_PORT)" >&2; exit 2 ;;
esac
