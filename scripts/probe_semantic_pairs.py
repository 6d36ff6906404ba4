#!/usr/bin/env python3
"""Which representation of the demo's web images tells a planted semantic duplicate from the
other images of its scene? docs/demo-results.md quotes this probe.

For each representation (the filter's ITC image embedding, the ViT's pooled output, its mean
patch token, all patch tokens, the raw pixels) it prints:
- the share of the planted pairs whose two images are each other's nearest neighbour by cosine;
- the precision of the cosine cut that keeps 95% of the planted pairs (the semantic dedup
  target's recall): planted pairs above the cut over all pairs of web images above it.

Run after `make demo` (it reads demo/work and demo/data), in the venv of `make venv`:

    .venv/bin/python scripts/probe_semantic_pairs.py [demo-folder]
"""
import json
import sqlite3
import sys

import numpy as np
import torch
from PIL import Image
from transformers import BlipForImageTextRetrieval

# BLIP's image normalisation (blip-facts: the CLIP mean and standard deviation).
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def web_images(root):
    """(key, pixels) of every decoded web sample of the first shard, resized to 64 px."""
    catalog = sqlite3.connect(f"{root}/work/shards/00000-of-00001/catalog.sqlite")
    rows = catalog.execute(
        "SELECT s.key, i.blob_path FROM samples s JOIN images i ON i.sha256 = s.image_sha256 WHERE s.origin = 'web'")
    keys, images = [], []
    for key, path in rows:
        # Blob paths are absolute; read them under `root` so a moved demo folder works.
        path = f"{root}/work/shards/" + path.split("/work/shards/", 1)[1]
        image = Image.open(path).convert("RGB").resize((64, 64), Image.BICUBIC)
        keys.append(key)
        images.append((np.asarray(image, dtype=np.float32) / 255 - MEAN) / STD)
    return keys, np.stack(images).transpose(0, 3, 1, 2)


def representations(root, pixels):
    model = BlipForImageTextRetrieval.from_pretrained(f"{root}/work/models/finetune_filter").eval()
    with torch.no_grad():
        out = model.vision_model(pixel_values=torch.from_numpy(pixels))
        hidden = out.last_hidden_state
        return {
            "ITC image embedding (what semantic dedup uses)": model.vision_proj(hidden[:, 0]).numpy(),
            "ViT pooled output": out.pooler_output.numpy(),
            "ViT mean patch token": hidden[:, 1:].mean(1).numpy(),
            "ViT patch tokens": hidden[:, 1:].reshape(hidden.shape[0], -1).numpy(),
            "pixels, mean removed": (pixels - pixels.mean(axis=(1, 2, 3), keepdims=True)).reshape(len(pixels), -1),
        }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "demo"
    keys, pixels = web_images(root)
    index = {key: n for n, key in enumerate(keys)}
    planted = [(index[p["original"]], index[p["variant"]])
               for p in json.load(open(f"{root}/data/semantic/planted_pairs.json"))
               if p["original"] in index and p["variant"] in index]
    print(f"{len(keys)} web images, {len(planted)} planted pairs")
    for name, features in representations(root, pixels).items():
        unit = features / np.linalg.norm(features, axis=1, keepdims=True)
        similarity = unit @ unit.T
        np.fill_diagonal(similarity, -1)
        pair_cosines = np.array([similarity[a, b] for a, b in planted])
        mutual = np.mean([similarity[a].max() <= similarity[a, b] and similarity[b].max() <= similarity[a, b]
                          for a, b in planted])
        cut = np.quantile(pair_cosines, 0.05)
        above = np.sum(similarity[np.triu_indices(len(keys), 1)] >= cut)
        precision = np.sum(pair_cosines >= cut) / max(above, 1)
        print(f"{name:48s} mutual nearest neighbours {mutual:.2f}; at 95% recall: cosine >= {cut:.4f}, "
              f"{above} pairs above, precision {precision:.4f}")


if __name__ == "__main__":
    main()
