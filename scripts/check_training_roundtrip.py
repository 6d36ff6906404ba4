#!/usr/bin/env python3
"""Round trip of capfilt's training checkpoints through Hugging Face transformers.

    python scripts/check_training_roundtrip.py [--capfilt .build/release/capfilt] [--keep DIR]
                                               [--threads T]

Everything happens in a temporary folder (or DIR with --keep, which is then left in place):

1. 24 small JPEGs of coloured shapes and a BLIP json list ([{image, caption}]) describing them.
2. `capfilt pretrain` from scratch at a tiny size (vision and text 32 wide, 2 layers, 2 heads,
   image 32, patch 8), saving a checkpoint halfway and at the end; then `capfilt finetune
   --task caption` from the final captioner folder and `capfilt finetune --task retrieval` from
   the final retrieval folder. So folders written by all three training entry points are checked.
3. Every saved folder is loaded with `from_pretrained(..., output_loading_info=True)`; any missing,
   unexpected or mismatched tensor (or loading error) fails the check.
4. Retrieval folders: `capfilt score --json` (ITM probability with [CLS] first, ITC cosine) for
   every image against every caption of the list plus a few other texts, compared with
   BlipForImageTextRetrieval (`use_itm_head=True`: softmax(itm_score)[:, 1]; `use_itm_head=False`:
   the cosine), 1e-4 absolute.
5. Captioner folders: `capfilt caption --json --beams 1` without a prompt, with "a picture of ",
   and with a min length that forces the caption past its natural end, compared with
   BlipForConditionalGeneration.generate(num_beams=1, do_sample=False, same max_length /
   min_length: both count [DEC] and the prompt). Token ids must be identical, and so must the text.
   The smallest gap between the best and second-best logit over all greedy steps is printed: a
   tiny gap would make greedy decoding ambiguous between the two implementations.

Both sides see the same pixels: the image is decoded by Pillow, converted to RGB and prepared by
BlipImageProcessorPil (bicubic resize to the model's image size, CLIP mean / std), as in
scripts/bench_med.py; capfilt decodes and resizes the same files itself. Tokens come from the
package's vocab.txt (BERT base uncased plus [DEC] = 30522 and [ENC] = 30523), since capfilt's
folders carry none.

Exit status 0 when everything matches; the last line is a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
VOCAB = REPO / "Sources" / "MED" / "Resources" / "vocab.txt"

DEC_ID = 30522
ENC_ID = 30523
SEP_ID = 102

SEED = 7
ITM_TOLERANCE = 1e-4
PROMPT = "a picture of "

MODEL_SIZE = [
    "--vision-width", "32", "--vision-layers", "2", "--vision-heads", "2",
    "--image-size", "32", "--patch-size", "8",
    "--text-width", "32", "--text-layers", "2", "--text-heads", "2",
    "--embed-dim", "32",
]
BATCH = 8
# Long enough that no greedy step is close to a tie: with 30 pre-training steps and 10 or 30
# caption fine-tuning steps the smallest gap between the best and second-best logit was 4.3e-5 or
# 2.6e-6 (the fine-tuned captioner); with these it is about 1e-4, far above the differences seen
# between the two implementations (ITM / ITC about 3e-7).
PRETRAIN_STEPS = 60
PRETRAIN_CHECKPOINT_EVERY = 30
FINETUNE_STEPS = 40

# Greedy settings: (name, prompt, max_length, min_length); lengths count [DEC] and the prompt.
CAPTION_CONFIGS = [
    ("greedy", None, 20, 5),
    ("greedy+prompt", PROMPT, 20, 5),
    ("greedy min12 max14", None, 14, 12),
]

# Scored against every image besides the 24 captions: unseen words, case and punctuation.
EXTRA_TEXTS = [
    "a dog running on the grass",
    "A RED Circle, on a white background!",
    "two blue squares and a green triangle",
]

COLOURS = [
    ("red", (220, 30, 30)),
    ("green", (30, 170, 50)),
    ("blue", (30, 60, 220)),
    ("yellow", (240, 215, 25)),
]
SHAPES = ["circle", "square", "triangle"]
BACKGROUNDS = [("white", (250, 250, 248)), ("black", (12, 12, 14))]
SIZES = [(64, 48), (48, 64), (56, 56), (40, 40)]


# ----------------------------------------------------------------------------------------------
# Data


def make_data(root: Path) -> tuple[list[Path], list[str]]:
    """24 JPEGs (4 colours x 3 shapes x 2 backgrounds, sizes and positions varying) + data.json."""
    rng = np.random.default_rng(SEED)
    images = root / "images"
    images.mkdir(parents=True)
    paths, captions, entries = [], [], []
    i = 0
    for colour_name, colour in COLOURS:
        for shape in SHAPES:
            for bg_name, bg in BACKGROUNDS:
                w, h = SIZES[i % len(SIZES)]
                img = Image.new("RGB", (w, h), bg)
                draw = ImageDraw.Draw(img)
                s = int(min(w, h) * rng.uniform(0.45, 0.7))
                x0 = int(rng.integers(0, w - s + 1))
                y0 = int(rng.integers(0, h - s + 1))
                box = [x0, y0, x0 + s - 1, y0 + s - 1]
                if shape == "circle":
                    draw.ellipse(box, fill=colour)
                elif shape == "square":
                    draw.rectangle(box, fill=colour)
                else:
                    draw.polygon([(x0 + s // 2, y0), (x0 + s - 1, y0 + s - 1), (x0, y0 + s - 1)], fill=colour)
                name = f"{i:02d}-{colour_name}-{shape}-{bg_name}.jpg"
                img.save(images / name, format="JPEG", quality=90)
                caption = f"a {colour_name} {shape} on a {bg_name} background"
                paths.append(images / name)
                captions.append(caption)
                entries.append({"image": f"images/{name}", "caption": caption})
                i += 1
    (root / "data.json").write_text(json.dumps(entries, indent=1) + "\n")
    return paths, captions


# ----------------------------------------------------------------------------------------------
# capfilt


def run(cmd: list[str], log: Path | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"FAIL: exit status {proc.returncode}: {' '.join(str(c) for c in cmd)}")
    return proc.stdout


def train(capfilt: Path, root: Path, threads: int) -> list[tuple[str, str, Path]]:
    """Runs the three training commands; returns (label, kind, folder) for every saved model."""
    common = ["--data", root / "data.json", "--batch-size", str(BATCH), "--lr", "1e-3",
              "--seed", str(SEED), "--threads", str(threads)]
    pre = root / "pretrain"
    run([capfilt, "pretrain", *common, "--output", pre, "--steps", str(PRETRAIN_STEPS),
         "--checkpoint-every", str(PRETRAIN_CHECKPOINT_EVERY), "--queue-size", str(2 * BATCH), *MODEL_SIZE],
        root / "pretrain.log")
    last = pre / f"checkpoint-{PRETRAIN_STEPS:06d}"
    cap = root / "finetune-caption"
    run([capfilt, "finetune", "--task", "caption", *common, "--output", cap, "--steps", str(FINETUNE_STEPS),
         "--init", last / "captioner"], root / "finetune-caption.log")
    ret = root / "finetune-retrieval"
    run([capfilt, "finetune", "--task", "retrieval", *common, "--output", ret, "--steps", str(FINETUNE_STEPS),
         "--queue-size", str(2 * BATCH), "--init", last / "retrieval"], root / "finetune-retrieval.log")

    folders = []
    for step in range(PRETRAIN_CHECKPOINT_EVERY, PRETRAIN_STEPS + 1, PRETRAIN_CHECKPOINT_EVERY):
        ck = pre / f"checkpoint-{step:06d}"
        folders.append((f"pretrain step {step} retrieval", "retrieval", ck / "retrieval"))
        folders.append((f"pretrain step {step} captioner", "captioner", ck / "captioner"))
    folders.append((f"finetune caption step {FINETUNE_STEPS}", "captioner",
                    cap / f"checkpoint-{FINETUNE_STEPS:06d}" / "captioner"))
    folders.append((f"finetune retrieval step {FINETUNE_STEPS}", "retrieval",
                    ret / f"checkpoint-{FINETUNE_STEPS:06d}" / "retrieval"))
    found = {p for p in pre.rglob("config.json")} | {p for p in cap.rglob("config.json")} | {p for p in ret.rglob("config.json")}
    expected = {f / "config.json" for _, _, f in folders}
    if found != expected:
        raise SystemExit(f"FAIL: saved folders {sorted(map(str, found))}, expected {sorted(map(str, expected))}")
    for _, _, f in folders:
        if not (f / "model.safetensors").is_file():
            raise SystemExit(f"FAIL: {f} has no model.safetensors")
    return folders


# ----------------------------------------------------------------------------------------------
# transformers


def make_tokenizer():
    from transformers import BertTokenizer

    tok = BertTokenizer(vocab=str(VOCAB))
    if tok.vocab_size != 30522:
        raise SystemExit(f"vocab not loaded from {VOCAB}: size {tok.vocab_size}")
    tok.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    assert tok.convert_tokens_to_ids(["[DEC]", "[ENC]"]) == [DEC_ID, ENC_ID]
    return tok


def pixel_values(paths: list[Path], image_size: int) -> torch.Tensor:
    from transformers import BlipImageProcessorPil

    processor = BlipImageProcessorPil(size={"height": image_size, "width": image_size})
    images = [Image.open(p).convert("RGB") for p in paths]
    return processor(images=images, return_tensors="pt").pixel_values.to(torch.float32)


def load(cls, folder: Path):
    model, info = cls.from_pretrained(folder, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        return None, f"loading info not empty: {problems}"
    return model.eval(), None


def check_retrieval(capfilt: Path, label: str, folder: Path, root: Path, paths, texts, tok, threads: int) -> dict:
    from transformers import BlipForImageTextRetrieval

    model, err = load(BlipForImageTextRetrieval, folder)
    if err:
        return dict(ok=False, loaded=False, errors=[f"{label}: {err}"], pairs=0, itm=math.inf, itc=math.inf)
    tsv = root / f"pairs-{label.replace(' ', '-')}.tsv"
    pairs = [(p, t) for t in texts for p in paths]
    tsv.write_text("".join(f"{p}\t{t}\n" for p, t in pairs))
    out = run([capfilt, "score", "--model", folder, "--pairs", tsv, "--json", "--threads", str(threads)])
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    errors = []
    if len(rows) != len(pairs):
        return dict(ok=False, errors=[f"{label}: capfilt score printed {len(rows)} lines for {len(pairs)} pairs"],
                    pairs=0, itm=math.inf, itc=math.inf)
    for (p, t), r in zip(pairs, rows):
        if r["image"] != str(p) or r["text"] != t:
            return dict(ok=False, errors=[f"{label}: capfilt score line for ({r['image']}, {r['text']}) "
                                          f"where ({p}, {t}) was expected"], pairs=0, itm=math.inf, itc=math.inf)

    pixels = pixel_values(paths, model.config.vision_config.image_size)
    worst = {"itm": (0.0, None), "itc": (0.0, None)}
    k = 0
    with torch.no_grad():
        for t in texts:
            enc = tok([t], return_tensors="pt")
            ids = enc.input_ids.expand(len(paths), -1)
            mask = enc.attention_mask.expand(len(paths), -1)
            itm = model(input_ids=ids, attention_mask=mask, pixel_values=pixels, use_itm_head=True).itm_score
            itm = torch.softmax(itm, dim=-1)[:, 1]
            itc = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, pixel_values=pixels,
                        use_itm_head=False).itm_score[:, 0]
            for i, p in enumerate(paths):
                r = rows[k]
                k += 1
                for name, ref in (("itm", itm[i].item()), ("itc", itc[i].item())):
                    d = abs(r[name] - ref) if isinstance(r.get(name), (int, float)) else math.nan
                    if not d <= ITM_TOLERANCE:  # also catches NaN
                        errors.append(f"{label}: {name} of ({p.name}, {t!r}): capfilt {r[name]:.8f}, "
                                      f"transformers {ref:.8f}, difference {d:.3g}")
                    if not d <= worst[name][0]:
                        worst[name] = (d, (p.name, t))
    return dict(ok=not errors, loaded=True, errors=errors, pairs=len(pairs), itm=worst["itm"][0], itc=worst["itc"][0],
                itm_at=worst["itm"][1], itc_at=worst["itc"][1])


def strip_output(seq: list[int], prompt_len: int) -> list[int]:
    """Cut after the first [SEP] produced after the prompt (what follows is padding)."""
    for i in range(prompt_len, len(seq)):
        if seq[i] == SEP_ID:
            return seq[: i + 1]
    return seq


def check_captioner(capfilt: Path, label: str, folder: Path, paths, tok, threads: int) -> dict:
    from transformers import BlipForConditionalGeneration

    model, err = load(BlipForConditionalGeneration, folder)
    if err:
        return dict(ok=False, loaded=False, errors=[f"{label}: {err}"], total=0, identical=0, gap=math.inf)
    pixels = pixel_values(paths, model.config.vision_config.image_size)
    errors = []
    total = identical = 0
    min_gap, gap_at = math.inf, None
    for name, prompt, max_length, min_length in CAPTION_CONFIGS:
        cmd = [capfilt, "caption", "--model", folder, "--json", "--beams", "1", "--max-length", str(max_length),
               "--min-length", str(min_length), "--threads", str(threads)]
        if prompt is not None:
            cmd += ["--prompt", prompt]
        rows = [json.loads(line) for line in run(cmd + list(paths)).splitlines() if line.strip()]
        if [r["image"] for r in rows] != [str(p) for p in paths]:
            errors.append(f"{label} {name}: capfilt caption printed images {[r['image'] for r in rows]}")
            continue

        kwargs = dict(num_beams=1, do_sample=False, max_length=max_length, min_length=min_length,
                      return_dict_in_generate=True, output_scores=True)
        with torch.no_grad():
            if prompt is not None:
                enc = tok([prompt] * len(paths), return_tensors="pt")
                ids = enc.input_ids.clone()
                out = model.generate(pixel_values=pixels, input_ids=ids, attention_mask=enc.attention_mask, **kwargs)
                prefix = [DEC_ID] + enc.input_ids[0, 1:-1].tolist()  # [CLS] -> [DEC], final [SEP] dropped
            else:
                out = model.generate(pixel_values=pixels, **kwargs)
                prefix = [DEC_ID]
        seqs = out.sequences.tolist()
        # Gap between the best and the second-best processed logit at every step of every unfinished row.
        finished = [False] * len(paths)
        gaps = [[] for _ in paths]
        for step, scores in enumerate(out.scores):
            top = torch.topk(scores, 2, dim=-1).values
            for b in range(len(paths)):
                if not finished[b]:
                    gap = (top[b, 0] - top[b, 1]).item()
                    gaps[b].append(gap)
                    if gap < min_gap:
                        min_gap, gap_at = gap, f"{name}, {paths[b].name}, token {len(prefix) + step}"
                    if seqs[b][len(prefix) + step] == SEP_ID:
                        finished[b] = True

        for b, (p, r) in enumerate(zip(paths, rows)):
            total += 1
            if seqs[b][: len(prefix)] != prefix:
                errors.append(f"{label} {name} {p.name}: transformers output starts {seqs[b][:len(prefix)]}, not {prefix}")
                continue
            ref_ids = strip_output(seqs[b], len(prefix))
            ref_text = tok.decode(ref_ids[len(prefix):], skip_special_tokens=True)
            got = r["captions"][0]
            if got["token_ids"] != ref_ids:
                j = next((j for j, (x, y) in enumerate(zip(got["token_ids"], ref_ids)) if x != y),
                         min(len(got["token_ids"]), len(ref_ids)))
                step = j - len(prefix)
                gap = f"{gaps[b][step]:.3g}" if 0 <= step < len(gaps[b]) else "n/a"
                errors.append(f"{label} {name} {p.name}: token ids differ from position {j} (transformers' "
                              f"best-vs-second logit gap there {gap}):\n    capfilt      {got['token_ids']}"
                              f"\n    transformers {ref_ids}")
            elif got["text"] != ref_text:
                errors.append(f"{label} {name} {p.name}: text differs: capfilt {got['text']!r}, "
                              f"transformers {ref_text!r}")
            else:
                identical += 1
            if not min_length <= len(ref_ids) <= max_length:
                errors.append(f"{label} {name} {p.name}: transformers caption of {len(ref_ids)} tokens "
                              f"outside [{min_length}, {max_length}]")
    return dict(ok=not errors, loaded=True, errors=errors, total=total, identical=identical, gap=min_gap, gap_at=gap_at)


# ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--capfilt", type=Path, default=REPO / ".build" / "release" / "capfilt")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR (emptied first) and leave it there")
    parser.add_argument("--threads", type=int, default=2, help="capfilt's compute threads")
    args = parser.parse_args()

    start = time.monotonic()
    capfilt = args.capfilt.resolve()
    if not capfilt.is_file():
        raise SystemExit(f"no capfilt binary at {capfilt} (make release)")
    # The models are tiny: one thread is fastest, and it cannot spin against a busy machine.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    transformers.logging.disable_progress_bar()

    if args.keep is not None:
        root = args.keep.resolve()
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="capfilt-roundtrip-")
        root = Path(tmp.name)

    paths, captions = make_data(root)
    texts = captions + EXTRA_TEXTS
    folders = train(capfilt, root, args.threads)
    train_seconds = time.monotonic() - start
    print(f"trained: pretrain {PRETRAIN_STEPS} steps (checkpoint every {PRETRAIN_CHECKPOINT_EVERY}), "
          f"finetune caption {FINETUNE_STEPS}, finetune retrieval {FINETUNE_STEPS} "
          f"({train_seconds:.1f} s); {len(folders)} folders to check")

    tok = make_tokenizer()
    errors: list[str] = []
    worst_itm = worst_itc = 0.0
    pairs = captions_total = captions_identical = 0
    min_gap = math.inf
    loaded = 0
    for label, kind, folder in folders:
        if kind == "retrieval":
            r = check_retrieval(capfilt, label, folder, root, paths, texts, tok, args.threads)
            worst_itm, worst_itc = max(worst_itm, r["itm"]), max(worst_itc, r["itc"])
            pairs += r["pairs"]
            print(f"{label}: loads cleanly: {'yes' if r['loaded'] else 'NO'}; {r['pairs']} pairs, "
                  f"worst ITM difference {r['itm']:.3g}, worst ITC difference {r['itc']:.3g}"
                  + ("" if r["ok"] else "  FAIL"))
        else:
            r = check_captioner(capfilt, label, folder, paths, tok, args.threads)
            captions_total += r["total"]
            captions_identical += r["identical"]
            min_gap = min(min_gap, r["gap"])
            print(f"{label}: loads cleanly: {'yes' if r['loaded'] else 'NO'}; captions identical "
                  f"{r['identical']}/{r['total']}, smallest greedy logit gap {r['gap']:.3g} ({r.get('gap_at')})"
                  + ("" if r["ok"] else "  FAIL"))
        for e in r["errors"][:10]:
            print("  " + e)
        if len(r["errors"]) > 10:
            print(f"  ... and {len(r['errors']) - 10} more")
        errors += r["errors"]
        loaded += r["loaded"]

    seconds = time.monotonic() - start
    verdict = "OK" if not errors else f"FAIL ({len(errors)} problems)"
    print(f"training round trip {verdict}: {loaded}/{len(folders)} saved folders load cleanly in transformers; "
          f"ITM/ITC over {pairs} pairs, worst difference itm {worst_itm:.3g} itc {worst_itc:.3g} "
          f"(tolerance {ITM_TOLERANCE:g}); greedy captions identical {captions_identical}/{captions_total} "
          f"(smallest logit gap {min_gap:.3g}); {seconds:.1f} s")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
