#!/usr/bin/env python3
"""One full-size parity case: a 2048x1536 photo-like JPEG and the SHA-256 of what Pillow and
transformers make of it (decoded RGB bytes, bicubic 384x384 bytes, lanczos 1000x750 bytes, and
BlipImageProcessorPil's float32 pixel_values at 384). Hashes keep the fixture small: the Swift
side must be bit-exact to match them.

    python scripts/make_large_image_fixture.py
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from bench_imaging import photo  # noqa: E402  (the seeded photo-like generator)

OUT = REPO / "Tests" / "ImagingTests" / "Fixtures"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    from transformers import BlipImageProcessorPil

    rng = np.random.default_rng(20261129)
    image = photo(2048, 1536, rng)
    path = OUT / "large_2048x1536.jpg"
    image.save(path, quality=85, subsampling=2)
    decoded = Image.open(path).convert("RGB")
    assert decoded.size == (2048, 1536)
    bicubic = decoded.resize((384, 384), Image.Resampling.BICUBIC)
    lanczos = decoded.resize((1000, 750), Image.Resampling.LANCZOS)
    processor = BlipImageProcessorPil(size={"height": 384, "width": 384})
    pixels = processor(images=Image.open(path), return_tensors="np")["pixel_values"][0].astype("<f4")
    expected = {
        "file": path.name,
        "width": 2048,
        "height": 1536,
        "decoded_rgb_sha256": sha(decoded.tobytes()),
        "bicubic_384x384_sha256": sha(bicubic.tobytes()),
        "lanczos_1000x750_sha256": sha(lanczos.tobytes()),
        "blip_pixel_values_384_sha256": sha(pixels.tobytes()),
    }
    (OUT / "large_2048x1536.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(expected, indent=2), path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
