#!/usr/bin/env bash
# `make test-slurm`: capfilt's Slurm executor on a real one-node Slurm cluster that this script
# installs (Debian's slurm-wlm and munge), configures, starts and stops again. Needs root.
#
# A sample pipeline runs as a 4-task job array (two tasks at a time on 2 CPUs) with the
# whole-dataset step depending on it; one task is cancelled (scancel) while it runs; the same
# command is submitted again and must resubmit only the incomplete shards; at the end the
# export must equal, byte for byte, a local run's with the same number of shards.
#
# CAPFILT_BIN=path/to/capfilt uses that binary instead of building one; KEEP=1 keeps the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "test-slurm: run as root (it installs packages and starts daemons)" >&2; exit 2; }
need=""
for p in slurm-wlm munge; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"; done
if [ -n "$need" ]; then
  echo "installing:$need"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

if [ -z "${CAPFILT_BIN:-}" ]; then
  swift build --product capfilt
  CAPFILT_BIN="$(swift build --show-bin-path)/capfilt"
fi
bin=$(readlink -f "$CAPFILT_BIN")

# Everything lives in one folder: it stands for the shared filesystem of a real cluster.
top=$(mktemp -d /tmp/capfilt-slurm-test.XXXXXX)
chmod 755 "$top"
node=$(hostname -s)
mkdir -p "$top/munge" "$top/slurm/state" "$top/slurm/spool" "$top/slurm/log"
chown munge:munge "$top/munge"
chmod 755 "$top/munge"

stop_cluster() {
  set +e
  [ -f "$top/slurm/slurmd.pid" ] && kill "$(cat "$top/slurm/slurmd.pid")" 2>/dev/null
  [ -f "$top/slurm/slurmctld.pid" ] && kill "$(cat "$top/slurm/slurmctld.pid")" 2>/dev/null
  sleep 1
  [ -S "$top/munge/munge.socket" ] && munged --stop --socket="$top/munge/munge.socket" >/dev/null 2>&1
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $top"; else rm -rf "$top"; fi
}
trap stop_cluster EXIT

# munge: its own socket, so a munged the machine may already run is left alone.
[ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || \
  dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
runuser -u munge -- munged --socket="$top/munge/munge.socket" --pid-file="$top/munge/munged.pid" \
  --log-file="$top/munge/munged.log" --seed-file="$top/munge/munged.seed"

# No cgroups and no systemd needed: processes are tracked through /proc, tasks are not bound.
cat > "$top/slurm/slurm.conf" <<EOF
ClusterName=capfilt-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$top/munge/munge.socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$top/slurm/state
SlurmdSpoolDir=$top/slurm/spool
SlurmctldPidFile=$top/slurm/slurmctld.pid
SlurmdPidFile=$top/slurm/slurmd.pid
SlurmctldLogFile=$top/slurm/log/slurmctld.log
SlurmdLogFile=$top/slurm/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
KillWait=5
MinJobAge=600
NodeName=$node CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=capfilt Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$top/slurm/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 60); do sinfo --noheader -o %t 2>/dev/null | grep -q idle && break; sleep 1; done
sinfo --noheader -o "%P %t %c" | grep -q idle || { echo "the node did not come up" >&2; tail -20 "$top/slurm/log/"*.log >&2; exit 1; }
echo "cluster up: $(sinfo --noheader -o '%P %D node, %c CPUs, %t')"

# The sample data: small PNG pictures of coloured rectangles (distinct enough that dedup keeps
# them apart) with one caption each, written with Python's standard library only.
data="$top/data"
images=400
mkdir -p "$data/images"
python3 - "$data" "$images" <<'PY'
import json, random, struct, sys, zlib
folder, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(8)

def png(width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(pixels[y * width * 3:(y + 1) * width * 3]) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

colours = ["red", "green", "blue", "yellow", "white", "black"]
manifest = []
for i in range(count):
    width, height = 64 + rng.randrange(32), 48 + rng.randrange(32)
    pixels = bytearray([rng.randrange(256) for _ in range(3)] * (width * height))
    for _ in range(4):
        w, h = 8 + rng.randrange(width // 2), 8 + rng.randrange(height // 2)
        x0, y0 = rng.randrange(width - w), rng.randrange(height - h)
        c = [rng.randrange(256) for _ in range(3)]
        for y in range(y0, y0 + h):
            for x in range(x0, x0 + w):
                pixels[(y * width + x) * 3:(y * width + x) * 3 + 3] = bytes(c)
    name = "images/img-%04d.png" % i
    with open(f"{folder}/{name}", "wb") as f:
        f.write(png(width, height, pixels))
    manifest.append({"image": name, "caption": f"a {colours[i % 6]} block on a plain background, number {i}"})
with open(f"{folder}/web.json", "w") as f:
    json.dump(manifest, f)
PY

med="$repo/Tests/MEDTests/Fixtures/med"
cat > "$data/pipeline.yaml" <<EOF
dataset: slurm-test
workdir: $top/work
shards: 4
threads: 1
executor:
  type: slurm
  partition: capfilt
  time: "10"
  cpus: 1
stages:
  ingest:
    manifests:
      - {path: web.json, format: blip-pretrain, source: web}
  fetch:
    needs: [ingest]
    fsync: false
  decode:
    needs: [fetch]
    batch_size: 8
  caption:
    needs: [decode]
    model: $med/captioner
    batch_size: 4
    strategy: greedy
    max_length: 12
    min_length: 4
  filter:
    needs: [caption]
    model: $med/itm
    batch_size: 4
  dedup:
    needs: [decode, caption]
  assemble:
    needs: [filter, dedup]
  export:
    needs: [assemble]
    samples_per_shard: 50
    fsync: false
EOF
pipeline="$data/pipeline.yaml"
echo "sample: $images pictures, 4 shards"

active() { squeue --noheader --array -o "%i %T" | grep -E "PENDING|RUNNING|CONFIGURING|COMPLETING" || true; }
wait_idle() {
  for _ in $(seq 600); do [ -z "$(active)" ] && return 0; sleep 1; done
  echo "jobs still active after 10 minutes:" >&2; active >&2; return 1
}

# 1. Submit (array parallelism 2: two tasks at a time, the others wait their turn).
"$bin" run "$pipeline" --array-parallelism 2 | tee "$top/submit1.txt"
array=$(sed -n 's/.* as job array \([0-9]*\).*/\1/p' "$top/submit1.txt")
[ -n "$array" ] || { echo "no array job id in the submission output" >&2; exit 1; }

# 2. Cancel the last shard's task once it runs.
victim="${array}_3"
for _ in $(seq 600); do squeue --noheader --array -o "%i %T" | grep -q "^$victim RUNNING" && break; sleep 0.1; done
squeue --noheader --array -o "%i %T" | grep -q "^$victim RUNNING" || { echo "task $victim never ran" >&2; exit 1; }
sleep 0.5
scancel "$victim"
echo "cancelled $victim while it ran"
wait_idle
"$bin" status "$pipeline" | tee "$top/status1.txt"
grep -q "^3/4 .* no  .* $victim .*CANCELLED" "$top/status1.txt" || {
  echo "status does not show shard 3 cancelled and incomplete (did the task end before the cancel?)" >&2; exit 1; }
# With a shard task cancelled, Slurm cancels the dependent step (--kill-on-invalid-dep).
grep -q "^whole-dataset step .* CANCELLED" "$top/status1.txt" || { echo "the first dataset step was not cancelled" >&2; exit 1; }

# 3. The same command again: only shard 3 is resubmitted.
"$bin" run "$pipeline" --array-parallelism 2 | tee "$top/submit2.txt"
grep -q "submitted shard 3 of 4 as job array" "$top/submit2.txt" || { echo "the resubmission did not pick shard 3 alone" >&2; exit 1; }
wait_idle
"$bin" status "$pipeline" | tee "$top/status2.txt"
echo "--- what the cancelled task logged:"
cat "$top/work/slurm/logs/shard-3-job-$array.log"
for log in "$top"/work/slurm/logs/*.log; do
  [ "$log" = "$top/work/slurm/logs/shard-3-job-$array.log" ] && continue
  if grep -q "error:" "$log"; then echo "--- $log" >&2; cat "$log" >&2; fi
done
grep -q "whole-dataset step .* COMPLETED" "$top/status2.txt" || { echo "the whole-dataset step did not complete" >&2; exit 1; }

# 4. The same pipeline run locally, in the same place, must export the same bytes.
mv "$top/work" "$top/work-slurm"
"$bin" run "$pipeline" --executor local --parallel 2 >/dev/null 2>"$top/local.log" || { cat "$top/local.log" >&2; exit 1; }
if diff -r "$top/work-slurm/export" "$top/work/export" >/dev/null; then
  echo "test-slurm: OK: export after scancel + resubmission equals the local run's ($(find "$top/work/export" -type f | wc -l) files)"
else
  echo "test-slurm: FAILED: exports differ" >&2
  diff -r "$top/work-slurm/export" "$top/work/export" | head >&2
  exit 1
fi
