#!/usr/bin/env python3
"""End-to-end download benchmark for `make bench`: `capfilt fetch --images` against img2dataset.

    python scripts/bench_fetch.py [--cache DIR] [--capfilt BIN] [--count 5000] [--repeat 3]
                                  [--cores 2] [--img2dataset-threads 32] [--work DIR]
    python scripts/bench_fetch.py sweep [--count 1000] [--threads 4,16,32,64,256]
    python scripts/bench_fetch.py report

Both tools download the same COUNT distinct JPEGs from a loopback HTTP server, decode them,
resize them (shortest side to 256, centre crop 256x256, img2dataset's `center_crop`), encode
JPEG quality 95 and write one file per image. The server (nginx when installed, else Python's
http.server) is a separate process that neither tool's CPU time includes.

Measured per run, for the whole process tree (os.wait4 on the tool's process, which includes
every child it waited for): wall seconds, user + system CPU seconds, the largest RSS. Runs
alternate between the tools, after one warm-up run each; the report gives medians. Each round
also runs both tools on a small set (--baseline-count images) to measure their fixed cost
(interpreter start-up, imports, process pools), so that the per-image cost can be told apart.
Both outputs are checked: COUNT JPEG files of 256x256.

Images: variants (random crop, long side 320-1600, quality 80-95) of the photo-like JPEGs in
CACHE/photos (made by scripts/bench_imaging.py when missing), written once to
CACHE/fetch-images/ and reused. Results: docs/benchmarks-fetch.json and docs/benchmarks-fetch.md.

`sweep` runs img2dataset alone with several thread counts (per process) on --count images and
prints samples/s and CPU seconds for each, to choose --img2dataset-threads. `report` rewrites
docs/benchmarks-fetch.md from docs/benchmarks-fetch.json.

img2dataset's own dependencies (it is installed with --no-deps) are pip-installed into this
interpreter's environment when they are missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

IMAGE_SET_VERSION = 1
# What `pip install --no-deps img2dataset==1.47.0` leaves out and its import needs. Its
# `dataclasses` requirement is a Python 3.6 backport and is left out on purpose.
IMG2DATASET_DEPS = ["fire>=0.4,<0.8", "webdataset>=0.2.5,<0.3", "pandas>=1.1.5,<3", "exifread-nocycle>=3.0.1,<4",
                    "wandb>=0.17", "opencv-python-headless>=4.9,<5", "albumentations>=1.4,<2", "tqdm", "fsspec",
                    "pyarrow"]
TOOL_ENV = {"NO_ALBUMENTATIONS_UPDATE": "1", "WANDB_MODE": "disabled", "WANDB_SILENT": "true"}


# ---------------------------------------------------------------- images


def make_variant(job):
    """One distinct JPEG from one photo: a random crop, scaled so that its long side is
    320..1600 (never enlarged), saved at a random quality."""
    import numpy as np
    from PIL import Image

    index, source, target, seed = job
    rng = np.random.default_rng([seed, index])
    with Image.open(source) as im:
        im = im.convert("RGB")
        w, h = im.size
        cw = max(64, int(w * rng.uniform(0.55, 1.0)))
        ch = max(64, int(h * rng.uniform(0.55, 1.0)))
        x0 = int(rng.integers(0, w - cw + 1))
        y0 = int(rng.integers(0, h - ch + 1))
        crop = im.crop((x0, y0, x0 + cw, y0 + ch))
    scale = min(1.0, int(rng.integers(320, 1601)) / max(cw, ch))
    if scale < 1.0:
        crop = crop.resize((max(1, round(cw * scale)), max(1, round(ch * scale))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=int(rng.integers(80, 96)), subsampling=2)
    tmp = Path(str(target) + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return crop.size


def image_set(cache: Path, count: int, seed: int) -> tuple[Path, dict]:
    """COUNT distinct JPEGs in CACHE/fetch-images (made once; a larger set made before is reused:
    image i is the same whatever COUNT is)."""
    out = cache / "fetch-images"
    stamp_path = out / "stamp.json"
    want = {"version": IMAGE_SET_VERSION, "seed": seed}
    stamp = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    same_kind = all(stamp.get(k) == v for k, v in want.items())
    if same_kind and stamp.get("count", 0) >= count and all((out / name(i)).exists() for i in range(count)):
        return out, stamp
    if not same_kind:
        shutil.rmtree(out, ignore_errors=True)
    photos = sorted((cache / "photos").glob("*.jpg"))
    if len(photos) < 100:
        from bench_imaging import make_photos

        print(f"making 500 photos in {cache / 'photos'}...", flush=True)
        photos = make_photos(cache / "photos", 500, 2024)
    out.mkdir(parents=True, exist_ok=True)
    print(f"making {count} distinct JPEGs in {out} (once)...", flush=True)
    jobs = [(i, photos[i % len(photos)], out / name(i), seed) for i in range(count)]
    with Pool(os.cpu_count() or 1) as pool:
        pool.map(make_variant, [j for j in jobs if not j[2].exists()], chunksize=16)
    from PIL import Image

    sizes = []
    for i in range(count):
        with Image.open(out / name(i)) as im:
            sizes.append(im.size)
    digests = {hashlib.sha256((out / name(i)).read_bytes()).hexdigest() for i in range(count)}
    if len(digests) != count:
        raise RuntimeError(f"only {len(digests)} of {count} images are distinct")
    total = sum((out / name(i)).stat().st_size for i in range(count))
    pixels = sum(w * h for w, h in sizes)
    stamp = dict(want, count=count, photos=len(photos), bytes=total, megapixels=round(pixels / 1e6, 1),
                 mean_bytes=round(total / count), mean_megapixels=round(pixels / count / 1e6, 3))
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    return out, stamp


def name(i: int) -> str:
    return f"{i:05d}.jpg"


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """nginx (or Python's http.server) serving DIR on 127.0.0.1, in its own process group."""

    def __init__(self, root: Path, work: Path, cpus: list[int] | None):
        self.port = free_port()
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        prefix = ["taskset", "-c", ",".join(map(str, cpus))] if cpus and shutil.which("taskset") else []
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if nginx:
            conf = work / "nginx.conf"
            user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the cache under $HOME
            conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; multi_accept on; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  open_file_cache max=20000 inactive=300s;
  types {{ image/jpeg jpg; }}
  default_type application/octet-stream;
  client_body_temp_path {work}/client_body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  server {{
    listen 127.0.0.1:{self.port} backlog=8192 reuseport;
    root {root};
    location / {{ }}
  }}
}}
""")
            cmd = prefix + [nginx, "-p", str(work), "-c", str(conf)]
            self.kind = "nginx " + subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
        else:
            cmd = prefix + [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root),
                            str(self.port)]
            self.kind = "python http.server (nginx not installed)"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(work / "server.log", "w"),
                                     start_new_session=True)
        self.wait_ready()

    def wait_ready(self):
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {(self.work / 'server.log').read_text()}")
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.proc.pid] + children(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / tick

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return found


# ---------------------------------------------------------------- tools


def ensure_img2dataset() -> str:
    """img2dataset's version, after installing its missing dependencies."""
    probe = [sys.executable, "-c", "import img2dataset, importlib.metadata as m; print(m.version('img2dataset'))"]
    env = dict(os.environ, **TOOL_ENV)
    r = subprocess.run(probe, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        print("installing img2dataset's dependencies:", " ".join(IMG2DATASET_DEPS), flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *IMG2DATASET_DEPS], check=True)
        r = subprocess.run(probe, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"img2dataset does not import:\n{r.stderr}")
    return r.stdout.strip().splitlines()[-1]


def inputs(work: Path, port: int, count: int, tag: str) -> tuple[Path, Path]:
    """The same URLs for both tools: capfilt's samples (JSON Lines) and img2dataset's url list."""
    urls = [f"http://127.0.0.1:{port}/{name(i)}" for i in range(count)]
    samples = work / f"samples-{tag}.jsonl"
    with open(samples, "w") as f:
        for i, url in enumerate(urls):
            f.write(json.dumps({"source": "bench", "key": f"{i:05d}", "url": url, "captions": [f"image {i}"],
                                "origin": "web", "metadata": {}}) + "\n")
    url_list = work / f"urls-{tag}.txt"
    url_list.write_text("\n".join(urls) + "\n")
    return samples, url_list


def capfilt_command(args, samples: Path, out: Path) -> list[str]:
    return [args.capfilt, "fetch", "--in", str(samples), "--store", str(out / "store"),
            "--out", str(out / "results.jsonl"), "--images", str(out / "images"),
            "--resize", "256", "--resize-mode", "center_crop", "--jpeg-quality", "95",
            "--image-threads", str(args.cores), "--max-in-flight", str(args.in_flight),
            "--per-host", str(args.in_flight), "--retries", "0", "--timeout", "30",
            "--allow-private", "--no-fsync"]


def img2dataset_settings(args, url_list: Path, out: Path, threads: int) -> dict:
    return dict(url_list=str(url_list), input_format="txt", output_folder=str(out / "i2d"), output_format="files",
                image_size=256, resize_mode="center_crop", encode_quality=95, encode_format="jpg",
                processes_count=args.cores, thread_count=threads, number_sample_per_shard=args.shard_size,
                extract_exif=False, compute_hash="sha256", timeout=30, retries=0, enable_wandb=False)


def img2dataset_command(settings: dict) -> list[str]:
    code = "import json, sys\nfrom img2dataset import download\ndownload(**json.loads(sys.argv[1]))"
    return [sys.executable, "-c", code, json.dumps(settings)]


def timed(cmd: list[str], cpus: list[int] | None, log: Path) -> dict:
    """Runs cmd; wall seconds, CPU seconds and largest RSS of its whole (waited-for) tree."""
    if cpus and shutil.which("taskset"):
        cmd = ["taskset", "-c", ",".join(map(str, cpus))] + cmd
    env = dict(os.environ, **TOOL_ENV)
    load = os.getloadavg()[0]
    with open(log, "w") as f:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024, "load1": load}


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (all processes, kernel included), from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def check_images(files: list[Path], count: int, what: str) -> None:
    from PIL import Image

    if len(files) != count:
        raise RuntimeError(f"{what}: {len(files)} images, expected {count}")
    for path in files:
        with Image.open(path) as im:
            if im.size != (256, 256) or im.format != "JPEG":
                raise RuntimeError(f"{what}: {path} is {im.format} {im.size}, expected JPEG 256x256")


def check_capfilt(out: Path, count: int) -> None:
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines() if x.strip()]
    bad = [x for x in lines if x["status"] != "ok" or x.get("image_status") != "ok"]
    if len(lines) != count or bad:
        raise RuntimeError(f"capfilt: {len(lines)} results, {len(bad)} not ok: {bad[:3]}")
    check_images(sorted((out / "images").glob("*.jpg")), count, "capfilt")


def check_img2dataset(out: Path, count: int) -> None:
    stats = [json.loads(p.read_text()) for p in (out / "i2d").glob("*_stats.json")]
    successes = sum(s.get("successes", 0) for s in stats)
    if successes != count:
        raise RuntimeError(f"img2dataset: {successes} successes of {count}; stats: {stats[:2]}")
    check_images(sorted((out / "i2d").glob("*/*.jpg")), count, "img2dataset")


def clear(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.sync()  # the previous run's writeback must not fall into the next run


def default_work(cache: Path) -> Path:
    """tmpfs when there is room: on ext4, creating thousands of files right after the previous
    run deleted thousands costs each tool seconds of kernel time in the inode allocator, which
    measures the file system's state rather than the tools."""
    shm = Path("/dev/shm")
    try:
        if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 4 << 30:
            return shm / "capfilt-bench-fetch"
    except OSError:
        pass
    return cache / "fetch-work"


def wait_for_quiet(max_load: float, patience: float) -> float:
    """Waits (up to `patience` seconds) for the 1-minute load average to drop below max_load."""
    deadline = time.time() + patience
    checks = 0
    while os.getloadavg()[0] > max_load and time.time() < deadline:
        if checks % 8 == 0:
            print(f"load average {os.getloadavg()[0]:.2f} > {max_load}; waiting...", flush=True)
        checks += 1
        time.sleep(15)
    return os.getloadavg()[0]


# ---------------------------------------------------------------- runs


def one_run(tool: str, args, inp: dict, out: Path, cpus, threads: int, server: Server, count: int) -> dict:
    clear(out)
    samples, url_list = inp[count]
    s0, b0 = server.cpu_seconds(), busy_cpu_seconds()
    if tool == "capfilt":
        r = timed(capfilt_command(args, samples, out), cpus, out.parent / f"{tool}.log")
        check_capfilt(out, count)
    else:
        r = timed(img2dataset_command(img2dataset_settings(args, url_list, out, threads)), cpus,
                  out.parent / f"{tool}.log")
        check_img2dataset(out, count)
    r["server_cpu_s"] = server.cpu_seconds() - s0
    # What the rest of the machine (other users' builds) took from the same cores meanwhile.
    r["others_cpu_s"] = max(0.0, busy_cpu_seconds() - b0 - r["cpu_s"] - r["server_cpu_s"])
    r["samples"] = count
    print(f"  {tool:12s} {count:5d} images: {r['wall_s']:6.1f} s wall, {count / r['wall_s']:6.1f}/s, "
          f"{r['cpu_s']:6.1f} CPU s ({1000 * r['cpu_s'] / count:5.1f} per 1000), server {r['server_cpu_s']:.1f} s, "
          f"others {r['others_cpu_s']:.1f} s, load {r['load1']:.2f}", flush=True)
    return r


def machine(work: Path) -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024 // 1024
    except OSError:
        pass
    fs = subprocess.run(["df", "-T", str(work)], capture_output=True, text=True).stdout.splitlines()[-1].split()[1]
    import PIL
    import cv2

    return {"cpu": model, "cores_visible": os.cpu_count(), "memory_gb": mem, "kernel": platform.release(),
            "python": platform.python_version(), "pillow": PIL.__version__, "opencv": cv2.__version__,
            "work_filesystem": fs}


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def summarise(runs: list[dict], baseline: list[dict]) -> dict:
    n = runs[0]["samples"]
    wall, cpu = median(runs, "wall_s"), median(runs, "cpu_s")
    fixed = median(baseline, "cpu_s") if baseline else 0.0
    nb = baseline[0]["samples"] if baseline else 0
    marginal = (cpu - fixed) / (n - nb) if baseline else cpu / n
    return {"median_wall_s": wall, "median_cpu_s": cpu, "samples_per_s": n / wall, "cpu_s_per_1000": 1000 * cpu / n,
            "samples_per_cpu_s": n / cpu, "median_max_rss_mb": median(runs, "max_rss_mb"),
            "median_server_cpu_s": median(runs, "server_cpu_s"), "fixed_cpu_s": fixed,
            "marginal_cpu_s_per_1000": 1000 * marginal}


def bench(args) -> int:
    i2d_version = ensure_img2dataset()
    images, stamp = image_set(args.cache, args.count, args.seed)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    cpus = list(range(args.cores)) if (os.cpu_count() or 1) >= args.cores else None
    others = list(range(args.cores, os.cpu_count() or 1)) or None
    server = Server(images, work / "server", others)
    try:
        inp = {n: inputs(work, server.port, n, str(n)) for n in (args.count, args.baseline_count)}
        out = work / "out"
        load_start = wait_for_quiet(args.max_load, args.wait_load)
        results = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(work),
                   "img2dataset_version": i2d_version, "server": server.kind, "images": stamp,
                   "count": args.count, "baseline_count": args.baseline_count, "repeat": args.repeat,
                   "cores": args.cores, "pinning": f"taskset -c {','.join(map(str, cpus))}" if cpus else "none",
                   "server_cpus": others, "load1_at_start": load_start,
                   "settings": {"capfilt": capfilt_command(args, Path("samples.jsonl"), Path("OUT")),
                                "img2dataset": img2dataset_settings(args, Path("urls.txt"), Path("OUT"),
                                                                    args.img2dataset_threads)},
                   "runs": {"capfilt": [], "img2dataset": []}, "baseline": {"capfilt": [], "img2dataset": []}}
        order = ["capfilt", "img2dataset"]
        print(f"warm-up ({server.kind} on port {server.port})...", flush=True)
        for tool in order:
            one_run(tool, args, inp, out, cpus, args.img2dataset_threads, server, args.count)
        for round_index in range(args.repeat):
            print(f"round {round_index + 1} of {args.repeat}", flush=True)
            wait_for_quiet(args.max_load, args.wait_load)
            for tool in (order if round_index % 2 == 0 else order[::-1]):
                results["runs"][tool].append(
                    one_run(tool, args, inp, out, cpus, args.img2dataset_threads, server, args.count))
                results["baseline"][tool].append(
                    one_run(tool, args, inp, out, cpus, args.img2dataset_threads, server, args.baseline_count))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    results["load1_at_end"] = os.getloadavg()[0]
    results["summary"] = {t: summarise(results["runs"][t], results["baseline"][t]) for t in results["runs"]}
    c, i = results["summary"]["capfilt"], results["summary"]["img2dataset"]
    results["ratios"] = {"samples_per_s": c["samples_per_s"] / i["samples_per_s"],
                         "samples_per_cpu_s": c["samples_per_cpu_s"] / i["samples_per_cpu_s"],
                         "marginal_cpu": i["marginal_cpu_s_per_1000"] / c["marginal_cpu_s_per_1000"]}
    if args.write_docs:
        (ROOT / "docs" / "benchmarks-fetch.json").write_text(json.dumps(results, indent=1) + "\n")
        (ROOT / "docs" / "benchmarks-fetch.md").write_text(report(results))
    print(json.dumps({"summary": results["summary"], "ratios": results["ratios"]}, indent=1))
    return 0


def sweep(args) -> int:
    ensure_img2dataset()
    images, _ = image_set(args.cache, max(args.count, 1), args.seed)
    work = args.work
    cpus = list(range(args.cores)) if (os.cpu_count() or 1) >= args.cores else None
    others = list(range(args.cores, os.cpu_count() or 1)) or None
    server = Server(images, work / "server", others)
    try:
        inp = {args.count: inputs(work, server.port, args.count, "sweep")}
        out = work / "out"
        one_run("capfilt", args, inp, out, cpus, 0, server, args.count)
        for threads in [int(t) for t in args.threads.split(",")]:
            wait_for_quiet(args.max_load, args.wait_load)
            print(f"img2dataset thread_count={threads}:", flush=True)
            one_run("img2dataset", args, inp, out, cpus, threads, server, args.count)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


# ---------------------------------------------------------------- report


def report(r: dict) -> str:
    m, s, st = r["machine"], r["summary"], r["images"]
    c, i = s["capfilt"], s["img2dataset"]
    loads = [x["load1"] for t in r["runs"].values() for x in t]
    others = [x["others_cpu_s"] for t in r["runs"].values() for x in t]
    i2d = r["settings"]["img2dataset"]
    cap_cmd = r["settings"]["capfilt"]
    cap = " ".join(["capfilt"] + cap_cmd[1:])
    in_flight = cap_cmd[cap_cmd.index("--max-in-flight") + 1]
    i2d_call = ", ".join(f"{k}={v!r}" for k, v in i2d.items())

    def row(label, v):
        return (f"| {label} | {v['samples_per_s']:.1f} | {v['cpu_s_per_1000']:.1f} | {v['samples_per_cpu_s']:.1f} | "
                f"{v['fixed_cpu_s']:.1f} | {v['marginal_cpu_s_per_1000']:.1f} | {v['median_max_rss_mb']:.0f} | "
                f"{v['median_server_cpu_s']:.1f} |")

    lines = [
        "# Fetch benchmark: `capfilt fetch --images` against img2dataset",
        "",
        f"Generated by `scripts/bench_fetch.py` (`make bench`) on {r['date']}.",
        "",
        f"Machine: {m['cpu']}, {m['cores_visible']} cores visible, {m['memory_gb']} GB RAM, Linux {m['kernel']} "
        f"(a shared VM); outputs on {m['work_filesystem']}. Load average (1 min) {r['load1_at_start']:.2f} at the "
        f"start, {min(loads):.2f} to {max(loads):.2f} when the measured runs started, {r['load1_at_end']:.2f} at the "
        "end; these averages include the benchmark's own previous runs. What matters is the CPU time other "
        f"processes took during each measured run (from /proc/stat): {min(others):.1f} to {max(others):.1f} s "
        "(last column of the runs table). capfilt release build; img2dataset "
        f"{r['img2dataset_version']} from pip with Python {m['python']}, OpenCV {m['opencv']}, Pillow {m['pillow']}.",
        "",
        f"Input: {r['count']:,} distinct JPEGs (crops of the bench photos, long side 320 to 1600, quality 80 to 95; "
        f"{st['mean_megapixels']} megapixels and {st['mean_bytes'] / 1024:.0f} KiB on average), served from "
        f"127.0.0.1 by {r['server']} (one worker, sendfile, keep-alive) in a separate process: its CPU time is "
        "not counted for either tool and is shown on its own. Both tools: fetch, decode, shortest side to 256, "
        "centre crop 256x256, JPEG quality 95, one file per image, on "
        f"{r['cores']} cores ({r['pinning']}). Every output is checked: {r['count']:,} JPEG files of 256x256.",
        "",
        f"Each tool ran once to warm up, then {r['repeat']} rounds, the tools alternating; medians below. CPU "
        "time is user + system of the whole process tree (`os.wait4` on the tool's process). Each round also ran "
        f"both tools on the first {r['baseline_count']} images: that run's CPU time is the fixed cost (start-up, "
        "imports, process pools), and (CPU - fixed) / images the cost per image.",
        "",
        "| tool | samples/s (wall) | CPU-s per 1000 samples | samples per CPU-second | fixed CPU-s | "
        "CPU-s per 1000 after the fixed cost | peak RSS MB (largest process) | server CPU-s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row("capfilt fetch --images", c),
        row(f"img2dataset {r['img2dataset_version']}", i),
        "",
        f"**capfilt / img2dataset: {r['ratios']['samples_per_s']:.2f}x samples/s, "
        f"{r['ratios']['samples_per_cpu_s']:.2f}x samples per CPU-second** (target >= 2x), "
        f"{r['ratios']['marginal_cpu']:.2f}x per image after the fixed cost.",
        "",
        "## Commands",
        "",
        "```",
        cap,
        "```",
        "",
        "```python",
        f"img2dataset.download({i2d_call})",
        "```",
        "",
        f"- img2dataset: `processes_count={i2d['processes_count']}` because it resizes in each process's main "
        f"thread (the download threads only fetch), so one process cannot use a second core for images; "
        f"`thread_count={i2d['thread_count']}` download threads per process ({i2d['processes_count']} x "
        f"{i2d['thread_count']} requests at once, as capfilt's `--max-in-flight {in_flight}`; its CPU time hardly "
        "changes with the thread count: `scripts/bench_fetch.py sweep`); "
        f"`number_sample_per_shard={i2d['number_sample_per_shard']}` so that both processes get shards; "
        "`extract_exif=False` (capfilt reads no EXIF); `compute_hash='sha256'` (its default; capfilt hashes "
        "every body too). wandb is off; it still imports its whole dependency tree (torch through "
        "webdataset when torch is installed) in every process, which is most of its fixed cost.",
        f"- capfilt: `--image-threads {r['cores']}` decode/resize/encode threads next to the libcurl event "
        "loop; the original bodies also go to its content-addressed store (`--no-fsync`: img2dataset does "
        "not fsync either), and every image gets a JSON result line.",
        "- The pixels differ a little: capfilt resizes with Pillow-exact filters (BOX when shrinking), "
        "img2dataset with OpenCV's INTER_AREA; both encode with libjpeg at 4:2:0.",
        "",
        "## Runs",
        "",
        "| round | tool | images | wall s | CPU s (user + sys) | server CPU s | other processes' CPU s | "
        "load (1 min) at start |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for tool in r["runs"]:
        for k, (x, b) in enumerate(zip(r["runs"][tool], r["baseline"][tool])):
            for y in (x, b):
                lines.append(f"| {k + 1} | {tool} | {y['samples']} | {y['wall_s']:.1f} | {y['cpu_s']:.1f} "
                             f"({y['user_s']:.1f} + {y['sys_s']:.1f}) | {y['server_cpu_s']:.1f} | {y['others_cpu_s']:.1f} | "
                             f"{y['load1']:.2f} |")
    lines += ["", "Raw numbers: `docs/benchmarks-fetch.json`.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    for q in (parser, sub.add_parser("bench"), sub.add_parser("sweep")):
        q.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "capfilt-bench")
        q.add_argument("--capfilt", default=str(ROOT / ".build" / "release" / "capfilt"))
        q.add_argument("--work", type=Path, default=None,
                       help="scratch folder for the outputs (default: /dev/shm/capfilt-bench-fetch when /dev/shm "
                            "has 4 GB free, else CACHE/fetch-work)")
        q.add_argument("--count", type=int, default=None)
        q.add_argument("--seed", type=int, default=5000)
        q.add_argument("--cores", type=int, default=2)
        q.add_argument("--in-flight", type=int, default=64)
        q.add_argument("--img2dataset-threads", type=int, default=32)
        q.add_argument("--shard-size", type=int, default=500)
        q.add_argument("--max-load", type=float, default=1.5)
        q.add_argument("--wait-load", type=float, default=900)
    for q in (parser, sub.choices["bench"]):
        q.add_argument("--repeat", type=int, default=3)
        q.add_argument("--baseline-count", type=int, default=20)
        q.add_argument("--no-docs", dest="write_docs", action="store_false")
    sub.choices["sweep"].add_argument("--threads", default="4,16,32,64,256")
    sub.add_parser("report", help="rewrite docs/benchmarks-fetch.md from docs/benchmarks-fetch.json")
    args = parser.parse_args()
    if args.command == "report":
        results = json.loads((ROOT / "docs" / "benchmarks-fetch.json").read_text())
        (ROOT / "docs" / "benchmarks-fetch.md").write_text(report(results))
        return 0
    args.cache = args.cache.expanduser()
    args.work = (args.work or default_work(args.cache)).expanduser()
    if args.command == "sweep":
        args.count = args.count or 1000
        return sweep(args)
    args.count = args.count or 5000
    if not os.access(args.capfilt, os.X_OK):
        print(f"no capfilt binary at {args.capfilt} (build with `swift build -c release`)", file=sys.stderr)
        return 1
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
