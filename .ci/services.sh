# Sourced by .ci/run: installs and starts the real services the tuner's tests use, and stops
# them when the calling script exits.
#
# - PostgreSQL (Debian package): a throwaway cluster in a temporary directory, listening on
#   127.0.0.1 only, trust authentication; exports DROPLAB_TEST_PG.
# - Slurm with munge (Debian slurm-wlm): one node (this machine) with one partition, daemons
#   started by hand (no systemd); exports DROPLAB_TEST_SLURM=1 once `sinfo` answers.
# - Headless Chromium (Debian chromium-headless-shell) for the test that loads the HTML
#   report in a real browser; exports DROPLAB_TEST_BROWSER.

ci_sudo=""
if [ "$(id -u)" != 0 ]; then ci_sudo="sudo"; fi

ci_install() {
    local missing=()
    command -v munged >/dev/null || missing+=(munge)
    command -v slurmctld >/dev/null || missing+=(slurm-wlm)
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
    command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell)
    # libFuzzer (built by the fuzz targets' libfuzzer-sys) is C++.
    command -v c++ >/dev/null || missing+=(g++)
    if [ ${#missing[@]} -gt 0 ]; then
        # No daemon may start during the install (our own instances start below, on
        # 127.0.0.1), and PostgreSQL gets no default cluster.
        local policy_added=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' | $ci_sudo tee /usr/sbin/policy-rc.d >/dev/null
            $ci_sudo chmod +x /usr/sbin/policy-rc.d
            policy_added=1
        fi
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            $ci_sudo mkdir -p /etc/postgresql-common
            echo 'create_main_cluster = false' | $ci_sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
        fi
        $ci_sudo apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive $ci_sudo apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
        if [ -n "$policy_added" ]; then $ci_sudo rm -f /usr/sbin/policy-rc.d; fi
    fi
}

ci_pg_dir=""
ci_pg_start() {
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    port=${DROPLAB_CI_PG_PORT:-54329}
    ci_pg_dir=$(mktemp -d /tmp/droplab-ci-pg.XXXXXX)
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$ci_pg_dir"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bin/initdb" -D "$ci_pg_dir/data" -A trust -U postgres >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$ci_pg_dir/data" -l "$ci_pg_dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $ci_pg_dir -c fsync=off" start >/dev/null
    "${run[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres droplab_test
    export DROPLAB_TEST_PG="postgres://postgres@127.0.0.1:$port/droplab_test"
    ci_pg_bin=$bin
}

ci_pg_stop() {
    [ -n "$ci_pg_dir" ] || return 0
    local run=()
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
    "${run[@]}" "$ci_pg_bin/pg_ctl" -D "$ci_pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$ci_pg_dir"
}

ci_slurm_pids=()
ci_slurm_start() {
    local host conf cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
    # munge: a fresh key if the package left none.
    $ci_sudo mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        $ci_sudo sh -c 'dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null'
    fi
    $ci_sudo chown -R munge: /etc/munge /var/lib/munge /var/log/munge /run/munge
    $ci_sudo chmod 0400 /etc/munge/munge.key
    if ! { [ -s /run/munge/munged.pid ] && $ci_sudo kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
        $ci_sudo runuser -u munge -- /usr/sbin/munged
        ci_started_munge=1
    fi
    conf=/etc/slurm/slurm.conf
    $ci_sudo mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    $ci_sudo tee "$conf" >/dev/null <<EOF
# Written by droplab's .ci/services.sh: one node, this machine.
ClusterName=droplab-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
# Bind to the node's own address (127.0.0.1 below), not to every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
    $ci_sudo /usr/sbin/slurmctld -i
    $ci_sudo /usr/sbin/slurmd
    for _ in $(seq 1 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            export DROPLAB_TEST_SLURM=1
            return 0
        fi
        sleep 1
    done
    echo "Slurm did not come up; slurmctld log:" >&2
    $ci_sudo tail -n 20 /var/log/slurm/slurmctld.log >&2 || true
    return 1
}

ci_started_munge=""
ci_kill_pidfile() {
    if [ -s "$1" ]; then $ci_sudo kill "$(cat "$1")" 2>/dev/null || true; fi
}

ci_slurm_stop() {
    ci_kill_pidfile /run/slurmd.pid
    ci_kill_pidfile /run/slurmctld.pid
    if [ -n "$ci_started_munge" ]; then ci_kill_pidfile /run/munge/munged.pid; fi
}

ci_services_stop() {
    ci_slurm_stop
    ci_pg_stop
}

ci_install
DROPLAB_TEST_BROWSER=$(command -v chromium-headless-shell)
export DROPLAB_TEST_BROWSER
ci_pg_start
ci_slurm_start
trap ci_services_stop EXIT
