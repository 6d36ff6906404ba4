#!/usr/bin/env python3
"""PyTorch / transformers half of `make bench`, and the driver that runs capfilt next to it.

    python scripts/bench_med.py [--cache DIR] [--capfilt PATH] [--repeat R] [--rounds K]
                                [--threads T] [--cases vision,itm,...] [--no-pytorch]
                                [--no-capfilt] [--no-sgemm] [--docs DIR]

First run: writes random full-size BLIP-base weights (BlipForConditionalGeneration in
DIR/captioner, BlipForImageTextRetrieval in DIR/itm, safetensors via save_pretrained), 16 seeded
640x480 JPEGs in DIR/images. Later runs reuse them.

Every measurement runs in its own subprocess (peak RSS per case comes from wait4 on that
process). For each case the PyTorch and capfilt processes alternate, K rounds of
(PyTorch, capfilt); each process does 1 warm-up run and R timed runs; the reported time is
the median over all timed runs. Results go to --docs (default docs/): benchmarks.md, benchmarks.json.

capfilt contract (what this script runs; one JSON object on the last stdout line):

    capfilt bench --model MODEL_DIR --case vision|itm|itc|caption-beam|caption-nucleus
                  --batch N --repeat R --threads T --json
                  [--text TEXT]                       (itm, itc)
                  [--max-length 20 --min-length 5]    (caption-beam, caption-nucleus)
                  IMAGE...
      -> {"case": ..., "batch": N, "seconds": [R floats], "median_seconds": ...,
          "images_per_second": ..., "peak_rss_bytes": ...}
    capfilt bench --case sgemm --threads T --json
      -> {"case": "sgemm", "threads": T, "gflops": ...}

MODEL_DIR is DIR/captioner for vision and the caption cases, DIR/itm for itm and itc. --text is
scored against every image (15 tokens with [CLS] and [SEP]); PyTorch uses the same text. The N
IMAGE paths are the first N of DIR/images; seconds exclude decoding and resizing.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOCAB = REPO / "Sources" / "MED" / "Resources" / "vocab.txt"
SCRIPTS = Path(__file__).resolve().parent

CACHE_VERSION = 1
WEIGHT_SEED = 1234
IMAGE_SEED = 7
N_IMAGES = 16
TEXT_TOKENS = 15

# Scored against every image in the itm / itc cases: exactly 15 tokens with [CLS] and [SEP].
BENCH_TEXT = "a man in a red shirt is riding a bike down the street"

CASES = {
    "vision": dict(model="captioner", batch=8, target=1.5, what="vision encoder forward (ViT-B/16, 384 px)"),
    "itm": dict(model="itm", batch=8, target=1.8, what="ITM score, 15-token texts (vision + grounded text encoder + itm_head)"),
    "itc": dict(model="itm", batch=8, target=None, what="ITC similarity, 15-token texts (vision + text encoder + projections)"),
    "caption-beam": dict(model="captioner", batch=4, target=2.5, what="caption, beam 3, max_length 20, min_length 5"),
    "caption-nucleus": dict(
        model="captioner", batch=4, target=2.0, what="caption, nucleus top_p 0.9, top_k 0, max_length 20, min_length 5"
    ),
}

BASE_VISION = dict(
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    image_size=384,
    patch_size=16,
    layer_norm_eps=1e-5,
    hidden_act="gelu",
    initializer_range=0.02,
)
BASE_TEXT = dict(
    vocab_size=30524,
    hidden_size=768,
    intermediate_size=3072,
    num_hidden_layers=12,
    num_attention_heads=12,
    encoder_hidden_size=768,
    max_position_embeddings=512,
    layer_norm_eps=1e-12,
    hidden_act="gelu",
    bos_token_id=30522,
    sep_token_id=102,
    eos_token_id=102,
    pad_token_id=0,
    initializer_range=0.02,
)


# ----------------------------------------------------------------------------------------------
# FLOP count


def vit_flops_per_image(image=384, patch=16, width=768, layers=12, mlp=3072) -> dict:
    """Multiply-adds x 2 of the matrix products in one ViT forward (no LayerNorm/softmax/GELU)."""
    patches = (image // patch) ** 2
    n = patches + 1
    patch_embed = patches * (3 * patch * patch) * width
    qkv = n * width * 3 * width
    scores = n * n * width
    context = n * n * width
    proj = n * width * width
    fc1 = n * width * mlp
    fc2 = n * mlp * width
    per_layer = qkv + scores + context + proj + fc1 + fc2
    macs = patch_embed + layers * per_layer
    return dict(
        tokens=n,
        flops=2 * macs,
        gflops=2 * macs / 1e9,
        breakdown_gflops=dict(
            patch_embedding=2 * patch_embed / 1e9,
            qkv=2 * layers * qkv / 1e9,
            attention_scores=2 * layers * scores / 1e9,
            attention_context=2 * layers * context / 1e9,
            attention_projection=2 * layers * proj / 1e9,
            mlp=2 * layers * (fc1 + fc2) / 1e9,
        ),
    )


# ----------------------------------------------------------------------------------------------
# Cache


def make_tokenizer():
    from transformers import BertTokenizer

    tok = BertTokenizer(vocab=str(VOCAB))
    if tok.vocab_size != 30522:
        raise SystemExit(f"vocab not loaded from {VOCAB}: size {tok.vocab_size}")
    tok.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    return tok


def base_config():
    from transformers import BlipConfig

    config = BlipConfig(vision_config=dict(BASE_VISION), text_config=dict(BASE_TEXT), image_text_hidden_size=256)
    assert config.text_config.encoder_hidden_size == 768
    assert config.vision_config.initializer_range == 0.02
    return config


def init_weights(model, seed: int) -> None:
    """Normal(0, 0.02) for every weight, embedding and class/position embedding; zero biases;
    LayerNorm weight 1, bias 0 (HF's vision default of 1e-10 would make every image alike)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            is_norm = ".LayerNorm." in name or ".layer_norm" in name or "post_layernorm" in name
            if is_norm:
                p.fill_(1.0 if leaf == "weight" else 0.0)
            elif leaf == "bias":
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def ensure_cache(cache: Path) -> dict:
    stamp_path = cache / "cache.json"
    if stamp_path.exists():
        stamp = json.loads(stamp_path.read_text())
        if stamp.get("version") == CACHE_VERSION:
            return stamp
    import torch

    from transformers import BlipForConditionalGeneration, BlipForImageTextRetrieval

    cache.mkdir(parents=True, exist_ok=True)
    print(f"building benchmark cache in {cache} (once)", flush=True)
    torch.manual_seed(WEIGHT_SEED)
    config = base_config()
    sizes = {}
    for sub, cls, seed in (
        ("captioner", BlipForConditionalGeneration, WEIGHT_SEED),
        ("itm", BlipForImageTextRetrieval, WEIGHT_SEED + 1),
    ):
        t0 = time.perf_counter()
        model = cls(config).eval()
        init_weights(model, seed)
        if (cache / sub).exists():
            shutil.rmtree(cache / sub)
        model.save_pretrained(cache / sub)
        sizes[sub] = sum(p.numel() for p in model.parameters())
        print(f"  {sub}: {sizes[sub] / 1e6:.1f}M parameters, {time.perf_counter() - t0:.1f} s", flush=True)
        del model

    sys.path.insert(0, str(SCRIPTS))
    from make_bench_images import make_images

    images = make_images(cache / "images", count=N_IMAGES, width=640, height=480, seed=IMAGE_SEED)

    stamp = dict(
        version=CACHE_VERSION,
        weight_seed=WEIGHT_SEED,
        image_seed=IMAGE_SEED,
        parameters=sizes,
        images=[p.name for p in images],
        init="normal(0, 0.02) weights/embeddings, zero biases, LayerNorm 1/0",
        transformers=__import__("transformers").__version__,
        torch=torch.__version__,
    )
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    return stamp


def image_paths(cache: Path, batch: int) -> list[Path]:
    return [cache / "images" / f"bench{i % N_IMAGES:02d}.jpg" for i in range(batch)]


# ----------------------------------------------------------------------------------------------
# PyTorch worker (runs in its own process)


def load_vision_only(folder: Path):
    import torch
    from safetensors import safe_open

    from transformers import BlipConfig, BlipVisionModel

    config = BlipConfig.from_pretrained(folder)
    model = BlipVisionModel(config.vision_config)
    prefix = "vision_model."
    state = {}
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        for key in f.keys():
            if key.startswith(prefix):
                state[key[len(prefix) :]] = f.get_tensor(key)
    model.load_state_dict(state, strict=True)
    return model.to(torch.float32).eval()


def worker(args) -> None:
    import torch
    from PIL import Image

    from transformers import BlipForConditionalGeneration, BlipForImageTextRetrieval, BlipImageProcessorPil

    torch.set_num_threads(args.threads)
    case = args.worker
    spec = CASES[case]
    cache = args.cache
    batch = args.batch or spec["batch"]
    folder = cache / spec["model"]

    t0 = time.perf_counter()
    if case == "vision":
        model = load_vision_only(folder)
    elif spec["model"] == "itm":
        model = BlipForImageTextRetrieval.from_pretrained(folder, dtype=torch.float32).eval()
    else:
        model = BlipForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
    load_seconds = time.perf_counter() - t0

    processor = BlipImageProcessorPil(size={"height": 384, "width": 384})
    paths = image_paths(cache, batch)

    def preprocess():
        images = [Image.open(p).convert("RGB") for p in paths]
        return processor(images=images, return_tensors="pt").pixel_values

    text_inputs = None
    if case in ("itm", "itc"):
        tok = make_tokenizer()
        text_inputs = tok([BENCH_TEXT] * batch, return_tensors="pt")
        if text_inputs.input_ids.shape[1] != TEXT_TOKENS:
            raise SystemExit(f"benchmark text has {text_inputs.input_ids.shape[1]} tokens, wants {TEXT_TOKENS}")

    info = {}

    def run(pixel_values, index):
        if case == "vision":
            out = model(pixel_values=pixel_values).last_hidden_state
            info["output_shape"] = list(out.shape)
        elif case == "itm":
            out = model(
                input_ids=text_inputs.input_ids,
                pixel_values=pixel_values,
                attention_mask=text_inputs.attention_mask,
                use_itm_head=True,
            ).itm_score
            info["output_shape"] = list(out.shape)
            info["match_probability"] = torch.softmax(out, dim=-1)[:, 1].tolist()
        elif case == "itc":
            out = model(
                input_ids=text_inputs.input_ids,
                pixel_values=pixel_values,
                attention_mask=text_inputs.attention_mask,
                use_itm_head=False,
            ).itm_score
            info["output_shape"] = list(out.shape)
        elif case == "caption-beam":
            out = model.generate(pixel_values=pixel_values, num_beams=3, max_length=20, min_length=5)
            info.setdefault("sequence_lengths", []).append(lengths(out, pad_after_sep=True))
        elif case == "caption-nucleus":
            torch.manual_seed(1000 + index)
            out = model.generate(
                pixel_values=pixel_values, do_sample=True, top_p=0.9, top_k=0, max_length=20, min_length=5, num_beams=1
            )
            info.setdefault("sequence_lengths", []).append(lengths(out, pad_after_sep=True))
        else:
            raise SystemExit(f"unknown case {case}")

    pre_seconds, seconds = [], []
    with torch.inference_mode():
        for index in range(1 + args.repeat):
            t0 = time.perf_counter()
            pixel_values = preprocess()
            t1 = time.perf_counter()
            run(pixel_values, index)
            t2 = time.perf_counter()
            if index > 0:
                pre_seconds.append(t1 - t0)
                seconds.append(t2 - t1)
    median = statistics.median(seconds)
    result = dict(
        case=case,
        batch=batch,
        seconds=seconds,
        median_seconds=median,
        images_per_second=batch / median,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        preprocess_seconds=pre_seconds,
        preprocess_median_seconds=statistics.median(pre_seconds),
        load_seconds=load_seconds,
        threads=torch.get_num_threads(),
        **info,
    )
    print(json.dumps(result), flush=True)


def lengths(out, pad_after_sep: bool) -> list[int]:
    result = []
    for row in out.tolist():
        n = len(row)
        for i in range(1, len(row)):
            if row[i] == 102:
                n = i + 1
                break
        result.append(n)
    return result


# ----------------------------------------------------------------------------------------------
# sgemm probe (runs in its own process so that thread settings take effect at load time)


def sgemm_worker(args) -> None:
    import numpy as np

    threads = args.threads
    shapes = dict(square_2048=(2048, 2048, 2048), vit_fc1_batch8=(577 * 8, 768, 3072))
    res = dict(threads=threads, numpy={}, system_openblas={}, torch={})

    def best_gflops(fn, m, k, n, reps=3):
        fn()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return 2.0 * m * k * n / best / 1e9

    rng = np.random.default_rng(0)
    mats = {name: (rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)) for name, (m, k, n) in shapes.items()}

    for name, (m, k, n) in shapes.items():
        a, b = mats[name]
        res["numpy"][name] = best_gflops(lambda: a @ b, m, k, n)
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        res["numpy_blas"] = dict(name=blas.get("name"), version=blas.get("version"), config=blas.get("openblas configuration"))
    except Exception as exc:  # noqa: BLE001
        res["numpy_blas"] = dict(error=str(exc))

    libname = ctypes.util.find_library("openblas") or "libopenblas.so.0"
    try:
        lib = ctypes.CDLL(libname)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_set_num_threads(threads)
        res["system_openblas_info"] = dict(
            library=libname,
            corename=lib.openblas_get_corename().decode(),
            config=lib.openblas_get_config().decode(),
            threads=lib.openblas_get_num_threads(),
        )
        fp = ctypes.POINTER(ctypes.c_float)
        for name, (m, k, n) in shapes.items():
            a, b = mats[name]
            c = np.empty((m, n), dtype=np.float32)

            def call(a=a, b=b, c=c, m=m, k=k, n=n):
                lib.cblas_sgemm(
                    101, 111, 111, m, n, k, ctypes.c_float(1.0), a.ctypes.data_as(fp), k,
                    b.ctypes.data_as(fp), n, ctypes.c_float(0.0), c.ctypes.data_as(fp), n,
                )

            res["system_openblas"][name] = best_gflops(call, m, k, n)
    except OSError as exc:
        res["system_openblas_info"] = dict(error=str(exc))

    import torch

    torch.set_num_threads(threads)
    for name, (m, k, n) in shapes.items():
        a, b = (torch.from_numpy(x) for x in mats[name])
        res["torch"][name] = best_gflops(lambda: torch.mm(a, b), m, k, n)
    print(json.dumps(res), flush=True)


# ----------------------------------------------------------------------------------------------
# Driver


def run_with_rss(cmd: list[str], env: dict, timeout: float) -> dict:
    """Run a command; reap it with os.wait4 so that its own ru_maxrss (peak RSS) is known."""

    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as fout, tempfile.TemporaryFile("w+") as ferr:
        try:
            proc = subprocess.Popen(cmd, stdout=fout, stderr=ferr, env=env, text=True)
        except OSError as exc:
            return dict(ok=False, error=f"cannot start: {exc}", rc=None)
        deadline = t0 + timeout
        status = rusage = None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, rusage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                fout.seek(0)
                ferr.seek(0)
                return dict(ok=False, rc=None, error=f"timed out after {timeout} s", stderr=ferr.read()[-4000:])
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    return dict(
        ok=proc.returncode == 0,
        rc=proc.returncode,
        stdout=out,
        stderr=err[-4000:],
        wall=time.perf_counter() - t0,
        peak_rss_bytes=rusage.ru_maxrss * 1024,
    )


def last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def worker_env(threads: int) -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def run_pytorch_case(args, case: str) -> dict:
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--worker", case, "--cache", str(args.cache),
        "--repeat", str(args.repeat), "--threads", str(args.threads),
    ]
    if args.batch:
        cmd += ["--batch", str(args.batch)]
    r = run_with_rss(cmd, worker_env(args.threads), args.timeout)
    res = last_json(r.get("stdout", "")) if r["ok"] else None
    if res is None:
        return dict(status="failed", error=r.get("error") or f"exit {r.get('rc')}", stderr=r.get("stderr", "")[-2000:])
    res["status"] = "ok"
    res["self_reported_peak_rss_bytes"] = res.get("peak_rss_bytes")
    res["peak_rss_bytes"] = r["peak_rss_bytes"]
    res["process_wall_seconds"] = r["wall"]
    return res


def run_capfilt_case(args, case: str) -> dict:
    spec = CASES[case]
    batch = args.batch or spec["batch"]
    if args.capfilt is None or not Path(args.capfilt).is_file() or not os.access(args.capfilt, os.X_OK):
        return dict(status="missing", error=f"no executable at {args.capfilt}")
    cmd = [
        str(args.capfilt), "bench", "--model", str(args.cache / spec["model"]), "--case", case,
        "--batch", str(batch), "--repeat", str(args.repeat), "--threads", str(args.threads), "--json",
    ]
    if case in ("itm", "itc"):
        cmd += ["--text", BENCH_TEXT]
    if case.startswith("caption"):
        cmd += ["--max-length", "20", "--min-length", "5"]
    cmd += [str(p) for p in image_paths(args.cache, batch)]
    r = run_with_rss(cmd, worker_env(args.threads), args.timeout)
    res = last_json(r.get("stdout", "")) if r["ok"] else None
    if res is None or "median_seconds" not in res:
        return dict(
            status="missing",
            error=r.get("error") or (f"exit {r.get('rc')}" if not r["ok"] else "no JSON result line"),
            command=cmd[:12] + ["..."],
            stderr=r.get("stderr", "")[-2000:],
        )
    res["status"] = "ok"
    res["self_reported_peak_rss_bytes"] = res.get("peak_rss_bytes")
    res["peak_rss_bytes"] = r["peak_rss_bytes"]
    res["process_wall_seconds"] = r["wall"]
    return res


def run_sgemm(args) -> dict:
    out = {}
    for threads in (1, 2):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--sgemm-worker", "--threads", str(threads)]
        r = run_with_rss(cmd, worker_env(threads), args.timeout)
        out[str(threads)] = last_json(r.get("stdout", "")) if r["ok"] else dict(error=r.get("error") or r.get("stderr", "")[-500:])
        if args.capfilt and Path(args.capfilt).is_file():
            c = run_with_rss(
                [str(args.capfilt), "bench", "--case", "sgemm", "--threads", str(threads), "--json"],
                worker_env(threads),
                args.timeout,
            )
            obj = last_json(c.get("stdout", "")) if c["ok"] else None
            out[str(threads)]["capfilt"] = obj if obj and "gflops" in obj else dict(status="missing", error=c.get("error") or c.get("stderr", "")[-300:])
        else:
            out[str(threads)]["capfilt"] = dict(status="missing", error=f"no executable at {args.capfilt}")
    return out


def combine(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return dict(status=runs[0].get("status", "missing") if runs else "missing", error=runs[0].get("error") if runs else "not run")
    seconds = [s for r in ok for s in r["seconds"]]
    batch = ok[0]["batch"]
    median = statistics.median(seconds)
    res = dict(
        status="ok",
        batch=batch,
        seconds=seconds,
        median_seconds=median,
        images_per_second=batch / median,
        peak_rss_bytes=max(r["peak_rss_bytes"] for r in ok),
        rounds=len(ok),
    )
    pre = [s for r in ok for s in r.get("preprocess_seconds", [])]
    if pre:
        res["preprocess_median_seconds"] = statistics.median(pre)
    return res


def machine_info() -> dict:
    info = dict(platform=platform.platform(), python=platform.python_version())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Hypervisor vendor", "L2 cache", "L3 cache"):
                info[key.strip()] = value.strip()
        flags = next((line.split(":", 1)[1].split() for line in lscpu.splitlines() if line.startswith("Flags")), [])
        info["simd"] = " ".join(f for f in ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "amx_tile") if f in flags)
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["nproc"] = os.cpu_count()
    info["env"] = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOTO"))}
    return info


def versions(args) -> dict:
    import numpy
    import torch

    import transformers

    v = dict(torch=torch.__version__, transformers=transformers.__version__, numpy=numpy.__version__)
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        v["capfilt_git_rev"] = rev + ("-dirty" if dirty else "")
    except OSError:
        v["capfilt_git_rev"] = "unknown"
    if args.capfilt and Path(args.capfilt).is_file():
        try:
            v["capfilt_version"] = subprocess.run([str(args.capfilt), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            pass
    return v


def fmt(x, spec=".3f", none="—"):
    return none if x is None else format(x, spec)


def mib(x):
    return None if x is None else x / 2**20


def write_docs(args, report: dict) -> None:
    docs = args.docs
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "benchmarks.json").write_text(json.dumps(report, indent=1) + "\n")

    m, v = report["machine"], report["versions"]
    lines = [
        "# Benchmarks: capfilt vs PyTorch/transformers",
        "",
        f"Generated by `scripts/bench_med.py` on {report['date']} (command: `{report['command']}`).",
        "Raw numbers: [benchmarks.json](benchmarks.json).",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m.get('Model name', '?')}, {m.get('CPU(s)', '?')} CPUs ({m.get('Core(s) per socket', '?')} cores per socket, "
        f"{m.get('Thread(s) per core', '?')} thread(s) per core), SIMD: {m.get('simd', '?')}"
        + (f", hypervisor {m['Hypervisor vendor']}" if m.get("Hypervisor vendor") else ""),
        f"- Memory: {m.get('memory_gib', '?')} GiB",
        f"- OS: {m.get('platform')}; Python {m.get('python')}",
        f"- torch {v['torch']}, transformers {v['transformers']}, numpy {v['numpy']}; capfilt git {v.get('capfilt_git_rev')}"
        + (f" ({v['capfilt_version']})" if v.get("capfilt_version") else ""),
        f"- BLAS/threads environment: {m['env'] if m['env'] else 'no OPENBLAS_*/OMP_*/MKL_* variables set'}"
        + (" (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE override OpenBLAS's own CPU detection)" if any(k in m["env"] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")) else ""),
        "",
        "## Method",
        "",
        f"- Random BLIP-base weights (ViT-B/16 at 384 px, BERT-base text, vocab 30524; {report['cache'].get('init', '')}), "
        "fp32, the same files for both sides (`--cache` folder).",
        f"- {report['threads']} threads on both sides (`torch.set_num_threads`, `--threads`); PyTorch under `torch.inference_mode()`.",
        f"- Each measurement is a fresh process: 1 warm-up run, then {report['repeat']} timed runs; "
        f"{report['rounds']} round(s) per case alternating PyTorch, capfilt, PyTorch, capfilt...; the median of all timed runs is reported.",
        "- Timed: the model part only (tensors in, result out). Images are decoded and preprocessed before the clock starts; "
        "PyTorch's preprocessing (Pillow decode + `BlipImageProcessorPil` to 384x384) is timed separately and listed below.",
        f"- ITM/ITC text: \"{BENCH_TEXT}\" (15 tokens with [CLS] and [SEP]) against each of the batch images. "
        "HF's ITM puts [CLS] first. HF's ITC computes the full batch x batch cosine matrix.",
        "- Captioning: `generate()` with beam 3 / max_length 20 / min_length 5, or sampling with top_p 0.9 and top_k 0 "
        "(HF would otherwise also apply top_k 50), max_length 20, min_length 5, repetition penalty 1.0. "
        "With random weights nearly every caption runs to max_length, so both sides decode 19 steps.",
        "- Peak RSS: `ru_maxrss` of that process (os.wait4), model loading included.",
        "",
        "## Results",
        "",
        "| case | batch | PyTorch images/s | capfilt images/s | capfilt / PyTorch | target | PyTorch peak RSS (MiB) | capfilt peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, r in report["results"].items():
        py, cf = r["pytorch"], r["capfilt"]
        py_ips = py.get("images_per_second") if py.get("status") == "ok" else None
        cf_ips = cf.get("images_per_second") if cf.get("status") == "ok" else None
        ratio = cf_ips / py_ips if py_ips and cf_ips else None
        target = CASES[case]["target"]
        verdict = ""
        if ratio is not None and target is not None:
            verdict = " (met)" if ratio >= target else " (not met)"
        lines.append(
            f"| {case} | {r['batch']} | {fmt(py_ips)} | {fmt(cf_ips) if cf_ips else cf.get('status', 'missing')} | "
            f"{fmt(ratio, '.2f')}{verdict} | {('>= ' + format(target, '.1f') + 'x') if target else '—'} | "
            f"{fmt(mib(py.get('peak_rss_bytes')), '.0f')} | {fmt(mib(cf.get('peak_rss_bytes')), '.0f')} |"
        )
    lines += ["", "Cases:", ""]
    for case, spec in CASES.items():
        if case in report["results"]:
            lines.append(f"- `{case}`: {spec['what']}.")
    missing = {c: r["capfilt"].get("error") for c, r in report["results"].items() if r["capfilt"].get("status") != "ok"}
    if missing:
        lines += ["", "capfilt results missing: " + "; ".join(f"`{c}`: {e}" for c, e in missing.items()) + "."]

    lines += ["", "PyTorch preprocessing (decode + resize + normalise, per batch, median):", ""]
    for case, r in report["results"].items():
        p = r["pytorch"].get("preprocess_median_seconds")
        if p is not None:
            lines.append(f"- `{case}` (batch {r['batch']}): {p:.3f} s ({r['batch'] / p:.1f} images/s)")

    fl = report["vit_flops"]
    lines += [
        "",
        "## Vision encoder arithmetic vs sgemm",
        "",
        f"ViT-B/16 at 384 px: {fl['tokens']} tokens, {fl['gflops']:.2f} GFLOP per image forward (2 x multiply-adds of the "
        "matrix products: " + ", ".join(f"{k} {v:.2f}" for k, v in fl["breakdown_gflops"].items()) + "; LayerNorm, softmax and GELU not counted).",
        "",
        "| | GFLOP/s |",
        "|---|---|",
    ]
    vis = report["results"].get("vision")
    if vis:
        for side in ("pytorch", "capfilt"):
            ips = vis[side].get("images_per_second") if vis[side].get("status") == "ok" else None
            lines.append(f"| vision encoder, {side} ({report['threads']} threads) | {fmt(ips * fl['gflops'] if ips else None, '.1f')} |")
    sg = report.get("sgemm") or {}
    for threads, r in sg.items():
        if not isinstance(r, dict) or "error" in r and len(r) == 1:
            lines.append(f"| sgemm, {threads} thread(s) | failed: {r.get('error') if isinstance(r, dict) else r} |")
            continue
        for lib in ("system_openblas", "numpy", "torch"):
            for shape, g in (r.get(lib) or {}).items():
                lines.append(f"| {lib} sgemm {shape}, {threads} thread(s) | {g:.1f} |")
        c = r.get("capfilt", {})
        lines.append(f"| capfilt sgemm, {threads} thread(s) | {fmt(c.get('gflops'), '.1f') if 'gflops' in c else 'missing'} |")
    if sg:
        one = next(iter(sg.values()))
        info = one.get("system_openblas_info", {}) if isinstance(one, dict) else {}
        nb = one.get("numpy_blas", {}) if isinstance(one, dict) else {}
        lines += [
            "",
            f"system OpenBLAS (what capfilt links): {info.get('config', info.get('error', '?'))}, core {info.get('corename', '?')}. "
            f"numpy uses its own {nb.get('name', '?')} {nb.get('version', '')}; torch uses MKL. "
            "Square shape: 2048^3; ViT shape: the fc1 product at batch 8 (4616 x 768 x 3072). Best of 3.",
        ]
    lines += [
        "",
        "Absolute numbers are noisy when other work shares the machine; the ratios come from alternating runs.",
        "",
    ]
    (docs / "benchmarks.md").write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "capfilt-bench")
    parser.add_argument("--capfilt", type=Path, default=REPO / ".build" / "release" / "capfilt")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per process (after 1 warm-up)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating PyTorch/capfilt processes per case")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="override every case's batch size")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--no-pytorch", action="store_true")
    parser.add_argument("--no-capfilt", action="store_true")
    parser.add_argument("--no-sgemm", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per process")
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--sgemm-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache = args.cache.expanduser().resolve()

    if args.worker:
        worker(args)
        return 0
    if args.sgemm_worker:
        sgemm_worker(args)
        return 0

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            parser.error(f"unknown case {c}; known: {', '.join(CASES)}")
    if args.no_capfilt:
        args.capfilt = None

    stamp = ensure_cache(args.cache)
    report = dict(
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        command=" ".join(["scripts/bench_med.py"] + sys.argv[1:]),
        machine=machine_info(),
        versions=versions(args),
        cache=stamp,
        threads=args.threads,
        repeat=args.repeat,
        rounds=args.rounds,
        vit_flops=vit_flops_per_image(),
        results={},
    )

    for case in cases:
        runs_py, runs_cf = [], []
        capfilt_missing = False
        for k in range(args.rounds):
            if not args.no_pytorch:
                print(f"[{case}] round {k + 1}: pytorch ...", flush=True)
                r = run_pytorch_case(args, case)
                runs_py.append(r)
                print(f"[{case}]   pytorch: {summary(r)}", flush=True)
            if not capfilt_missing:
                print(f"[{case}] round {k + 1}: capfilt ...", flush=True)
                r = run_capfilt_case(args, case)
                runs_cf.append(r)
                print(f"[{case}]   capfilt: {summary(r)}", flush=True)
                capfilt_missing = r.get("status") == "missing"
        report["results"][case] = dict(
            batch=args.batch or CASES[case]["batch"],
            pytorch=combine(runs_py) if runs_py else dict(status="not run"),
            capfilt=combine(runs_cf),
            pytorch_runs=runs_py,
            capfilt_runs=runs_cf,
        )
    if not args.no_sgemm:
        print("[sgemm] ...", flush=True)
        report["sgemm"] = run_sgemm(args)
        for t, r in report["sgemm"].items():
            print(f"[sgemm] {t} thread(s): {json.dumps({k: r.get(k) for k in ('system_openblas', 'numpy', 'torch')})}", flush=True)
    write_docs(args, report)
    print(f"wrote {args.docs / 'benchmarks.md'} and {args.docs / 'benchmarks.json'}")
    return 0


def summary(r: dict) -> str:
    if r.get("status") != "ok":
        return f"{r.get('status')}: {r.get('error')}"
    return (
        f"{r['images_per_second']:.3f} images/s (median {r['median_seconds']:.2f} s of {len(r['seconds'])}), "
        f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
