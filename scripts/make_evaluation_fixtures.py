#!/usr/bin/env python3
"""Reference values for Tests/EvaluationTests (BLEU, CIDEr-D, retrieval recall, filter metrics).

BLEU and CIDEr-D come from pycocoevalcap itself (pip install pycocoevalcap); the captions are
tokenised by its PTBTokenizer (the Stanford tokenizer, needs `java` on the PATH), exactly as the
COCO caption evaluation does. Retrieval recall follows BLIP's `itm_eval` (numpy argsort ranks);
the filter metrics and the paired standard error are written out here with numpy.

Usage: python scripts/make_evaluation_fixtures.py [OUT_DIR]
(default Tests/EvaluationTests/Fixtures)
"""
import json
import os
import sys

import numpy as np
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "EvaluationTests", "Fixtures")

# Hand-written captions with the punctuation real captions have (COCO style).
HAND = [
    ("A man riding a red motorbike on a dirt road.",
     ["A man with a red helmet on a small moped on a dirt road.",
      "Man riding a motor bike on a dirt road on the countryside.",
      "A man riding on the back of a motorcycle.",
      "A dirt path with a young person on a motor bike rests to the foreground.",
      "A man in a red shirt and a red hat is on a motorcycle on a hill side."]),
    ("a girl blowing out a candle",
     ["A young girl inhales with the intent of blowing out a candle.",
      "A young girl is preparing to blow out her candle.",
      "A kid is to blow out the single candle in a bowl of birthday goodness.",
      "Girl blowing out the candle on an ice-cream",
      "A little girl is getting ready to blow out a candle on a small dessert."]),
    ("Two red circles on the left of a blue background.",
     ["Two red circles on the left of a blue background.",
      "Two small, red circles sit on the left; the background is blue!",
      "A blue background with two red circles (on the left).",
      "On the left, two red circles -- against blue.",
      "There are two red circles on the left side of a blue image."]),
    ("the dog's ball isn't on the grass",
     ["A dog's ball is lying on the green grass.",
      "The dogs' toy: a ball, on a lawn.",
      "A \"tennis\" ball on the grass... near a dog.",
      "It's a yellow ball on the grass, isn't it?"]),
    ("a large striped triangle in the centre",
     ["A large striped triangle in the centre of a gray background.",
      "One big striped triangle placed in the middle, gray background.",
      "A gray background with a large, striped triangle in the centre."]),
    ("three dotted squares",
     ["Three small dotted squares at the top of a black background.",
      "A black background with three small dotted squares at the top.",
      "Three dotted squares near the top; black background."]),
    ("an orange",
     ["An orange diamond on the right of a navy background.",
      "One small orange diamond on the right, navy background.",
      "A navy background with an orange diamond on the right."]),
    ("a t-shirt with 3.5 stars and 1,000 dots",
     ["A t-shirt with 3.5 stars and 1,000 dots.",
      "A white t-shirt covered in dots and stars.",
      "The shirt's pattern: stars & dots."]),
]


# Punctuation cases for the tokenizer alone (the Stanford tokenizer's output, punctuation dropped).
TOKENIZER_LINES = [
    "A (big) [red] {box} here.",
    "Wait... what?! Yes--no - maybe",
    "cats' toys; 'quoted' text",
    "costs $5 or 5% at 12:30, ok",
    "a/b #1 @home e-mail ice-cream.",
    "Mr. Smith in the U.S. today.",
    "x,y and 3,4 and a:b",
    "I can't, won't; they're here, we've seen I'm sure he'd say she'll go",
    "dot.com and 1.5.",
    "  Two   RED circles!  ",
    "A \"striped\" square -- on the left.",
]


def synthetic_set(rng, n_images):
    """Scene captions like the demo's, with random mistakes, for a larger corpus."""
    shapes = ["circle", "square", "triangle", "diamond", "cross"]
    colours = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white"]
    backgrounds = ["black", "gray", "brown", "navy"]
    positions = ["on the left", "on the right", "at the top", "at the bottom", "in the centre"]
    counts = ["a", "two", "three"]
    templates = [
        "{c} {s} {sh} {p} of a {b} background",
        "a {b} background with {c} {s} {sh} {p}",
        "{c} {s} {sh} {p} against a {b} background",
        "{p}, {c} {s} {sh} on a {b} background",
    ]

    def caption(attrs, t):
        c, s, sh, p, b = attrs
        noun = sh if c == "a" else (sh + "es" if sh == "cross" else sh + "s")
        return templates[t].format(c=c, s=s, sh=noun, p=p, b=b)

    cands, refs = [], []
    for _ in range(n_images):
        attrs = [str(rng.choice(counts)), str(rng.choice(colours)), str(rng.choice(shapes)),
                 str(rng.choice(positions)), str(rng.choice(backgrounds))]
        refs.append([caption(attrs, t) for t in range(len(templates))][: int(rng.integers(2, 5))])
        wrong = list(attrs)
        k = int(rng.integers(0, 6))
        if k < 5:
            pool = [counts, colours, shapes, positions, backgrounds][k]
            wrong[k] = str(rng.choice(pool))
        cand = caption(wrong, int(rng.integers(0, len(templates))))
        words = cand.split()
        if rng.random() < 0.3:
            words = words[: max(1, len(words) - int(rng.integers(1, 5)))]
        cands.append(" ".join(words))
    return cands, refs


def tokenize(cands, refs):
    tok = PTBTokenizer()
    gts = {i: [{"caption": r} for r in rs] for i, rs in enumerate(refs)}
    res = {i: [{"caption": c}] for i, c in enumerate(cands)}
    return tok.tokenize(gts), tok.tokenize(res)


def caption_case(name, cands, refs):
    gts, res = tokenize(cands, refs)
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, cider_per = Cider().compute_score(gts, res)
    return {
        "name": name,
        "candidates": cands,
        "references": refs,
        "candidates_tokenized": [res[i][0] for i in range(len(cands))],
        "references_tokenized": [gts[i] for i in range(len(cands))],
        "bleu": [float(b) for b in bleu],
        "cider": float(cider),
        "cider_per_image": [float(c) for c in cider_per],
    }


def retrieval_case(rng, n_images, per_image):
    """BLIP itm_eval on a random score matrix; texts in a shuffled order."""
    txt2img = np.repeat(np.arange(n_images), per_image)
    rng.shuffle(txt2img)
    img2txt = [np.nonzero(txt2img == i)[0] for i in range(n_images)]
    scores = rng.standard_normal((n_images, len(txt2img)))
    # Make it better than chance so that the recalls are not all tiny.
    for t, i in enumerate(txt2img):
        scores[i, t] += 1.5
    ranks = np.zeros(n_images, dtype=int)
    for i in range(n_images):
        inds = np.argsort(scores[i])[::-1]
        ranks[i] = min(int(np.where(inds == t)[0][0]) for t in img2txt[i])
    t_ranks = np.zeros(len(txt2img), dtype=int)
    for t in range(len(txt2img)):
        inds = np.argsort(scores[:, t])[::-1]
        t_ranks[t] = int(np.where(inds == txt2img[t])[0][0])
    rec = lambda r, k: 100.0 * len(np.where(r < k)[0]) / len(r)
    return {
        "image_count": n_images,
        "text_image": [int(i) for i in txt2img],
        "scores": [[float(x) for x in row] for row in scores],
        "image_ranks": [int(r) for r in ranks],
        "text_ranks": [int(r) for r in t_ranks],
        "i2t": {str(k): rec(ranks, k) for k in (1, 5, 10)},
        "t2i": {str(k): rec(t_ranks, k) for k in (1, 5, 10)},
    }


def detection_case(rng, n):
    kinds = rng.choice(["clean", "clean", "swapped", "junk", "wrong_attribute"], size=n)
    p_drop = {"clean": 0.2, "swapped": 0.95, "junk": 0.9, "wrong_attribute": 0.6}
    dropped = np.array([rng.random() < p_drop[k] for k in kinds])
    noise = kinds != "clean"
    tp = int(np.sum(noise & dropped)); fp = int(np.sum(~noise & dropped)); fn = int(np.sum(noise & ~dropped))
    per_kind = {k: float(np.mean(dropped[kinds == k])) for k in sorted(set(kinds)) if k != "clean"}
    return {
        "kinds": [str(k) for k in kinds],
        "dropped": [bool(d) for d in dropped],
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "false_drop_rate": float(np.mean(dropped[~noise])),
        "recall_by_kind": per_kind,
    }


def difference_case(rng, n):
    first = rng.random(n) < 0.25
    # Correlated second model: keeps most of the first's hits, gains some.
    second = np.where(first, rng.random(n) < 0.85, rng.random(n) < 0.15)
    d = second.astype(float) - first.astype(float)
    return {
        "first": [bool(x) for x in first],
        "second": [bool(x) for x in second],
        "difference": float(d.mean()),
        "standard_error": float(d.std(ddof=1) / np.sqrt(n)),
        "independent_standard_error": float(np.sqrt(
            first.mean() * (1 - first.mean()) / n + second.mean() * (1 - second.mean()) / n)),
    }


def main():
    rng = np.random.default_rng(20220128)
    hand_c = [c for c, _ in HAND]
    hand_r = [r for _, r in HAND]
    syn_c, syn_r = synthetic_set(rng, 60)
    tok = PTBTokenizer().tokenize({i: [{"caption": line}] for i, line in enumerate(TOKENIZER_LINES)})
    tokenizer = {"lines": TOKENIZER_LINES, "tokens": [tok[i][0] for i in range(len(TOKENIZER_LINES))]}
    captions = {"tokenizer": tokenizer, "cases": [caption_case("hand", hand_c, hand_r), caption_case("scenes", syn_c, syn_r)]}
    retrieval = retrieval_case(rng, 30, 5)
    detection = detection_case(rng, 400)
    difference = difference_case(rng, 1000)
    os.makedirs(OUT, exist_ok=True)
    for name, obj in [("captions.json", captions), ("retrieval.json", retrieval),
                      ("detection.json", detection), ("difference.json", difference)]:
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
        print("wrote", os.path.join(OUT, name))


if __name__ == "__main__":
    main()
