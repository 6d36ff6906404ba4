#!/usr/bin/env python3
"""Training-step benchmark for `make bench`: one BLIP pre-training step in capfilt and in PyTorch.

    python scripts/bench_training.py [--capfilt-bench BIN] [--rounds 3] [--warmup 2] [--steps 5] [--threads 2]

The model is the issue's 15.6M-parameter BLIP (vision 256 wide, 4 layers, 4 heads, image 128,
patch 16; text 256 wide, 4 layers, 4 heads, 30,524-token vocabulary; ITC projections 256;
queue 57,600), initialised N(0, 0.02), on a random batch of 16 images and 16 captions of 20
tokens. A step is: zero the gradients; ITC (momentum update, momentum features, queue, soft
targets), ITM over 3B pairs (hard negatives) and LM (label smoothing 0.1) forward and backward;
one AdamW update. PyTorch (torch CPU, `torch.set_num_threads(THREADS)`) runs the model the
training fixtures build from transformers' BLIP modules (scripts/make_training_fixtures.py,
wired as BLIP's blip_pretrain.py), capfilt `capfilt-bench train` (release build, THREADS engine
workers). PyTorch runs with OMP_WAIT_POLICY=PASSIVE: with OpenMP's default
spinning, a loaded machine makes its step 10x slower. Each run is a fresh process: WARMUP untimed steps, then STEPS timed
ones; runs alternate between the two for ROUNDS rounds. Reported: the median step over all timed
steps of each side, and each process's peak RSS (the largest over its runs). Results:
docs/benchmarks-training.json and docs/benchmarks-training.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BATCH, SEQ, QUEUE, EMBED = 16, 20, 57_600, 256
VISION = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=4,
              image_size=128, patch_size=16, layer_norm_eps=1e-5, hidden_act="gelu", initializer_range=0.02)
TEXT = dict(vocab_size=30524, hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=4,
            encoder_hidden_size=256, max_position_embeddings=512, layer_norm_eps=1e-12, hidden_act="gelu",
            bos_token_id=30522, sep_token_id=102, eos_token_id=102, pad_token_id=0, label_smoothing=0.1,
            initializer_range=0.02)
CAPFILT_ARGS = ["--vision-width", "256", "--vision-layers", "4", "--vision-heads", "4", "--image-size", "128",
                "--patch-size", "16", "--text-width", "256", "--text-layers", "4", "--text-heads", "4",
                "--embed-dim", str(EMBED), "--batch", str(BATCH), "--seq", str(SEQ), "--queue-size", str(QUEUE)]


def torch_worker(threads: int, warmup: int, steps: int) -> None:
    """One PyTorch run; prints a JSON line like capfilt-bench train's."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    sys.path.insert(0, str(REPO / "scripts"))
    import make_training_fixtures as fx
    from transformers import BlipConfig, BlipTextConfig, BlipVisionConfig

    # The fixture model reads these module constants at call time.
    fx.QUEUE, fx.PROJ = QUEUE, EMBED
    fx.DEC_ID, fx.ENC_ID = 30522, 30523
    fx.NEG_IMAGE_FOR_TEXT = [(i + 1) % BATCH for i in range(BATCH)]
    fx.NEG_TEXT_FOR_IMAGE = [(i + 2) % BATCH for i in range(BATCH)]
    torch.manual_seed(0)
    config = BlipConfig(vision_config=BlipVisionConfig(**VISION).to_dict(), text_config=BlipTextConfig(**TEXT).to_dict())
    model = fx.Pretrainer(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if name == "temp":
                p.fill_(0.07)
            elif "norm" in name.lower() and leaf == "weight":
                p.fill_(1.0)
            elif leaf == "bias":
                p.zero_()
            else:
                p.normal_(0, 0.02)
        model.image_queue.copy_(F.normalize(torch.randn(QUEUE, EMBED), dim=-1))
        model.text_queue.copy_(F.normalize(torch.randn(QUEUE, EMBED), dim=-1))
        for _, p, pm in model.momentum_pairs():
            pm.copy_(p)
    trainable = list(model.named_trainable().values())
    decay = [p for n, p in model.named_trainable().items() if p.ndim > 1 or "embedding" in n]
    rest = [p for p in trainable if all(p is not q for q in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
    pixels = torch.rand(BATCH, 3, VISION["image_size"], VISION["image_size"]) * 2 - 1
    ids = torch.randint(1000, 29_000, (BATCH, SEQ))
    ids[:, 0], ids[:, -1] = 101, 102
    mask = torch.ones(BATCH, SEQ, dtype=torch.long)
    times, cpu, losses = [], [], []
    for step in range(warmup + steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=False)
        total, _ = model(pixels, ids, mask, alpha=0.4)
        total.backward()
        opt.step()
        seconds = time.perf_counter() - start
        if step >= warmup:
            times.append(seconds)
            cpu.append(time.process_time() - cpu_start)
        losses.append(total.item())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = sum(p.numel() for p in trainable)
    print(json.dumps({"impl": "pytorch", "threads": threads, "parameters": params, "median_s": statistics.median(times),
                      "cpu_median_s": statistics.median(cpu),
                      "step_s": [round(t, 4) for t in times], "peak_rss_mb": round(rss, 1),
                      "losses": [round(x, 4) for x in losses]}))


def run(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capfilt-bench", default=str(REPO / ".build" / "release" / "capfilt-bench"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=["torch"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks-training")
    args = parser.parse_args()
    if args.worker == "torch":
        return torch_worker(args.threads, args.warmup, args.steps)

    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {"capfilt": [], "pytorch": []}
    # Passive OpenMP waiting: with the default active policy a thread whose partner is descheduled
    # spins, and on a shared machine the step then measures the scheduler (10x slower, 8x the CPU
    # time, seen at load 6-9); capfilt's workers block on a semaphore the same way.
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
    for r in range(args.rounds):
        for impl in ("capfilt", "pytorch") if r % 2 == 0 else ("pytorch", "capfilt"):
            if impl == "capfilt":
                res = run([args.capfilt_bench, "train", *CAPFILT_ARGS, "--threads", str(args.threads),
                           "--warmup", str(args.warmup), "--steps", str(args.steps)])
            else:
                res = run([sys.executable, __file__, "--worker", "torch", "--threads", str(args.threads),
                           "--warmup", str(args.warmup), "--steps", str(args.steps)], env=env)
            runs[impl].append(res)
            print(f"round {r + 1} {impl}: median {res['median_s']:.3f} s/step, peak RSS {res['peak_rss_mb']:.0f} MB",
                  file=sys.stderr)
    load_after = os.getloadavg()
    summary = {}
    for impl, rs in runs.items():
        steps = [t for res in rs for t in res["step_s"]]
        summary[impl] = {"median_s": statistics.median(steps), "min_s": min(steps), "max_s": max(steps),
                         "cpu_median_s": statistics.median(res["cpu_median_s"] for res in rs),
                         "peak_rss_mb": max(res["peak_rss_mb"] for res in rs), "parameters": rs[0]["parameters"],
                         "runs": rs}
    ratio = summary["pytorch"]["median_s"] / summary["capfilt"]["median_s"]
    cpu_ratio = summary["pytorch"]["cpu_median_s"] / summary["capfilt"]["cpu_median_s"]
    import torch
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in load_after]},
        "torch": torch.__version__, "threads": args.threads, "batch": BATCH, "seq": SEQ, "queue": QUEUE,
        "rounds": args.rounds, "warmup": args.warmup, "steps": args.steps,
        "capfilt": summary["capfilt"], "pytorch": summary["pytorch"], "speedup": ratio, "cpu_speedup": cpu_ratio,
    }
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    c, p = summary["capfilt"], summary["pytorch"]
    md = f"""# Training benchmark: one BLIP pre-training step

Generated by `scripts/bench_training.py` (`make bench`) on {result['date']}.

Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores; load average before
{load_before[0]:.2f}, after {load_after[0]:.2f} (other work on the machine slows both sides).
PyTorch {torch.__version__} (CPU, `OMP_WAIT_POLICY=PASSIVE`); both sides use {args.threads} threads.

Model: BLIP with a ViT of 256 wide, 4 layers, 4 heads, 128-pixel images, 16-pixel patches, a
BERT of 256 wide, 4 layers, 4 heads, the 30,524-token vocabulary, ITC projections of 256 and a
queue of {QUEUE:,} features ({c['parameters'] / 1e6:.1f}M trainable parameters on both sides). Batch:
{BATCH} images, {BATCH} captions of {SEQ} tokens. A step: zero gradients, ITC (momentum update,
momentum features, queue, soft targets) + ITM (3B pairs) + LM (label smoothing 0.1) forward and
backward, one AdamW update. {args.rounds} alternating rounds, each a fresh process with
{args.warmup} untimed and {args.steps} timed steps; medians over all timed steps.

| | s/step (median) | min | max | CPU s/step (both threads) | peak RSS |
|---|---|---|---|---|---|
| capfilt | {c['median_s']:.3f} | {c['min_s']:.3f} | {c['max_s']:.3f} | {c['cpu_median_s']:.3f} | {c['peak_rss_mb']:.0f} MB |
| PyTorch | {p['median_s']:.3f} | {p['min_s']:.3f} | {p['max_s']:.3f} | {p['cpu_median_s']:.3f} | {p['peak_rss_mb']:.0f} MB |

capfilt is **{ratio:.2f}x** PyTorch's speed (PyTorch's median / capfilt's); by CPU time per step,
**{p['cpu_median_s'] / c['cpu_median_s']:.2f}x** (CPU time is less sensitive to other work on the machine).
"""
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
