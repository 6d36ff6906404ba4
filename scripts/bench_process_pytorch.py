#!/usr/bin/env python3
"""A whole PyTorch/transformers script, as a user would write it: the PyTorch side of the
whole-process comparison in scripts/bench_med.py (which times this process from start to exit).

    python scripts/bench_process_pytorch.py caption --model DIR [--threads 2] [--batch-size 8]
        [--beams 3] [--max-length 20] [--min-length 5] IMAGE...
      -> one JSON line per image: {"image": ..., "caption": ...}
    python scripts/bench_process_pytorch.py score --model DIR [--threads 2] [--batch-size 8]
        --pairs PAIRS.tsv
      -> one JSON line per image<TAB>text pair: {"image": ..., "text": ..., "itm": ...}

Everything happens in this process: importing torch and transformers, loading the model
(BlipForConditionalGeneration or BlipForImageTextRetrieval) and the processor, opening and
preprocessing the images, the forward passes under torch.inference_mode(), decoding, printing.

The processor comes from DIR when DIR holds one (preprocessor_config.json and tokenizer files,
as a checkpoint from the Hub does). The benchmark's folders hold only config.json and the
weights, so then it is built from its parts: BlipImageProcessorPil at the model's image size and
a BertTokenizer on capfilt's bundled vocabulary (Sources/MED/Resources/vocab.txt, or --vocab)
with BLIP's [DEC] / [ENC] tokens added.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOCAB = REPO / "Sources" / "MED" / "Resources" / "vocab.txt"


def load_processor(folder: Path, vocab: Path, image_size: int):
    from transformers import BertTokenizer, BlipImageProcessorPil, BlipProcessor

    has_tokenizer = any((folder / name).exists() for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"))
    if (folder / "preprocessor_config.json").exists() and has_tokenizer:
        return BlipProcessor.from_pretrained(folder)
    tokenizer = BertTokenizer(vocab=str(vocab))
    tokenizer.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    image_processor = BlipImageProcessorPil(size={"height": image_size, "width": image_size})
    return BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)


def open_images(paths):
    from PIL import Image

    return [Image.open(p).convert("RGB") for p in paths]


def caption(args) -> None:
    import torch
    from transformers import BlipForConditionalGeneration

    torch.set_num_threads(args.threads)
    model = BlipForConditionalGeneration.from_pretrained(args.model, dtype=torch.float32).eval()
    processor = load_processor(args.model, args.vocab, model.config.vision_config.image_size)
    with torch.inference_mode():
        for start in range(0, len(args.images), args.batch_size):
            paths = args.images[start : start + args.batch_size]
            inputs = processor(images=open_images(paths), return_tensors="pt")
            out = model.generate(
                pixel_values=inputs.pixel_values,
                num_beams=args.beams,
                max_length=args.max_length,
                min_length=args.min_length,
            )
            texts = processor.batch_decode(out, skip_special_tokens=True)
            for path, text in zip(paths, texts):
                print(json.dumps(dict(image=path, caption=text.strip())), flush=True)


def score(args) -> None:
    import torch
    from transformers import BlipForImageTextRetrieval

    torch.set_num_threads(args.threads)
    pairs = []
    for n, line in enumerate(Path(args.pairs).read_text().splitlines(), 1):
        if not line:
            continue
        image, sep, text = line.partition("\t")
        if not sep:
            raise SystemExit(f"{args.pairs}:{n}: expected image<TAB>text")
        pairs.append((image, text))
    model = BlipForImageTextRetrieval.from_pretrained(args.model, dtype=torch.float32).eval()
    processor = load_processor(args.model, args.vocab, model.config.vision_config.image_size)
    with torch.inference_mode():
        for start in range(0, len(pairs), args.batch_size):
            chunk = pairs[start : start + args.batch_size]
            inputs = processor(
                images=open_images([p for p, _ in chunk]), text=[t for _, t in chunk], return_tensors="pt", padding=True
            )
            logits = model(
                input_ids=inputs.input_ids,
                attention_mask=inputs.attention_mask,
                pixel_values=inputs.pixel_values,
                use_itm_head=True,
            ).itm_score
            probabilities = torch.softmax(logits, dim=-1)[:, 1].tolist()
            for (image, text), p in zip(chunk, probabilities):
                print(json.dumps(dict(image=image, text=text, itm=p)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("caption", "score"):
        p = sub.add_parser(name)
        p.add_argument("--model", type=Path, required=True)
        p.add_argument("--vocab", type=Path, default=VOCAB, help="vocab.txt when DIR holds no tokenizer (default: %(default)s)")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--batch-size", type=int, default=8, help="images (caption) or pairs (score) per forward pass")
        if name == "caption":
            p.add_argument("--beams", type=int, default=3)
            p.add_argument("--max-length", type=int, default=20)
            p.add_argument("--min-length", type=int, default=5)
            p.add_argument("images", nargs="+")
        else:
            p.add_argument("--pairs", type=Path, required=True, help="image<TAB>text per line")
    args = parser.parse_args()
    if args.command == "caption":
        caption(args)
    else:
        score(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
