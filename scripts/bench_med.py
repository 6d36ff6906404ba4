#!/usr/bin/env python3
"""PyTorch / transformers half of `make bench`, and the driver that runs capfilt next to it.

    python scripts/bench_med.py [--cache DIR] [--capfilt PATH] [--capfilt-bench PATH]
                                [--repeat R] [--rounds K]
                                [--threads T] [--cases vision,itm,...] [--precisions fp32,bf16]
                                [--no-pytorch] [--no-capfilt] [--no-sgemm] [--sgemm-only]
                                [--sgemm-shapes NAME=MxKxN,...] [--process-cases caption,score]
                                [--process-precision fp32|bf16] [--no-process] [--docs DIR]

First run: writes random full-size BLIP-base weights (BlipForConditionalGeneration in
DIR/captioner, BlipForImageTextRetrieval in DIR/itm, safetensors via save_pretrained), 16 seeded
640x480 JPEGs in DIR/images. Later runs reuse them.

Three parts, each skippable; a part that a run skips keeps its results (and their date) from
DOCS/benchmarks.json of the last run that measured it:

1. Model cases (--cases; --cases '' runs none). Every measurement runs in its own subprocess
   (peak RSS per case comes from wait4 on that process). For each case the PyTorch and capfilt
   processes alternate, K rounds of (PyTorch, capfilt fp32, capfilt bf16), the capfilt
   precisions being those of --precisions; each process does 1 warm-up run and R timed runs;
   the reported time is the median over all timed runs. bf16 keeps the linear layers' weights
   as bfloat16 and accumulates in float32; its results are stored as capfilt_bf16.
2. Whole process (--process-cases; skipped with --no-process): a capfilt command against a whole
   PyTorch script (scripts/bench_process_pytorch.py: imports, model and processor loading, image
   decoding and preprocessing, the work, printing), each a process timed by this driver from
   start to exit, K rounds of (PyTorch, capfilt --precision P, capfilt bf16 when bf16 is in
   --precisions and P is not), P from --process-precision:
     caption: capfilt caption --model DIR/captioner --threads T --batch-size 8 --precision P
                --max-length 20 --min-length 5 --json IMG1 .. IMG8          (beam 3: its default)
       against bench_process_pytorch.py caption (BlipForConditionalGeneration, num_beams 3)
     score:   capfilt score --model DIR/itm --threads T --batch-size 8 --precision P
                --pairs PAIRS.tsv --json                  (16 pairs: 8 images x 2 texts)
       against bench_process_pytorch.py score (BlipForImageTextRetrieval, use_itm_head=True)
   Targets (capfilt / PyTorch speed, median wall time): caption >= 2.5x, score >= 2.0x.
3. Matrix products (below).

Results go to --docs (default docs/): benchmarks.md, benchmarks.json.

Matrix products (skipped with --no-sgemm; --sgemm-only runs nothing else, like --cases ''
--no-process, and keeps the model and whole-process results of benchmarks.json): C = A B in fp32, row-major, A M x K, B K x N,
random normal entries, best of 3 after 1 warm-up, at 1 and 2 threads, for 1536^3, 2048^3 and the
ViT fc1 product at batch 8 (4616 x 768 x 3072). Peers, each in a process of its own with its
thread and core settings in the environment before the library loads:

  - system OpenBLAS (libopenblas.so.0, cblas_sgemm through ctypes) with the core type it detects
    (OPENBLAS_CORETYPE unset), then with OPENBLAS_CORETYPE forced to each of OPENBLAS_CORETYPES;
    the core the library reports (openblas_get_corename) is recorded, and a forced type that it
    replaces by another core, or that dies (SIGILL on a CPU without its instructions), is
    recorded as unsupported on this CPU;
  - oneDNN (libdnnl.so from Debian's libdnnl-dev, dnnl_sgemm, OMP_NUM_THREADS threads), with its
    version and the ISA it dispatches to (dnnl_get_effective_cpu_isa);
  - numpy (its own OpenBLAS) and torch.mm, for reference.

The target: capfilt doctor's sgemm probe at 2 threads reaches >= 0.85 of the best of {OpenBLAS
with its best core type, oneDNN} at the same shape and thread count.

capfilt contract (what this script runs; one JSON object on the last stdout line). The model
cases and the sgemm come from the benchmark executable, capfilt-bench (by default next to
--capfilt: .build/release/capfilt-bench), the rest from capfilt itself:

    capfilt-bench med --model MODEL_DIR --case vision|itm|itc|caption-beam|caption-nucleus
                  --batch N --repeat R --threads T --precision fp32|bf16 --json
                  [--text TEXT]                       (itm, itc)
                  [--max-length 20 --min-length 5]    (caption-beam, caption-nucleus)
                  IMAGE...
      -> {"case": ..., "batch": N, "precision": "fp32"|"bf16",
          "kernels": "baseline"|"avx2"|"avx512" (its element-wise kernel path),
          "bf16_products": "avx512_bf16"|"widened" (how products with bf16 weights run),
          "seconds": [R floats], "median_seconds": ..., "images_per_second": ..., "peak_rss_bytes": ...}
    capfilt caption ... --json IMAGE...  -> one line per image: {"image", "captions": [{"text", ...}]}
    capfilt score ... --pairs TSV --json -> one line per pair: {"image", "text", "itm", "itc"}
    capfilt-bench med --case sgemm --threads T --json
      -> {"case": "sgemm", "threads": T, "gflops": ...}
    capfilt doctor --threads T [--json]
      -> human-readable report (printed at the start of a run and copied into benchmarks.md), or
         {"cpu": {"model", "vendor", "family", "model_number", "features": [...]},
          "kernels": {"elementwise", "openblas_core", "openblas_core_source", "openblas_config"},
          "threads": T, "sgemm": {"m", "n", "k", "gflops", "seconds"},
          "peak_gflops": ..., "peak_fraction": ...}

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
import shlex
import signal
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
    "itm": dict(model="itm", batch=8, target=2.0, what="ITM score, 15-token texts (vision + grounded text encoder + itm_head)"),
    "itc": dict(model="itm", batch=8, target=None, what="ITC similarity, 15-token texts (vision + text encoder + projections)"),
    "caption-beam": dict(model="captioner", batch=4, target=3.0, what="caption, beam 3, max_length 20, min_length 5"),
    "caption-nucleus": dict(
        model="captioner", batch=4, target=2.5, what="caption, nucleus top_p 0.9, top_k 0, max_length 20, min_length 5"
    ),
}
PRECISIONS = ("fp32", "bf16")

# Whole-process comparison: a capfilt command against a whole PyTorch script
# (scripts/bench_process_pytorch.py), each timed from start to exit by this driver.
PROCESS_IMAGES = 8
PROCESS_BATCH = 8
# Each of the PROCESS_IMAGES images is scored against each text (image-major order in the TSV).
PROCESS_TEXTS = (BENCH_TEXT, "two dogs are playing with a ball on the green grass")
PROCESS_CASES = {
    "caption": dict(
        model="captioner",
        target=2.5,
        unit="images",
        what=f"caption {PROCESS_IMAGES} images (batch {PROCESS_BATCH}), beam 3, max_length 20, min_length 5",
    ),
    "score": dict(
        model="itm",
        target=2.0,
        unit="pairs",
        what=f"ITM probability of {PROCESS_IMAGES * len(PROCESS_TEXTS)} image-text pairs "
        f"({PROCESS_IMAGES} images x {len(PROCESS_TEXTS)} texts, batch {PROCESS_BATCH})",
    ),
}
PROCESS_SCRIPT = SCRIPTS / "bench_process_pytorch.py"

# Matrix-product shapes, name -> (M, K, N): C (M x N) = A (M x K) B (K x N).
SGEMM_SHAPES = dict(
    square_1536=(1536, 1536, 1536),
    square_2048=(2048, 2048, 2048),
    vit_fc1_batch8=(577 * 8, 768, 3072),
)
SGEMM_THREADS = (1, 2)
# Core types forced through OPENBLAS_CORETYPE (names as openblas_get_corename reports them).
OPENBLAS_CORETYPES = ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Sandybridge", "Prescott"]
OPENBLAS_LIBRARY = "libopenblas.so.0"
DNNL_LIBRARY = "libdnnl.so"  # /usr/lib/x86_64-linux-gnu/libdnnl.so from libdnnl-dev (2.6.3 on Debian 12)
# dnnl_cpu_isa_t of oneDNN 2.6 (oneapi/dnnl/dnnl_types.h)
DNNL_CPU_ISA = {
    0x0: "all",
    0x1: "sse41",
    0x3: "avx",
    0x7: "avx2",
    0xF: "avx512_mic",
    0x1F: "avx512_mic_4ops",
    0x27: "avx512_core",
    0x67: "avx512_core_vnni",
    0xE7: "avx512_core_bf16",
    0x3E7: "avx512_core_amx",
    0x407: "avx2_vnni",
}
# DNNL_RUNTIME_* (dnnl_version_t.cpu_runtime / gpu_runtime)
DNNL_RUNTIME = {0: "none", 1: "sequential", 2: "OpenMP", 4: "TBB", 8: "threadpool", 256: "OpenCL", 512: "SYCL"}
# capfilt doctor's sgemm probe at SGEMM_TARGET_THREADS against the best of OpenBLAS and oneDNN.
SGEMM_TARGET = 0.85
SGEMM_TARGET_THREADS = 2

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


def parse_shapes(text: str | None) -> dict:
    """'name=MxKxN,MxKxN,...' -> {name: (m, k, n)}; a shape without a name is named MxKxN."""
    if not text:
        return dict(SGEMM_SHAPES)
    shapes = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, dims = item.rpartition("=")
        parts = dims.lower().split("x")
        if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise SystemExit(f"bad sgemm shape {item!r}: want NAME=MxKxN or MxKxN")
        m, k, n = (int(p) for p in parts)
        shapes[name or f"{m}x{k}x{n}"] = (m, k, n)
    if not shapes:
        raise SystemExit("no sgemm shapes given")
    return shapes


def format_shapes(shapes: dict) -> str:
    return ",".join(f"{name}={m}x{k}x{n}" for name, (m, k, n) in shapes.items())


def best_seconds(fn, reps: int = 3) -> float:
    """1 warm-up call, then the fastest of `reps` timed calls."""
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def random_operands(shapes: dict) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    return {
        name: (rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32))
        for name, (m, k, n) in shapes.items()
    }


def sgemm_worker(args) -> None:
    import numpy as np

    threads = args.threads
    shapes = parse_shapes(args.sgemm_shapes)
    res = dict(threads=threads, shapes={k: list(v) for k, v in shapes.items()}, numpy={}, system_openblas={}, torch={})

    def best_gflops(fn, m, k, n, reps=3):
        return 2.0 * m * k * n / best_seconds(fn, reps) / 1e9

    mats = random_operands(shapes)

    for name, (m, k, n) in shapes.items():
        a, b = mats[name]
        res["numpy"][name] = best_gflops(lambda: a @ b, m, k, n)
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        res["numpy_blas"] = dict(name=blas.get("name"), version=blas.get("version"), config=blas.get("openblas configuration"))
    except Exception as exc:  # noqa: BLE001
        res["numpy_blas"] = dict(error=str(exc))
    res["numpy_version"] = np.__version__

    libname = ctypes.util.find_library("openblas") or OPENBLAS_LIBRARY
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

    try:
        import torch
    except ImportError as exc:
        res["torch_info"] = dict(error=str(exc))
        print(json.dumps(res), flush=True)
        return
    torch.set_num_threads(threads)
    info = dict(version=torch.__version__, threads=torch.get_num_threads(), mkl=torch.backends.mkl.is_available())
    try:
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        pass
    res["torch_info"] = info
    for name, (m, k, n) in shapes.items():
        a, b = (torch.from_numpy(x) for x in mats[name])
        res["torch"][name] = best_gflops(lambda: torch.mm(a, b), m, k, n)
    print(json.dumps(res), flush=True)


def peer_worker(args) -> None:
    """One sgemm peer (--peer-worker openblas|onednn) in this process, whose environment already
    holds the thread count (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS) and any OPENBLAS_CORETYPE.

    Prints one JSON object per line as it goes: {"event": "loaded", ...} right after the library
    loads, then {"event": "result", ...} per shape, so that what was learnt before a crash (a
    forced core type whose instructions this CPU lacks dies with SIGILL at its first product)
    still reaches the driver. A forced core type that the library replaced by another one ends
    the process early with {"event": "skipped", ...}.
    """
    import numpy as np

    shapes = parse_shapes(args.sgemm_shapes)
    threads = args.threads
    fp = ctypes.POINTER(ctypes.c_float)

    def emit(**kw):
        print(json.dumps(kw), flush=True)

    if args.peer_worker == "openblas":
        try:
            lib = ctypes.CDLL(OPENBLAS_LIBRARY)
        except OSError:
            found = ctypes.util.find_library("openblas")
            if not found:
                emit(event="error", error=f"cannot load {OPENBLAS_LIBRARY}")
                raise SystemExit(2)
            lib = ctypes.CDLL(found)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_num_threads.restype = ctypes.c_int
        lib.cblas_sgemm.restype = None
        lib.cblas_sgemm.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
            ctypes.c_float, fp, ctypes.c_int, fp, ctypes.c_int, ctypes.c_float, fp, ctypes.c_int,
        ]
        core = lib.openblas_get_corename().decode()
        config = lib.openblas_get_config().decode()
        emit(
            event="loaded",
            requested_core=args.coretype,
            reported_core=core,
            config=config,
            version=config.split()[1] if config.startswith("OpenBLAS ") and len(config.split()) > 1 else None,
            library_threads=lib.openblas_get_num_threads(),
        )
        if args.coretype and core.lower() != args.coretype.lower():
            emit(event="skipped", reason=f"OPENBLAS_CORETYPE={args.coretype} gave core {core}")
            return

        def product(a, b, c, m, k, n):
            # CblasRowMajor, CblasNoTrans, CblasNoTrans
            lib.cblas_sgemm(101, 111, 111, m, n, k, 1.0, a.ctypes.data_as(fp), k, b.ctypes.data_as(fp), n, 0.0, c.ctypes.data_as(fp), n)
            return 0

    elif args.peer_worker == "onednn":
        try:
            lib = ctypes.CDLL(DNNL_LIBRARY)
        except OSError as exc:
            emit(event="error", error=f"cannot load {DNNL_LIBRARY} (Debian: apt-get install libdnnl-dev): {exc}")
            raise SystemExit(2)

        class DnnlVersion(ctypes.Structure):
            _fields_ = [
                ("major", ctypes.c_int),
                ("minor", ctypes.c_int),
                ("patch", ctypes.c_int),
                ("hash", ctypes.c_char_p),
                ("cpu_runtime", ctypes.c_uint),
                ("gpu_runtime", ctypes.c_uint),
            ]

        lib.dnnl_version.restype = ctypes.POINTER(DnnlVersion)
        lib.dnnl_get_effective_cpu_isa.restype = ctypes.c_int
        lib.dnnl_sgemm.restype = ctypes.c_int
        lib.dnnl_sgemm.argtypes = [
            ctypes.c_char, ctypes.c_char, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_float,
            fp, ctypes.c_int64, fp, ctypes.c_int64, ctypes.c_float, fp, ctypes.c_int64,
        ]
        v = lib.dnnl_version().contents
        isa = lib.dnnl_get_effective_cpu_isa()
        omp_threads = None
        try:  # oneDNN 2.6 on Debian runs on GNU OpenMP; this is the pool dnnl_sgemm will use
            omp_threads = ctypes.CDLL("libgomp.so.1").omp_get_max_threads()
        except (OSError, AttributeError):
            pass
        emit(
            event="loaded",
            version=f"{v.major}.{v.minor}.{v.patch}",
            hash=v.hash.decode() if v.hash else None,
            cpu_runtime=DNNL_RUNTIME.get(v.cpu_runtime, str(v.cpu_runtime)),
            gpu_runtime=DNNL_RUNTIME.get(v.gpu_runtime, str(v.gpu_runtime)),
            isa=DNNL_CPU_ISA.get(isa, f"unknown ({isa:#x})"),
            isa_value=isa,
            omp_max_threads=omp_threads,
        )

        def product(a, b, c, m, k, n):
            # dnnl_sgemm is row-major: C (M x N) = A (M x K) B (K x N)
            return lib.dnnl_sgemm(b"N", b"N", m, n, k, 1.0, a.ctypes.data_as(fp), k, b.ctypes.data_as(fp), n, 0.0, c.ctypes.data_as(fp), n)

    else:
        raise SystemExit(f"unknown peer {args.peer_worker}")

    mats = random_operands(shapes)
    for name, (m, k, n) in shapes.items():
        a, b = mats[name]
        c = np.empty((m, n), dtype=np.float32)
        status = product(a, b, c, m, k, n)
        if status != 0:
            emit(event="error", shape=name, error=f"status {status}")
            raise SystemExit(3)
        # the first rows against a float64 product (a wrong argument would still run fast); no BLAS
        # call here, since numpy's own BLAS also reads OPENBLAS_CORETYPE
        rows = min(m, 4)
        b64 = b.astype(np.float64)
        want = np.stack([(a[i].astype(np.float64)[:, None] * b64).sum(axis=0) for i in range(rows)])
        rel_error = float(np.abs(c[:rows] - want).max() / max(np.abs(want).max(), 1e-30))
        seconds = best_seconds(lambda: product(a, b, c, m, k, n))
        emit(event="result", shape=name, m=m, k=k, n=n, seconds=seconds, gflops=2.0 * m * k * n / seconds / 1e9, rel_error=rel_error)


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


def capfilt_executable(args) -> str | None:
    """None when args.capfilt is a runnable file, else why not."""
    if args.capfilt is None:
        return "not run (--no-capfilt)"
    if not Path(args.capfilt).is_file() or not os.access(args.capfilt, os.X_OK):
        return f"no executable at {args.capfilt}"
    return None


def bench_executable(args) -> str | None:
    """None when args.capfilt_bench is a runnable file, else why not."""
    if args.capfilt_bench is None:
        return "not run (--no-capfilt)"
    if not Path(args.capfilt_bench).is_file() or not os.access(args.capfilt_bench, os.X_OK):
        return f"no executable at {args.capfilt_bench}"
    return None


def run_capfilt_case(args, case: str, precision: str = "fp32") -> dict:
    spec = CASES[case]
    batch = args.batch or spec["batch"]
    why = bench_executable(args)
    if why:
        return dict(status="missing", error=why)
    cmd = [
        str(args.capfilt_bench), "med", "--model", str(args.cache / spec["model"]), "--case", case,
        "--batch", str(batch), "--repeat", str(args.repeat), "--threads", str(args.threads),
        "--precision", precision, "--json",
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
    if res.get("precision", precision) != precision:
        return dict(status="failed", error=f"asked for --precision {precision}, capfilt reported {res.get('precision')}")
    res["status"] = "ok"
    res.setdefault("precision", precision)
    res["self_reported_peak_rss_bytes"] = res.get("peak_rss_bytes")
    res["peak_rss_bytes"] = r["peak_rss_bytes"]
    res["process_wall_seconds"] = r["wall"]
    return res


def run_sgemm(args) -> dict:
    out = {}
    for threads in SGEMM_THREADS:
        cmd = [
            sys.executable, str(Path(__file__).resolve()), "--sgemm-worker", "--threads", str(threads),
            "--sgemm-shapes", format_shapes(args.shapes),
        ]
        r = run_with_rss(cmd, worker_env(threads), args.timeout)
        res = last_json(r.get("stdout", "")) if r["ok"] else None
        out[str(threads)] = res if res is not None else dict(error=r.get("error") or r.get("stderr", "")[-500:] or "no JSON result line")
        why = bench_executable(args)
        if why is None:
            c = run_with_rss(
                [str(args.capfilt_bench), "med", "--case", "sgemm", "--threads", str(threads), "--json"],
                worker_env(threads),
                args.timeout,
            )
            obj = last_json(c.get("stdout", "")) if c["ok"] else None
            out[str(threads)]["capfilt"] = obj if obj and "gflops" in obj else dict(status="missing", error=c.get("error") or c.get("stderr", "")[-300:])
        else:
            out[str(threads)]["capfilt"] = dict(status="missing", error=why)
    return out


def json_lines(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def exit_description(rc: int | None) -> str:
    if rc is None:
        return "did not finish"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"


def run_peer(args, library: str, threads: int, coretype: str | None = None) -> dict:
    """One peer process (see peer_worker); its record for benchmarks.json."""
    env = worker_env(threads)
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--peer-worker", library, "--threads", str(threads),
        "--sgemm-shapes", format_shapes(args.shapes),
    ]
    if coretype:
        cmd += ["--coretype", coretype]
    r = run_with_rss(cmd, env, args.timeout)
    rec = dict(library=library, threads=threads, requested_core=coretype, gflops={}, seconds={}, rel_error={})
    skipped = error = None
    for ev in json_lines(r.get("stdout", "")):
        kind = ev.pop("event", None)
        if kind == "loaded":
            rec.update(ev)
        elif kind == "result":
            rec["gflops"][ev["shape"]] = ev["gflops"]
            rec["seconds"][ev["shape"]] = ev["seconds"]
            rec["rel_error"][ev["shape"]] = ev["rel_error"]
        elif kind == "skipped":
            skipped = ev.get("reason")
        elif kind == "error":
            error = ev.get("error")
    rec["peak_rss_bytes"] = r.get("peak_rss_bytes")
    if skipped:
        rec.update(status="unsupported", reason=skipped, note=f"unsupported on this CPU ({skipped})")
    elif r["ok"] and len(rec["gflops"]) == len(args.shapes):
        rec["status"] = "ok"
    elif coretype and r.get("rc") is not None and r["rc"] < 0:
        reported = rec.get("reported_core")
        reason = f"core {reported or '?'} {exit_description(r['rc'])}"
        rec.update(status="unsupported", reason=reason, note=f"unsupported on this CPU ({reason})", rc=r["rc"])
    else:
        rec.update(
            status="missing" if error and "cannot load" in error else "failed",
            note=error or r.get("error") or exit_description(r.get("rc")),
            rc=r.get("rc"),
            stderr=r.get("stderr", "")[-1000:],
        )
    return rec


def peer_label(rec: dict) -> str:
    if rec["library"] == "openblas":
        how = f"OPENBLAS_CORETYPE={rec['requested_core']}" if rec.get("requested_core") else "detected core"
        return f"OpenBLAS {rec.get('version') or ''} {how}".replace("  ", " ")
    return f"oneDNN {rec.get('version') or ''} dnnl_sgemm".replace("  ", " ")


def peer_core(rec: dict) -> str:
    if rec["library"] == "openblas":
        return rec.get("reported_core") or "?"
    if rec.get("isa"):
        return f"{rec['isa']} ({rec.get('cpu_runtime', '?')}, omp_get_max_threads {rec.get('omp_max_threads', '?')})"
    return "?"


def run_sgemm_peers(args) -> dict:
    runs = []
    for threads in SGEMM_THREADS:
        plan = [("openblas", None)] + [("openblas", c) for c in OPENBLAS_CORETYPES] + [("onednn", None)]
        for library, coretype in plan:
            rec = run_peer(args, library, threads, coretype)
            runs.append(rec)
            if rec["status"] == "ok":
                what = ", ".join(f"{s} {g:.1f}" for s, g in rec["gflops"].items())
                print(f"[sgemm peers] {peer_label(rec)} [{peer_core(rec)}], {threads} thread(s): {what} GFLOP/s", flush=True)
            else:
                print(f"[sgemm peers] {peer_label(rec)}, {threads} thread(s): {rec['status']}: {rec.get('note')}", flush=True)
    return dict(shapes={k: list(v) for k, v in args.shapes.items()}, threads=list(SGEMM_THREADS), runs=runs)


def run_doctor(args, json_mode: bool) -> dict:
    """capfilt doctor at each of SGEMM_THREADS: {threads: text or JSON object, or an error}."""
    out = {}
    for threads in SGEMM_THREADS:
        if not args.capfilt or not Path(args.capfilt).is_file():
            out[str(threads)] = dict(status="missing", error=f"no executable at {args.capfilt}" if args.capfilt else "not run (--no-capfilt)")
            continue
        cmd = [str(args.capfilt), "doctor", "--threads", str(threads)] + (["--json"] if json_mode else [])
        r = run_with_rss(cmd, worker_env(threads), args.timeout)
        if not r["ok"]:
            out[str(threads)] = dict(
                status="missing",
                error=(r.get("error") or exit_description(r.get("rc"))) + (": " + r["stderr"].strip()[-300:] if r.get("stderr", "").strip() else ""),
            )
            if not json_mode and r.get("stdout", "").strip():
                out[str(threads)]["text"] = r["stdout"].rstrip()  # what it found before failing
        elif json_mode:
            obj = last_json(r.get("stdout", ""))
            out[str(threads)] = obj if obj is not None else dict(status="missing", error="no JSON object on the last stdout line")
        else:
            out[str(threads)] = dict(status="ok", text=r.get("stdout", "").rstrip())
    return out


def peer_rows(report: dict) -> list[dict]:
    """Every matrix-product measurement of this run, one row per (who, shape, threads)."""
    rows = []
    peers = report.get("sgemm_peers") or {}
    for rec in peers.get("runs", []):
        label, core = peer_label(rec), peer_core(rec)
        if rec.get("status") == "ok":
            for shape, g in rec["gflops"].items():
                rows.append(dict(who=label, kind=rec["library"], core=core, shape=shape, threads=rec["threads"], gflops=g))
        else:
            rows.append(dict(who=label, kind=rec["library"], core=rec.get("reported_core") or "—", shape=None, threads=rec["threads"], gflops=None, note=rec.get("note") or rec.get("status")))
    for threads, r in (report.get("sgemm") or {}).items():
        if not isinstance(r, dict):
            continue
        nb, ti = r.get("numpy_blas") or {}, r.get("torch_info") or {}
        for shape, g in (r.get("numpy") or {}).items():
            who = f"numpy {r.get('numpy_version', '')} (own {nb.get('name', 'BLAS')} {nb.get('version', '')})".replace(" )", ")")
            rows.append(dict(who=who, kind="numpy", core="—", shape=shape, threads=int(threads), gflops=g))
        for shape, g in (r.get("torch") or {}).items():
            core = ti.get("cpu_capability") or "?"
            rows.append(dict(who=f"torch {ti.get('version', '')} torch.mm" + (" (MKL)" if ti.get("mkl") else ""), kind="torch", core=core, shape=shape, threads=int(threads), gflops=g))
        c = r.get("capfilt") or {}
        if "gflops" in c:
            shape = shape_name(report, (c.get("m"), c.get("k"), c.get("n")))
            rows.append(dict(who="capfilt-bench med --case sgemm", kind="capfilt", core="—", shape=shape, threads=int(threads), gflops=c["gflops"]))
    for threads, d in ((report.get("doctor") or {}).get("json") or {}).items():
        probe = d.get("sgemm") if isinstance(d, dict) else None
        if isinstance(probe, dict) and probe.get("gflops") is not None:
            kern = d.get("kernels") or {}
            core = f"OpenBLAS {kern.get('openblas_core', '?')} ({kern.get('openblas_core_source', '?')}), elementwise {kern.get('elementwise', '?')}"
            shape = shape_name(report, (probe.get("m"), probe.get("k"), probe.get("n")))
            rows.append(dict(who="capfilt doctor sgemm probe", kind="capfilt", core=core, shape=shape, threads=int(threads), gflops=probe["gflops"]))
    return rows


def shape_name(report: dict, mkn: tuple) -> str:
    for name, dims in ((report.get("sgemm_peers") or {}).get("shapes") or SGEMM_SHAPES).items():
        if tuple(dims) == tuple(mkn):
            return name
    m, k, n = mkn
    return f"{m}x{k}x{n}" if None not in mkn else "?"


def compare_sgemm(report: dict) -> dict:
    """capfilt doctor's probe at SGEMM_TARGET_THREADS against the best OpenBLAS / oneDNN run at its shape."""
    threads = SGEMM_TARGET_THREADS
    out = dict(threads=threads, target=SGEMM_TARGET, reference="best of OpenBLAS (detected or forced core type) and oneDNN")
    d = ((report.get("doctor") or {}).get("json") or {}).get(str(threads)) or {}
    probe = d.get("sgemm") if isinstance(d.get("sgemm"), dict) else None
    if not probe or probe.get("gflops") is None:
        out.update(status="missing", error=d.get("error") or "capfilt doctor --json gave no sgemm probe")
        return out
    mkn = (probe.get("m"), probe.get("k"), probe.get("n"))
    shape = shape_name(report, mkn)
    out.update(shape=shape, dims=list(mkn), capfilt_gflops=probe["gflops"], peak_gflops=d.get("peak_gflops"), peak_fraction=d.get("peak_fraction"))
    rows = [r for r in peer_rows(report) if r["shape"] == shape and r["threads"] == threads and r["gflops"] is not None]
    ref = [r for r in rows if r["kind"] in ("openblas", "onednn")]
    if not ref:
        out.update(status="no peer", error=f"no OpenBLAS or oneDNN result for {shape} at {threads} threads")
        return out
    best = max(ref, key=lambda r: r["gflops"])
    fraction = probe["gflops"] / best["gflops"]
    out.update(status="ok", best=dict(who=best["who"], core=best["core"], gflops=best["gflops"]), fraction=fraction, met=fraction >= SGEMM_TARGET)
    others = [r for r in rows if r["kind"] in ("numpy", "torch") and r["gflops"] > best["gflops"]]
    if others:
        top = max(others, key=lambda r: r["gflops"])
        out["faster_outside_reference"] = dict(who=top["who"], gflops=top["gflops"], fraction=probe["gflops"] / top["gflops"])
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
    for key in ("precision", "kernels", "bf16_products"):  # what capfilt-bench med reports about itself
        values = sorted({r[key] for r in ok if r.get(key)})
        if values:
            res[key] = values[0] if len(values) == 1 else values
    return res


# ----------------------------------------------------------------------------------------------
# Whole-process comparison: capfilt caption / score against a whole PyTorch script


def process_inputs(cache: Path, workdir: Path) -> dict:
    """The images of the whole-process cases and the score TSV (image<TAB>text, image-major)."""
    images = [str(p) for p in image_paths(cache, PROCESS_IMAGES)]
    pairs = workdir / "pairs.tsv"
    pairs.write_text("".join(f"{image}\t{text}\n" for image in images for text in PROCESS_TEXTS))
    return dict(images=images, pairs=str(pairs), pair_count=len(images) * len(PROCESS_TEXTS))


def process_command(args, case: str, side: str, inputs: dict, precision: str | None = None) -> list[str]:
    folder = str(args.cache / PROCESS_CASES[case]["model"])
    threads, batch = str(args.threads), str(PROCESS_BATCH)
    if side == "pytorch":
        cmd = [sys.executable, str(PROCESS_SCRIPT), case, "--model", folder, "--threads", threads, "--batch-size", batch]
        if case == "caption":
            return cmd + ["--beams", "3", "--max-length", "20", "--min-length", "5"] + inputs["images"]
        return cmd + ["--pairs", inputs["pairs"]]
    cmd = [str(args.capfilt), case, "--model", folder, "--threads", threads, "--batch-size", batch, "--precision", precision]
    if case == "caption":  # beam 3 is capfilt caption's default
        return cmd + ["--max-length", "20", "--min-length", "5", "--json"] + inputs["images"]
    return cmd + ["--pairs", inputs["pairs"], "--json"]


def display_command(args, cmd: list[str], inputs: dict) -> str:
    """The command as the docs show it: CACHE for the cache folder, IMG1 .. IMGn for the images."""
    out, images = [], set(inputs["images"])
    for part in cmd:
        if part in images:
            if not out or out[-1] != f"IMG1 .. IMG{len(inputs['images'])}":
                out.append(f"IMG1 .. IMG{len(inputs['images'])}")
            continue
        if part == sys.executable:
            part = "python"
        elif args.capfilt and part == str(args.capfilt):
            part = "capfilt"
        elif part == inputs["pairs"]:
            part = "PAIRS.tsv"
        elif part.startswith(str(REPO) + os.sep):
            part = os.path.relpath(part, REPO)
        elif part.startswith(str(args.cache)):
            part = "CACHE" + part[len(str(args.cache)) :]
        out.append(part)
    return " ".join(out)


def process_outputs(case: str, side: str, stdout: str) -> tuple[list, str | None]:
    """The captions (caption) or ITM probabilities (score) a process printed, in input order,
    or an error when a line reports one."""
    values = []
    for obj in json_lines(stdout):
        if "error" in obj:
            return values, f"{obj.get('image')}: {obj['error']}"
        if case == "caption":
            if side == "pytorch":
                values.append(obj.get("caption"))
            else:
                captions = obj.get("captions") or [{}]
                values.append(captions[0].get("text"))
        else:
            values.append(obj.get("itm"))
    return values, None


def run_process(args, case: str, side: str, cmd: list[str], expected: int) -> dict:
    r = run_with_rss(cmd, worker_env(args.threads), args.timeout)
    values, error = process_outputs(case, side, r.get("stdout", ""))
    if not r["ok"] or error or len(values) != expected:
        why = r.get("error") or (exit_description(r.get("rc")) if not r["ok"] else error or f"{len(values)} results, want {expected}")
        return dict(status="failed", error=why, stderr=r.get("stderr", "")[-2000:])
    return dict(status="ok", wall_seconds=r["wall"], peak_rss_bytes=r["peak_rss_bytes"], outputs=values)


def combine_process(runs: list[dict], count: int) -> dict:
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return dict(status=runs[0].get("status", "missing") if runs else "not run", error=runs[0].get("error") if runs else "not run")
    walls = [r["wall_seconds"] for r in ok]
    median = statistics.median(walls)
    return dict(
        status="ok",
        wall_seconds=walls,
        median_wall_seconds=median,
        per_second=count / median,
        peak_rss_bytes=max(r["peak_rss_bytes"] for r in ok),
        rounds=len(ok),
    )


def process_agreement(case: str, reference: list[dict], other: list[dict]) -> dict | None:
    """How the first good outputs of two sides compare: identical captions, or the largest ITM difference."""
    a = next((r["outputs"] for r in reference if r.get("status") == "ok"), None)
    b = next((r["outputs"] for r in other if r.get("status") == "ok"), None)
    if a is None or b is None or len(a) != len(b):
        return None
    if case == "caption":
        return dict(identical_captions=sum(x == y for x, y in zip(a, b)), of=len(a))
    return dict(max_abs_itm_difference=max(abs(x - y) for x, y in zip(a, b)), of=len(a))


def run_process_part(args, process_cases: list[str], date: str) -> dict:
    extra_bf16 = "bf16" in args.precision_list and args.process_precision != "bf16"
    part = dict(
        date=date,
        threads=args.threads,
        rounds=args.rounds,
        precision=args.process_precision,
        extra_precision="bf16" if extra_bf16 else None,
        images=PROCESS_IMAGES,
        batch=PROCESS_BATCH,
        texts=list(PROCESS_TEXTS),
        commands={},
        cases={},
    )
    with tempfile.TemporaryDirectory(prefix="capfilt-bench-process-") as tmp:
        inputs = process_inputs(args.cache, Path(tmp))
        for case in process_cases:
            spec = PROCESS_CASES[case]
            count = PROCESS_IMAGES if case == "caption" else inputs["pair_count"]
            sides = {"pytorch": process_command(args, case, "pytorch", inputs)}
            if args.capfilt:
                sides["capfilt"] = process_command(args, case, "capfilt", inputs, args.process_precision)
                if extra_bf16:
                    sides["capfilt_bf16"] = process_command(args, case, "capfilt", inputs, "bf16")
            if args.no_pytorch:
                sides.pop("pytorch")
            part["commands"][case] = {side: display_command(args, cmd, inputs) for side, cmd in sides.items()}
            runs = {side: [] for side in ("pytorch", "capfilt", "capfilt_bf16")}
            missing = capfilt_executable(args)
            gave_up = set()  # sides that failed: not run again in later rounds
            for k in range(args.rounds):
                for side, cmd in sides.items():
                    if side != "pytorch" and missing:
                        runs[side] = [dict(status="missing", error=missing)]
                        continue
                    if side in gave_up:
                        continue
                    print(f"[process {case}] round {k + 1}: {side} ...", flush=True)
                    r = run_process(args, case, side, cmd, count)
                    runs[side].append(r)
                    print(f"[process {case}]   {side}: {process_summary(r, count, spec['unit'])}", flush=True)
                    if r.get("status") != "ok":
                        gave_up.add(side)
            rec = dict(count=count, unit=spec["unit"], target=spec["target"])
            for side, side_runs in runs.items():
                rec[side] = combine_process(side_runs, count) if side_runs else dict(status="not run")
                rec[side + "_runs"] = side_runs
            py = rec["pytorch"]
            for side in ("capfilt", "capfilt_bf16"):
                cf = rec[side]
                if py.get("status") == "ok" and cf.get("status") == "ok":
                    cf["speedup"] = py["median_wall_seconds"] / cf["median_wall_seconds"]
                    if side == "capfilt":
                        cf["met"] = cf["speedup"] >= spec["target"]
                agreement = process_agreement(case, runs["pytorch"], runs[side])
                if agreement:
                    cf["agreement_with_pytorch"] = agreement
            part["cases"][case] = rec
            c = rec.get("capfilt", {})
            if c.get("speedup") is not None:
                print(
                    f"[process {case}] capfilt ({args.process_precision}) / PyTorch: {c['speedup']:.2f}x; "
                    f"target >= {spec['target']}x: {'met' if c['met'] else 'not met'}",
                    flush=True,
                )
    return part


def process_summary(r: dict, count: int, unit: str) -> str:
    if r.get("status") != "ok":
        return f"{r.get('status')}: {r.get('error')}"
    return (
        f"{r['wall_seconds']:.2f} s wall ({count / r['wall_seconds']:.3f} {unit}/s), "
        f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB"
    )


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
    v = {}
    for name in ("torch", "transformers", "numpy"):
        try:
            v[name] = __import__(name).__version__
        except ImportError:
            v[name] = "not installed"
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
    ]
    carried = []
    if report.get("results_date"):
        carried.append(f"the model results (Results) from {report['results_date']}")
    if report.get("process_kept") and report.get("process"):
        carried.append(f"the whole-process comparison from {report['process'].get('date', '?')}")
    if report.get("sgemm_date"):
        carried.append(f"the matrix products (and capfilt doctor's sgemm probe) from {report['sgemm_date']}")
    if carried:
        lines.append(
            "Parts this run did not measure are carried over from benchmarks.json of the last run that did: "
            + "; ".join(carried)
            + ". Machine and versions below are this run's."
        )
    lines += [
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
    ]
    lines += doctor_section(report)
    precisions = report.get("precisions") or ["fp32"]
    kernels = kernel_paths(report)
    bf16_line = (
        "- bf16 (`--precision bf16`): capfilt stores the linear layers' weights as bfloat16 (biases, LayerNorm and embeddings "
        "stay float32) and accumulates the products in float32; PyTorch runs fp32 throughout. "
        if "bf16" in precisions or "bf16" in ((report.get("process") or {}).get("precision"), (report.get("process") or {}).get("extra_precision"))
        else "- "
    )
    bf16_line += (
        f"capfilt's element-wise kernel path (as `capfilt-bench med` reported it): {', '.join(f'`{k}`' for k in kernels)}."
        if kernels
        else "capfilt's element-wise kernel path: not reported."
    )
    bf16_products = reported_values(report, "bf16_products", ("capfilt_bf16",))
    if bf16_products:
        bf16_line += (
            f" Products with bf16 weights: {', '.join(f'`{v}`' for v in bf16_products)} "
            "(`avx512_bf16`: vdpbf16ps with the activations rounded to bf16; `widened`: the weights widened to float32 for sgemm)."
        )
    lines += [
        "## Method",
        "",
        f"- Random BLIP-base weights (ViT-B/16 at 384 px, BERT-base text, vocab 30524; {(report.get('cache') or {}).get('init', '')}), "
        "fp32 in the files, the same files for both sides (`--cache` folder).",
        f"- {report['threads']} threads on both sides (`torch.set_num_threads`, `--threads`); PyTorch under `torch.inference_mode()`.",
        f"- Each measurement is a fresh process: 1 warm-up run, then {report['repeat']} timed runs; "
        f"{report['rounds']} round(s) per case alternating PyTorch, "
        + ", ".join(f"capfilt {p}" for p in precisions)
        + ", PyTorch, ...; the median of all timed runs is reported.",
        bf16_line,
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
        "| case | batch | PyTorch images/s | capfilt images/s | capfilt / PyTorch | target | PyTorch peak RSS (MiB) | capfilt peak RSS (MiB) "
        "| capfilt bf16 images/s | bf16 / capfilt fp32 | bf16 / PyTorch | capfilt bf16 peak RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, r in report["results"].items():
        py, cf, bf = r["pytorch"], r["capfilt"], r.get("capfilt_bf16") or dict(status="not run")
        py_ips, cf_ips, bf_ips = (x.get("images_per_second") if x.get("status") == "ok" else None for x in (py, cf, bf))
        ratio = cf_ips / py_ips if py_ips and cf_ips else None
        target = (CASES.get(case) or {}).get("target")
        verdict = ""
        if ratio is not None and target is not None:
            verdict = " (met)" if ratio >= target else " (not met)"
        lines.append(
            f"| {case} | {r['batch']} | {fmt(py_ips)} | {fmt(cf_ips) if cf_ips else cf.get('status', 'missing')} | "
            f"{fmt(ratio, '.2f')}{verdict} | {('>= ' + format(target, '.1f') + 'x') if target else '—'} | "
            f"{fmt(mib(py.get('peak_rss_bytes')), '.0f')} | {fmt(mib(cf.get('peak_rss_bytes')), '.0f')} | "
            f"{fmt(bf_ips) if bf_ips else bf.get('status', 'missing')} | "
            f"{fmt(bf_ips / cf_ips if bf_ips and cf_ips else None, '.2f')} | {fmt(bf_ips / py_ips if bf_ips and py_ips else None, '.2f')} | "
            f"{fmt(mib(bf.get('peak_rss_bytes')) if bf.get('status') == 'ok' else None, '.0f')} |"
        )
    if not report["results"]:
        lines.append("| not run | | | | | | | | | | | |")
    else:
        lines += [
            "",
            "The target applies to capfilt fp32 / PyTorch. bf16 / capfilt fp32 and bf16 / PyTorch are speed ratios (images/s over images/s).",
            "",
            "Cases:",
            "",
        ]
        for case, spec in CASES.items():
            if case in report["results"]:
                lines.append(f"- `{case}`: {spec['what']}.")
        missing = {}
        for c, r in report["results"].items():
            for key, label in (("capfilt", "fp32"), ("capfilt_bf16", "bf16")):
                x = r.get(key) or {}
                if x.get("status") not in ("ok", "not run", None):
                    missing[f"{c}, {label}"] = x.get("error")
        if missing:
            lines += ["", "capfilt results missing: " + "; ".join(f"`{c}`: {e}" for c, e in missing.items()) + "."]

        lines += ["", "PyTorch preprocessing (decode + resize + normalise, per batch, median):", ""]
        for case, r in report["results"].items():
            p = r["pytorch"].get("preprocess_median_seconds")
            if p is not None:
                lines.append(f"- `{case}` (batch {r['batch']}): {p:.3f} s ({r['batch'] / p:.1f} images/s)")
    process_lines = process_section(report)
    if process_lines:
        lines += [""] + process_lines

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
        for side in ("pytorch", "capfilt", "capfilt_bf16"):
            rec = vis.get(side) or {}
            if side == "capfilt_bf16" and rec.get("status") != "ok":
                continue
            ips = rec.get("images_per_second") if rec.get("status") == "ok" else None
            label = {"capfilt": "capfilt fp32", "capfilt_bf16": "capfilt bf16"}.get(side, side)
            lines.append(f"| vision encoder, {label} ({report['threads']} threads) | {fmt(ips * fl['gflops'] if ips else None, '.1f')} |")
    sg = report.get("sgemm") or {}
    for threads, r in sg.items():
        if not isinstance(r, dict) or "error" in r and not any(r.get(lib) for lib in ("system_openblas", "numpy", "torch")):
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
        shapes = (one.get("shapes") if isinstance(one, dict) else None) or SGEMM_SHAPES
        lines += [
            "",
            f"system OpenBLAS (what capfilt links): {info.get('config', info.get('error', '?'))}, core {info.get('corename', '?')}. "
            f"numpy uses its own {nb.get('name', '?')} {nb.get('version', '')}; torch uses MKL. "
            "Shapes (M x K x N): " + ", ".join(f"{name} {shape_text(dims)}" for name, dims in shapes.items())
            + (" (vit_fc1_batch8: the ViT fc1 product at batch 8)" if "vit_fc1_batch8" in shapes else "") + ". Best of 3.",
        ]
    lines += [
        "",
        "Absolute numbers are noisy when other work shares the machine; the ratios come from alternating runs.",
        "",
    ]
    lines += matrix_section(report)
    kept = handwritten_sections(docs / "benchmarks.md")
    if kept:
        lines += [kept.rstrip("\n"), ""]
    (docs / "benchmarks.md").write_text("\n".join(lines))


def reported_values(report: dict, key: str, sides: tuple[str, ...]) -> list[str]:
    """The values of `key` that `capfilt-bench med` reported in the model cases for these sides
    (each a string, or a list when the runs differed), sorted and without repeats."""
    found = set()
    for r in (report.get("results") or {}).values():
        for side in sides:
            v = (r.get(side) or {}).get(key)
            if v:
                found.update([v] if isinstance(v, str) else v)
    return sorted(found)


def kernel_paths(report: dict) -> list[str]:
    """The element-wise kernel paths capfilt reported: `capfilt-bench med` in the model cases, else capfilt doctor."""
    found = set(reported_values(report, "kernels", ("capfilt", "capfilt_bf16")))
    if not found:
        for d in ((report.get("doctor") or {}).get("json") or {}).values():
            k = ((d or {}).get("kernels") or {}).get("elementwise") if isinstance(d, dict) else None
            if k:
                found.add(k)
    return sorted(found)


def process_section(report: dict) -> list[str]:
    part = report.get("process")
    if not part or not part.get("cases"):
        return []
    precision = part.get("precision", "fp32")
    extra = part.get("extra_precision")
    order = ["PyTorch"] + [f"capfilt {precision}"] + ([f"capfilt {extra}"] if extra else [])
    lines = [
        "## Whole process: capfilt commands against whole PyTorch scripts",
        "",
        f"Measured on {part.get('date', '?')}" + (" (carried over from that run)" if report.get("process_kept") else "") + ". "
        "Each side is one process, timed by the driver from its start to its exit (wall clock, median over the rounds): "
        "starting Python and importing torch / transformers, or starting the capfilt executable; loading the model; opening, "
        "decoding and preprocessing the images; the forward passes; decoding and printing the results. "
        f"{part.get('threads', '?')} threads on both sides; {part.get('rounds', '?')} round(s), each running "
        + ", ".join(order)
        + " in turn. Peak RSS: `ru_maxrss` of the process (os.wait4).",
        "",
        "The PyTorch side is `scripts/bench_process_pytorch.py`, the script a user would write: `torch.set_num_threads`, "
        "`BlipForConditionalGeneration` / `BlipForImageTextRetrieval.from_pretrained` (fp32), a `BlipProcessor` "
        "(built from `BlipImageProcessorPil` at 384 px and a `BertTokenizer` on capfilt's bundled vocabulary, since the "
        "benchmark's folders hold no processor files), the work under `torch.inference_mode()`, then printing. "
        f"The images are the first {part.get('images', PROCESS_IMAGES)} of the cache's JPEGs (640x480); the score pairs are "
        "each image with each of the texts "
        + ", ".join(f'"{t}"' for t in part.get("texts", PROCESS_TEXTS))
        + " (a TSV of image<TAB>text lines, image-major).",
        "",
        "Commands (CACHE: the `--cache` folder):",
        "",
    ]
    for case, cmds in (part.get("commands") or {}).items():
        for side, cmd in cmds.items():
            label = {"pytorch": "PyTorch", "capfilt": f"capfilt {precision}", "capfilt_bf16": "capfilt bf16"}.get(side, side)
            lines.append(f"- `{case}`, {label}: `{cmd}`")
    lines += [
        "",
        f"| case | work | PyTorch script | capfilt {precision} | capfilt / PyTorch | target"
        + (f" | capfilt {extra} | {extra} / PyTorch" if extra else "")
        + " | peak RSS (MiB): PyTorch / capfilt"
        + (f" {precision} / {extra}" if extra else "")
        + " |",
        "|---|---|---|---|---|---" + ("|---|---" if extra else "") + "|---|",
    ]

    def cell(x: dict, unit: str) -> str:
        if x.get("status") != "ok":
            return x.get("status", "missing")
        return f"{x['median_wall_seconds']:.2f} s ({x['per_second']:.3f} {unit}/s)"

    notes = []
    for case, rec in part["cases"].items():
        unit, target = rec.get("unit", "items"), rec.get("target")
        py, cf, bf = rec.get("pytorch") or {}, rec.get("capfilt") or {}, rec.get("capfilt_bf16") or {}
        ratio = cf.get("speedup")
        verdict = "" if ratio is None or target is None else (" (met)" if ratio >= target else " (not met)")
        what = (PROCESS_CASES.get(case) or {}).get("what", case)
        rss = [fmt(mib(x.get("peak_rss_bytes")) if x.get("status") == "ok" else None, ".0f") for x in ([py, cf] + ([bf] if extra else []))]
        lines.append(
            f"| {case} | {what} | {cell(py, unit)} | {cell(cf, unit)} | {fmt(ratio, '.2f')}{verdict} | "
            f"{('>= ' + format(target, '.1f') + 'x') if target else '—'}"
            + (f" | {cell(bf, unit)} | {fmt(bf.get('speedup'), '.2f')}" if extra else "")
            + f" | {' / '.join(rss)} |"
        )
        for key, label in (("capfilt", precision), ("capfilt_bf16", extra)):
            x = rec.get(key) or {}
            if label and x.get("status") not in ("ok", "not run", None):
                notes.append(f"`{case}`, capfilt {label}: {x.get('error')}")
            a = x.get("agreement_with_pytorch")
            if a and "identical_captions" in a:
                notes.append(f"`{case}`: capfilt {label} printed the same caption as PyTorch for {a['identical_captions']} of {a['of']} images")
            elif a:
                notes.append(f"`{case}`: largest |ITM probability difference| between capfilt {label} and PyTorch over the {a['of']} pairs: {a['max_abs_itm_difference']:.2e}")
        if py.get("status") not in ("ok", "not run", None):
            notes.append(f"`{case}`, PyTorch: {py.get('error')}")
    lines += [
        "",
        "Ratios are speeds (PyTorch's median wall time over capfilt's); the target applies to capfilt "
        f"{precision} / PyTorch.",
    ]
    if "score" in part["cases"]:
        lines += [
            "",
            "In `score`, Hugging Face's `BlipForImageTextRetrieval` forward runs the vision encoder once per pair "
            f"({part['cases']['score'].get('count', '?')} encodes), as a script that scores pairs with it does; capfilt score encodes "
            f"each distinct image once per group of `--batch-size` images ({part.get('images', PROCESS_IMAGES)} encodes) and also "
            "computes the ITC cosine of every pair.",
        ]
    if notes:
        lines += ["", "Outputs (first good run of each side): " + "; ".join(notes) + "."]
    return lines


# Sections that write_docs generates; any other "## " section of an existing benchmarks.md is
# written by hand (analysis, profiles) and is carried over, after the generated ones.
GENERATED_SECTIONS = (
    "Machine and versions",
    "capfilt doctor on this machine",
    "Method",
    "Results",
    "Whole process: capfilt commands against whole PyTorch scripts",
    "Vision encoder arithmetic vs sgemm",
    "Matrix products: capfilt against the best peer",
)


def handwritten_sections(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError:
        return ""
    kept, keep = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = line[3:].strip() not in GENERATED_SECTIONS
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


def shape_text(dims) -> str:
    m, k, n = dims
    return f"{m}^3" if m == k == n else f"{m}x{k}x{n}"


def doctor_section(report: dict) -> list[str]:
    doctor = (report.get("doctor") or {}).get("text")
    if doctor is None:
        return []
    lines = ["## capfilt doctor on this machine", ""]
    shown = {t: d for t, d in doctor.items() if isinstance(d, dict) and d.get("text")}
    if shown:
        lines.append("```")
        for t, d in shown.items():
            lines += [f"$ capfilt doctor --threads {t}", d["text"], ""]
        lines[-1] = "```"
        lines.append("")
    for t, d in doctor.items():
        if not isinstance(d, dict) or d.get("status") != "ok":
            lines += [f"`capfilt doctor --threads {t}` failed: {d.get('error') if isinstance(d, dict) else d}", ""]
    return lines


def matrix_section(report: dict) -> list[str]:
    peers = report.get("sgemm_peers")
    if not peers:
        return []
    rows = peer_rows(report)
    shapes = peers.get("shapes") or {k: list(v) for k, v in SGEMM_SHAPES.items()}
    order = {name: i for i, name in enumerate(shapes)}
    measured = sorted(
        (r for r in rows if r["gflops"] is not None),
        key=lambda r: (order.get(r["shape"], len(order)), r["shape"], r["threads"], -r["gflops"]),
    )
    cmp_ = report.get("sgemm_comparison") or {}
    best = cmp_.get("best") or {}
    lines = [
        "## Matrix products: capfilt against the best peer",
        "",
        "fp32 C = A B, row-major, random normal operands, best of 3 after a warm-up; every peer in a process of its own "
        "with its thread count (and OpenBLAS core type) in the environment before the library loads. "
        "OpenBLAS is the system library that capfilt links (`libopenblas.so.0`), once with the core type it detects and "
        "once per core type forced with `OPENBLAS_CORETYPE`; oneDNN is Debian's `libdnnl-dev` (`dnnl_sgemm`, OpenMP threads).",
        "",
        "| library | core / ISA it ran | shape (M x K x N) | threads | GFLOP/s |",
        "|---|---|---|---|---|",
    ]
    for r in measured:
        dims = shapes.get(r["shape"])
        shape = f"{r['shape']} ({shape_text(dims)})" if dims else r["shape"]
        mark = ""
        if best and r["threads"] == cmp_.get("threads") and r["shape"] == cmp_.get("shape") and r["who"] == best.get("who") and r["core"] == best.get("core"):
            mark = " (best peer)"
        who = f"**{r['who']}**" if r["kind"] == "capfilt" else r["who"]
        lines.append(f"| {who} | {r['core']} | {shape} | {r['threads']} | {r['gflops']:.1f}{mark} |")
    for r in rows:
        if r["gflops"] is None:
            lines.append(f"| {r['who']} | {r['core']} | — | {r['threads']} | {r.get('note')} |")

    dnnl = next((x for x in peers.get("runs", []) if x["library"] == "onednn" and x.get("version")), None)
    if dnnl:
        lines += [
            "",
            f"oneDNN {dnnl['version']} (hash {dnnl.get('hash')}, CPU runtime {dnnl.get('cpu_runtime')}, GPU runtime {dnnl.get('gpu_runtime')}) "
            f"dispatches to ISA `{dnnl.get('isa')}` (`dnnl_get_effective_cpu_isa` = {dnnl.get('isa_value', 0):#x}) on this CPU.",
        ]
    forced = [x for x in peers.get("runs", []) if x["library"] == "openblas" and x.get("requested_core")]
    if forced:
        seen = {}
        for x in forced:
            seen.setdefault(x["requested_core"], x)
        lines += [
            "",
            "OpenBLAS core types forced with `OPENBLAS_CORETYPE` (requested -> what `openblas_get_corename` reported): "
            + ", ".join(
                f"{c} -> {x.get('reported_core') or '?'}"
                + ("" if x["status"] == "ok" else f" ({x.get('reason') or x.get('note')}: unsupported on this CPU)" if x["status"] == "unsupported" else f" ({x['status']}: {x.get('note')})")
                for c, x in seen.items()
            )
            + ".",
        ]

    lines.append("")
    if cmp_.get("status") == "ok":
        verdict = "met" if cmp_["met"] else "not met"
        text = (
            f"**capfilt doctor's sgemm probe at {cmp_['threads']} threads ({cmp_['shape']}, {shape_text(cmp_['dims'])}): "
            f"{cmp_['capfilt_gflops']:.1f} GFLOP/s, {cmp_['fraction']:.2f} of the best peer, {best['who']} [{best['core']}] "
            f"at {best['gflops']:.1f} GFLOP/s. Target >= {SGEMM_TARGET:.2f} of the best of "
            f"{{OpenBLAS with its best core type forced, oneDNN}}: {verdict}.**"
        )
        if cmp_.get("peak_gflops"):
            text += f" capfilt doctor puts this CPU's peak at {cmp_['peak_gflops']:.1f} GFLOP/s ({fmt(cmp_.get('peak_fraction'), '.2f')} of it reached)."
        fo = cmp_.get("faster_outside_reference")
        if fo:
            text += f" Outside the target's reference, {fo['who']} reached {fo['gflops']:.1f} GFLOP/s here (capfilt: {fo['fraction']:.2f} of it)."
        lines.append(text)
    else:
        lines.append(
            f"**capfilt doctor's sgemm probe at {cmp_.get('threads', SGEMM_TARGET_THREADS)} threads: not measured "
            f"({cmp_.get('error', 'not run')}); target >= {SGEMM_TARGET:.2f} of the best of {{OpenBLAS with its best core type forced, oneDNN}}: not assessed.**"
        )
    lines.append("")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "capfilt-bench")
    parser.add_argument("--capfilt", type=Path, default=REPO / ".build" / "release" / "capfilt")
    parser.add_argument(
        "--capfilt-bench", type=Path, default=None, help="the benchmark executable (default: capfilt-bench next to --capfilt)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per process (after 1 warm-up)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating PyTorch/capfilt processes per case")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=None, help="override every case's batch size")
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="model cases, comma-separated (default: %(default)s); '' runs none and keeps the model results of DOCS/benchmarks.json",
    )
    parser.add_argument(
        "--precisions",
        default=",".join(PRECISIONS),
        help="capfilt weight formats timed in each round after PyTorch (default: %(default)s)",
    )
    parser.add_argument("--no-pytorch", action="store_true")
    parser.add_argument("--no-capfilt", action="store_true")
    parser.add_argument(
        "--no-sgemm", action="store_true", help="skip the matrix-product comparison (its results in DOCS/benchmarks.json are kept)"
    )
    parser.add_argument(
        "--process-cases",
        default=",".join(PROCESS_CASES),
        help="whole-process comparisons, comma-separated (default: %(default)s)",
    )
    parser.add_argument(
        "--no-process",
        action="store_true",
        help="skip the whole-process comparison (its results in DOCS/benchmarks.json are kept)",
    )
    parser.add_argument(
        "--process-precision",
        choices=PRECISIONS,
        default="fp32",
        help="--precision of capfilt caption / score in the whole-process comparison (default: %(default)s); "
        "with bf16 in --precisions, a bf16 run follows in each round as well",
    )
    parser.add_argument(
        "--sgemm-only",
        action="store_true",
        help="run only capfilt doctor and the matrix-product comparison (capfilt against OpenBLAS, oneDNN, numpy, torch); "
        "the model and whole-process results in DOCS/benchmarks.json are kept",
    )
    parser.add_argument(
        "--sgemm-shapes",
        default=format_shapes(SGEMM_SHAPES),
        help="matrix-product shapes, NAME=MxKxN,... (default: %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per process")
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--sgemm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--peer-worker", choices=["openblas", "onednn"], help=argparse.SUPPRESS)
    parser.add_argument("--coretype", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache = args.cache.expanduser().resolve()
    args.shapes = parse_shapes(args.sgemm_shapes)

    if args.worker:
        worker(args)
        return 0
    if args.sgemm_worker:
        sgemm_worker(args)
        return 0
    if args.peer_worker:
        peer_worker(args)
        return 0
    if args.sgemm_only and args.no_sgemm:
        parser.error("--sgemm-only and --no-sgemm exclude each other")

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            parser.error(f"unknown case {c}; known: {', '.join(CASES)}")
    args.precision_list = [p.strip() for p in args.precisions.split(",") if p.strip()]
    for p in args.precision_list:
        if p not in PRECISIONS:
            parser.error(f"unknown precision {p}; known: {', '.join(PRECISIONS)}")
    args.precision_list = [p for p in PRECISIONS if p in args.precision_list]  # fp32 first, no repeats
    process_cases = [c.strip() for c in args.process_cases.split(",") if c.strip()]
    for c in process_cases:
        if c not in PROCESS_CASES:
            parser.error(f"unknown process case {c}; known: {', '.join(PROCESS_CASES)}")
    if args.no_process or args.sgemm_only:
        process_cases = []
    if args.sgemm_only:
        cases = []
    if args.capfilt_bench is None:
        args.capfilt_bench = args.capfilt.with_name("capfilt-bench")
    if args.no_capfilt:
        args.capfilt = None
        args.capfilt_bench = None

    doctor_text = run_doctor(args, json_mode=False)
    for t, d in doctor_text.items():
        print(f"[doctor] capfilt doctor --threads {t}", flush=True)
        if d.get("text"):
            print(d["text"], flush=True)
        if d.get("status") != "ok":
            print(f"  failed: {d.get('error')}", flush=True)

    report = dict(
        date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        command=shlex.join(["scripts/bench_med.py"] + sys.argv[1:]),
        machine=machine_info(),
        versions=versions(args),
        doctor=dict(text=doctor_text),
        cache={},
        threads=args.threads,
        repeat=args.repeat,
        rounds=args.rounds,
        precisions=args.precision_list,
        vit_flops=vit_flops_per_image(),
        results={},
    )
    # A part that this run skips keeps its results from the last run that measured it.
    try:
        previous = json.loads((args.docs / "benchmarks.json").read_text())
    except (OSError, ValueError):
        previous = {}
    if not isinstance(previous, dict):
        previous = {}
    if not cases and previous.get("results"):
        for key in ("cache", "threads", "repeat", "rounds", "precisions", "results"):
            if key in previous:
                report[key] = previous[key]
        report["precisions"] = previous.get("precisions", ["fp32"])
        report["results_date"] = previous.get("results_date") or previous.get("date")
    if args.no_sgemm and (previous.get("sgemm") or previous.get("sgemm_peers")):
        for key in ("sgemm", "sgemm_peers", "sgemm_comparison"):
            if key in previous:
                report[key] = previous[key]
        doctor_json = (previous.get("doctor") or {}).get("json")
        if doctor_json:
            report["doctor"]["json"] = doctor_json
        report["sgemm_date"] = previous.get("sgemm_date") or previous.get("date")
    if not process_cases and previous.get("process"):
        report["process"] = previous["process"]
        report["process_kept"] = True
    if not args.sgemm_only:
        report["cache"] = ensure_cache(args.cache)

    for case in cases:
        runs_py = []
        runs_cf = {p: [] for p in args.precision_list}
        gave_up = set()  # precisions whose capfilt run failed: not tried again in later rounds
        for k in range(args.rounds):
            if not args.no_pytorch:
                print(f"[{case}] round {k + 1}: pytorch ...", flush=True)
                r = run_pytorch_case(args, case)
                runs_py.append(r)
                print(f"[{case}]   pytorch: {summary(r)}", flush=True)
            for precision in args.precision_list:
                if precision in gave_up:
                    continue
                print(f"[{case}] round {k + 1}: capfilt {precision} ...", flush=True)
                r = run_capfilt_case(args, case, precision)
                runs_cf[precision].append(r)
                print(f"[{case}]   capfilt {precision}: {summary(r)}" + (f" [kernels {r['kernels']}]" if r.get("kernels") else ""), flush=True)
                if r.get("status") != "ok":
                    gave_up.add(precision)
        rec = dict(batch=args.batch or CASES[case]["batch"], pytorch=combine(runs_py) if runs_py else dict(status="not run"))
        for precision in PRECISIONS:
            key = capfilt_key(precision)
            runs = runs_cf.get(precision)
            if runs is None:
                rec[key] = dict(status="not run", error=f"not in --precisions {args.precisions}")
            else:
                rec[key] = combine(runs)
            rec[key + "_runs"] = runs or []
        rec["pytorch_runs"] = runs_py
        report["results"][case] = rec
    if process_cases:
        report["process"] = run_process_part(args, process_cases, report["date"])
    if not args.no_sgemm:
        print("[sgemm] ...", flush=True)
        report["sgemm"] = run_sgemm(args)
        for t, r in report["sgemm"].items():
            print(f"[sgemm] {t} thread(s): {json.dumps({k: r.get(k) for k in ('system_openblas', 'numpy', 'torch')})}", flush=True)
        print("[sgemm peers] OpenBLAS (detected and forced core types), oneDNN ...", flush=True)
        report["sgemm_peers"] = run_sgemm_peers(args)
        report["doctor"]["json"] = run_doctor(args, json_mode=True)
        for t, d in report["doctor"]["json"].items():
            probe = d.get("sgemm") if isinstance(d, dict) else None
            print(f"[doctor --json] {t} thread(s): " + (json.dumps(probe) if probe else f"missing: {d.get('error')}"), flush=True)
        report["sgemm_comparison"] = compare_sgemm(report)
        c = report["sgemm_comparison"]
        if c.get("status") == "ok":
            print(
                f"[sgemm] capfilt doctor probe {c['capfilt_gflops']:.1f} GFLOP/s = {c['fraction']:.2f} of {c['best']['who']} "
                f"[{c['best']['core']}] {c['best']['gflops']:.1f} GFLOP/s ({c['shape']}, {c['threads']} threads); "
                f"target >= {SGEMM_TARGET}: {'met' if c['met'] else 'not met'}",
                flush=True,
            )
        else:
            print(f"[sgemm] capfilt against the best peer: {c.get('status')}: {c.get('error')}", flush=True)
    write_docs(args, report)
    print(f"wrote {args.docs / 'benchmarks.md'} and {args.docs / 'benchmarks.json'}")
    return 0


def capfilt_key(precision: str) -> str:
    """Where a model case keeps capfilt's results at a precision: capfilt (fp32), capfilt_bf16."""
    return "capfilt" if precision == "fp32" else f"capfilt_{precision}"


def summary(r: dict) -> str:
    if r.get("status") != "ok":
        return f"{r.get('status')}: {r.get('error')}"
    return (
        f"{r['images_per_second']:.3f} images/s (median {r['median_seconds']:.2f} s of {len(r['seconds'])}), "
        f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
