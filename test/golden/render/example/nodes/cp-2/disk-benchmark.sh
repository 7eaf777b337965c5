#!/usr/bin/env bash
# Disk benchmark for cp-2: fdatasync latency (etcd profile) of the
# filesystem holding /var/lib/etcd, and random 4k read/write IOPS.
# One warm-up run, then 3 measured runs. Every file is written in a
# temporary directory that is removed on exit, also when interrupted.
set -euo pipefail

data_dir='/var/lib/etcd'
runs=3
files_mb=86
min_free_mb=1024
random_iops=1
random_runtime=5

say() { echo "disk-benchmark: $*" >&2; }

if ! command -v fio >/dev/null; then
  say "fio is not installed: host preparation installs it (apt-get install fio)"
  exit 3
fi

# Free space is judged on the nearest existing directory, before anything is created.
existing="$data_dir"
while [ ! -d "$existing" ]; do existing="$(dirname -- "$existing")"; done
free_mb=$(( $(df -Pk -- "$existing" | awk 'NR == 2 { print $4 }') / 1024 ))
if (( free_mb < files_mb + min_free_mb )); then
  say "not enough free space on the filesystem of $data_dir: $free_mb MiB free, the benchmark needs $files_mb MiB for its files plus diskBenchmark.minFreeMb $min_free_mb MiB; nothing was written"
  exit 4
fi

created=""
work=""
fio_pid=""
cleanup() {
  # Signals are ignored, not reset: `timeout` sends SIGTERM to this script
  # and again to its process group, and the second one must not end the
  # clean-up that the first one started.
  trap - EXIT
  trap '' INT TERM HUP
  # The files go before fio is waited for: fio stops only after the I/O it
  # has in flight, which on a busy disk can outlast the 5 s that `timeout`
  # gives a stopped command before it SIGKILLs the lot (wrapCommand).
  if [ -n "$fio_pid" ]; then kill "$fio_pid" 2>/dev/null || true; fi
  if [ -n "$work" ]; then rm -rf -- "$work" 2>/dev/null || true; fi
  if [ -n "$fio_pid" ]; then
    wait "$fio_pid" 2>/dev/null || true
    # What fio wrote while it stopped: it makes its directory itself as it
    # sets up its job, so one stopped at that moment makes it again.
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
  fi
  # Only directories this script made, and only while empty.
  if [ -n "$created" ]; then
    d="$data_dir"
    while rmdir -- "$d" 2>/dev/null && [ "$d" != "$created" ]; do d="$(dirname -- "$d")"; done
  fi
}
on_signal() {
  # Clean up before saying anything: the connection that would carry the
  # words may be gone (the client was interrupted), and a write to it must
  # not end this script before the files are removed.
  trap '' PIPE HUP
  cleanup
  say "interrupted: the benchmark files are removed" || true
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

if [ ! -d "$data_dir" ]; then
  created="$data_dir"
  while [ ! -d "$(dirname -- "$created")" ]; do created="$(dirname -- "$created")"; done
  mkdir -p -- "$data_dir"
fi
# Files of an earlier run that was cut off before its clean-up (its pid is
# gone): removed, and said. A run still going (a lost connection's) is left alone.
for old in "$data_dir"/.ironroot-disk-benchmark.*; do
  [ -d "$old" ] || continue
  old_pid="$(cat -- "$old/pid" 2>/dev/null || true)"
  if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then continue; fi
  rm -rf -- "$old"
  say "removed the files of an earlier run that was cut off: $old"
done
work="$(mktemp -d -- "$data_dir/.ironroot-disk-benchmark.XXXXXX")"
echo "$$" >"$work/pid"
say "started: pid $$, files in $work"
read -r device fstype mount < <(df -PT -- "$work" | awk 'NR == 2 { print $1, $2, $7 }')
echo "=== ironroot-disk $device $fstype $mount ==="

# fio runs in the background so that a signal is handled at once (bash defers
# traps while a foreground child runs), and the trap can stop fio.
run_fio() {
  local profile="$1" label="$2" start end
  shift 2
  start=$(date +%s%N)
  fio --output-format=json --output="$work/$profile-$label.json" "$@" &
  fio_pid=$!
  wait "$fio_pid"
  fio_pid=""
  end=$(date +%s%N)
  echo "=== ironroot-fio $profile $label begin ==="
  cat -- "$work/$profile-$label.json"
  echo
  echo "=== ironroot-fio $profile $label end wall_ms=$(( (end - start) / 1000000 )) ==="
  # Each run starts from a fresh file, as the reference command does.
  rm -f -- "$work/$profile-$label.json" "$work"/*.0.0
}

say "etcd profile: warm-up run (not counted)"
run_fio etcd warmup --rw=write --ioengine=sync --fdatasync=1 "--directory=$work" --size=22m --bs=2300 --name=mytest
for ((i = 1; i <= runs; i++)); do
  say "etcd profile: run $i of $runs"
  run_fio etcd "$i" --rw=write --ioengine=sync --fdatasync=1 "--directory=$work" --size=22m --bs=2300 --name=mytest
done

if (( random_iops )); then
  # Without O_DIRECT (e.g. tmpfs) reads come from the page cache; the result says so.
  direct=1
  if ! dd if=/dev/zero of="$work/direct-probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
    direct=0
    say "O_DIRECT is not supported here: random IOPS include the page cache"
  fi
  rm -f -- "$work/direct-probe"
  say "random 4k profile: $random_runtime s after a 1 s ramp"
  run_fio random 1 --name=randrw --rw=randrw --rwmixread=50 --bs=4k --size=64m --ioengine=libaio --iodepth=16 "--direct=$direct" "--runtime=$random_runtime" --time_based --ramp_time=1 "--directory=$work"
fi
say "done"
