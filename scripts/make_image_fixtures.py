#!/usr/bin/env python3
"""Builds the Imaging parity fixtures: small encoded test images and what Pillow and
transformers make of them.

Run from the repository root with a Python that has Pillow, numpy and transformers:
    python scripts/make_image_fixtures.py
Writes Tests/ImagingTests/Fixtures/ (index.json plus raw .rgb/.bin/.f32 files).

Raw layouts:
  *.rgb  interleaved 8-bit RGB, row-major, width * height * 3 bytes
  *.bin  8-bit table, row-major
  *.f32  little-endian float32
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "ImagingTests", "Fixtures")


def photo(w, h, seed):
    """Photo-like RGB content: smooth gradients, hard edges, saturated patches and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 110 * np.sin(x / w * 3.1 + y / h * 1.3)
    g = 128 + 100 * np.cos(y / h * 4.7) * np.sin(x / w * 2.0 + 0.4)
    b = 40 + 180 * (x + y) / (w + h)
    img = np.stack([r, g, b], -1)
    img[h // 4 : h // 2, w // 5 : w // 2] = [250, 30, 40]
    img[(h * 2) // 3 :, (w * 3) // 4 :] = [255, 255, 255]
    img[: h // 6, (w * 2) // 3 :] = [0, 0, 0]
    img[np.abs(x - y * w / h) < 1.2] = [12, 200, 12]
    img[((x - w * 0.6) ** 2 + (y - h * 0.6) ** 2) < (min(w, h) * 0.18) ** 2] = [20, 40, 230]
    img += rng.normal(0, 14, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def alpha_ramp(w, h, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = (x * 255 // max(w - 1, 1)).astype(np.int64)
    a[: h // 3] = 255
    a[h // 3 : h // 2, : w // 3] = 0
    a = np.clip(a + rng.integers(-20, 21, a.shape) * (a % 255 != 0), 0, 255)
    return a.astype(np.uint8)


# -- minimal PNG writer, for layouts Pillow does not save (16-bit RGB, low bit depths, Adam7) --

def _chunk(tag, data):
    c = struct.pack(">I", len(data)) + tag + data
    return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _pack_rows(arr, bit_depth, channels):
    """arr: (h, w, channels) unsigned ints; returns list of packed row bytes."""
    h = arr.shape[0]
    rows = []
    for yy in range(h):
        row = arr[yy].reshape(-1)
        if bit_depth == 16:
            rows.append(row.astype(">u2").tobytes())
        elif bit_depth == 8:
            rows.append(row.astype(np.uint8).tobytes())
        else:
            per = 8 // bit_depth
            vals = list(row.astype(int))
            out = bytearray()
            for i in range(0, len(vals), per):
                byte = 0
                for j in range(per):
                    v = vals[i + j] if i + j < len(vals) else 0
                    byte |= v << (8 - bit_depth * (j + 1))
                out.append(byte)
            rows.append(bytes(out))
    return rows


def write_png(arr, color_type, bit_depth, extra_chunks=(), interlace=False):
    if arr.ndim == 2:
        arr = arr[:, :, None]
    h, w, channels = arr.shape
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    raw = bytearray()
    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            sub = arr[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            for r in _pack_rows(sub, bit_depth, channels):
                raw += b"\x00" + r
    else:
        for r in _pack_rows(arr, bit_depth, channels):
            raw += b"\x00" + r
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
    for tag, payload in extra_chunks:
        data += _chunk(tag, payload)
    data += _chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _chunk(b"IEND", b"")
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("."):
            os.remove(os.path.join(OUT, f))
    index = {"decode": [], "resize": [], "blip": [], "tables": [], "errors": []}

    def save(name, data):
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)

    def transformers_rgb(im):
        from transformers.image_transforms import convert_to_rgb

        return np.asarray(convert_to_rgb(im, return_numpy=True), dtype=np.uint8)

    def add_decode(name, data, composite=False):
        save(name, data)
        im = Image.open(io.BytesIO(data))
        im.load()
        mode = im.mode
        dropped = np.asarray(im.convert("RGB"))
        h, w = dropped.shape[:2]
        stem = name.rsplit(".", 1)[0]
        entry = {"file": name, "mode": mode, "width": w, "height": h, "drop": stem + ".drop.rgb"}
        save(entry["drop"], dropped.tobytes())
        if composite:
            comp = transformers_rgb(Image.open(io.BytesIO(data)))
            entry["composite"] = stem + ".composite.rgb"
            save(entry["composite"], comp.tobytes())
        index["decode"].append(entry)

    def jpeg(im, **kw):
        buf = io.BytesIO()
        im.save(buf, "JPEG", **kw)
        return buf.getvalue()

    def pil_png(im, **kw):
        buf = io.BytesIO()
        im.save(buf, "PNG", **kw)
        return buf.getvalue()

    def webp(im, **kw):
        buf = io.BytesIO()
        im.save(buf, "WEBP", **kw)
        return buf.getvalue()

    # ---- JPEG ----
    p97 = Image.fromarray(photo(97, 131, 1))
    p200 = Image.fromarray(photo(200, 150, 2))
    p64 = Image.fromarray(photo(64, 48, 3))
    p33 = Image.fromarray(photo(33, 17, 4))
    p17 = Image.fromarray(photo(17, 9, 5))
    add_decode("jpeg_420_97x131.jpg", jpeg(p97, quality=90, subsampling=2))
    add_decode("jpeg_444_64x48.jpg", jpeg(p64, quality=95, subsampling=0))
    add_decode("jpeg_422_33x17.jpg", jpeg(p33, quality=80, subsampling=1))
    add_decode("jpeg_420_17x9.jpg", jpeg(p17, quality=75, subsampling=2))
    add_decode("jpeg_prog_200x150.jpg", jpeg(p200, quality=85, progressive=True))
    add_decode("jpeg_gray_97x131.jpg", jpeg(p97.convert("L"), quality=90))
    add_decode("jpeg_cmyk_64x48.jpg", jpeg(p64.convert("CMYK"), quality=90))
    add_decode("jpeg_optimized_64x48.jpg", jpeg(p64, quality=60, optimize=True, subsampling=2))

    # ---- PNG ----
    a64 = alpha_ramp(64, 48, 6)
    rgb64 = photo(64, 48, 7)
    rgba64 = np.dstack([rgb64, a64])
    add_decode("png_rgb_64x48.png", pil_png(Image.fromarray(rgb64)))
    add_decode("png_l_64x48.png", pil_png(Image.fromarray(rgb64).convert("L")))
    add_decode("png_p_64x48.png", pil_png(Image.fromarray(rgb64).quantize(64)))
    pt = Image.fromarray(rgb64).quantize(32)
    add_decode("png_p_trns_64x48.png", pil_png(pt, transparency=bytes([0, 128] + [255] * 30)), composite=True)
    add_decode("png_rgba_64x48.png", pil_png(Image.fromarray(rgba64, "RGBA")), composite=True)
    la = np.dstack([np.asarray(Image.fromarray(rgb64).convert("L")), a64])
    add_decode("png_la_64x48.png", pil_png(Image.fromarray(la, "LA")), composite=True)
    g16 = (np.asarray(Image.fromarray(rgb64).convert("L")).astype(np.uint16) * 3)  # spans 0..765
    add_decode("png_l16_64x48.png", write_png(g16, 0, 16))
    rgb16 = rgb64.astype(np.uint16) * 257 + np.random.default_rng(8).integers(0, 200, rgb64.shape).astype(np.uint16)
    rgb16 = np.minimum(rgb16, 65535)
    add_decode("png_rgb16_64x48.png", write_png(rgb16, 2, 16))
    rgba16 = np.dstack([rgb16, a64.astype(np.uint16) * 257])
    add_decode("png_rgba16_64x48.png", write_png(rgba16, 6, 16), composite=True)
    la16 = np.dstack([g16 * 80, a64.astype(np.uint16) * 257])
    add_decode("png_la16_64x48.png", write_png(la16, 4, 16), composite=True)
    gray = np.asarray(Image.fromarray(rgb64).convert("L"))
    add_decode("png_l1_64x48.png", write_png(gray >> 7, 0, 1))
    add_decode("png_l2_33x17.png", write_png(np.asarray(Image.fromarray(photo(33, 17, 9)).convert("L")) >> 6, 0, 2))
    add_decode("png_l4_33x17.png", write_png(np.asarray(Image.fromarray(photo(33, 17, 9)).convert("L")) >> 4, 0, 4))
    g_trns = gray.copy()
    g_trns[10:20, 10:30] = 77
    add_decode("png_l_trns_64x48.png", write_png(g_trns, 0, 8, [(b"tRNS", struct.pack(">H", 77))]), composite=True)
    rgb_trns = rgb64.copy()
    rgb_trns[5:15, 30:50] = [1, 2, 3]
    add_decode("png_rgb_trns_64x48.png", write_png(rgb_trns, 2, 8, [(b"tRNS", struct.pack(">HHH", 1, 2, 3))]), composite=True)
    add_decode("png_adam7_33x17.png", write_png(photo(33, 17, 10), 2, 8, interlace=True))
    add_decode("png_adam7_rgba_64x48.png", write_png(rgba64, 6, 8, interlace=True), composite=True)

    # ---- WebP ----
    add_decode("webp_lossy_64x48.webp", webp(Image.fromarray(rgb64), quality=80))
    add_decode("webp_lossless_64x48.webp", webp(Image.fromarray(rgb64), lossless=True))
    add_decode("webp_alpha_64x48.webp", webp(Image.fromarray(rgba64, "RGBA"), quality=80), composite=True)

    # ---- resize ----
    sources = {"src_200x150.rgb": photo(200, 150, 11), "src_97x131.rgb": photo(97, 131, 12)}
    for name, arr in sources.items():
        save(name, arr.tobytes())
    full = {
        "src_200x150.rgb": [(64, 48), (31, 77), (230, 40), (30, 160), (200, 60), (77, 150), (17, 9), (1, 1)],
        "src_97x131.rgb": [(110, 150), (40, 40), (97, 50), (300, 7)],
    }
    small = {
        "src_200x150.rgb": [(64, 48), (31, 77), (230, 40)],
        "src_97x131.rgb": [(40, 40), (110, 60)],
    }
    filters = {
        "nearest": Image.Resampling.NEAREST,
        "box": Image.Resampling.BOX,
        "bilinear": Image.Resampling.BILINEAR,
        "bicubic": Image.Resampling.BICUBIC,
        "lanczos": Image.Resampling.LANCZOS,
    }
    for fname, fval in filters.items():
        table = full if fname == "bicubic" else small
        for src, targets in table.items():
            arr = sources[src]
            im = Image.fromarray(arr)
            for w, h in targets:
                out = np.asarray(im.resize((w, h), fval))
                exp = f"resize_{fname}_{src.split('.')[0][4:]}_to_{w}x{h}.rgb"
                save(exp, out.tobytes())
                index["resize"].append({
                    "source": src, "sourceWidth": arr.shape[1], "sourceHeight": arr.shape[0],
                    "filter": fname, "width": w, "height": h, "expected": exp,
                })

    # ---- BLIP ----
    from transformers.models.blip.image_processing_pil_blip import BlipImageProcessorPil

    def blip(im, size):
        proc = BlipImageProcessorPil(size={"height": size, "width": size})
        return np.asarray(proc(images=[im], return_tensors="np")["pixel_values"][0], dtype=np.float32)

    blip_inputs = [
        ("src_200x150.rgb", Image.fromarray(sources["src_200x150.rgb"]), None),
        ("src_97x131.rgb", Image.fromarray(sources["src_97x131.rgb"]), None),
        ("png_rgba_64x48.png", Image.open(os.path.join(OUT, "png_rgba_64x48.png")), "png_rgba_64x48.png"),
    ]
    for label, im, encoded in blip_inputs:
        for size in (32, 384):
            if size == 384 and encoded is not None:
                continue
            pv = blip(im, size)
            assert pv.shape == (3, size, size) and pv.dtype == np.float32
            flat = pv.reshape(-1)
            stride = 1 if size <= 64 else 61
            sample = flat[::stride]
            exp = f"blip_{label.split('.')[0]}_{size}.f32"
            save(exp, sample.astype("<f4").tobytes())
            index["blip"].append({
                "input": label, "encoded": encoded is not None, "size": size, "stride": stride,
                "expected": exp, "sum": float(flat.astype(np.float64).sum()),
            })

    # ---- exhaustive conversion tables ----
    v, a = np.meshgrid(np.arange(256), np.arange(256))  # v varies along x, a along y
    rgba = np.dstack([v, v, 255 - v, a]).astype(np.uint8)
    comp = transformers_rgb(Image.fromarray(rgba, "RGBA"))
    save("table_composite_white.bin", comp[:, :, 0].tobytes())
    index["tables"].append({"name": "compositeOnWhite", "file": "table_composite_white.bin",
                            "rows": "alpha", "columns": "value"})
    cmyk = np.dstack([v, v, 255 - v, a]).astype(np.uint8)
    rgb = np.asarray(Image.fromarray(cmyk, "CMYK").convert("RGB"))
    save("table_cmyk_to_rgb.bin", rgb[:, :, 0].tobytes())
    index["tables"].append({"name": "cmykToRGB", "file": "table_cmyk_to_rgb.bin",
                            "rows": "k", "columns": "c"})

    # ---- JPEG DCT-domain scaling (Pillow draft) ----
    index["draft"] = []
    for name, size in [("jpeg_prog_200x150.jpg", (100, 75)), ("jpeg_prog_200x150.jpg", (50, 37)),
                       ("jpeg_prog_200x150.jpg", (25, 18)), ("jpeg_420_97x131.jpg", (40, 40)),
                       ("jpeg_420_97x131.jpg", (12, 16)), ("jpeg_gray_97x131.jpg", (40, 40)),
                       ("jpeg_cmyk_64x48.jpg", (30, 20))]:
        im = Image.open(os.path.join(OUT, name))
        im.draft(im.mode, size)
        out = np.asarray(im.convert("RGB"))
        exp = f"draft_{name.split('.')[0]}_{size[0]}x{size[1]}.rgb"
        save(exp, out.tobytes())
        index["draft"].append({"file": name, "minWidth": size[0], "minHeight": size[1],
                               "width": out.shape[1], "height": out.shape[0], "expected": exp})

    # ---- EXIF orientation (ImageOps.exif_transpose) ----
    from PIL import ImageOps

    index["orientation"] = []
    base = Image.fromarray(photo(17, 9, 13))
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        name = f"exif_orient{o}_17x9.jpg"
        save(name, jpeg(base, quality=90, exif=exif.tobytes()))
        out = np.asarray(ImageOps.exif_transpose(Image.open(os.path.join(OUT, name))).convert("RGB"))
        save(name.replace(".jpg", ".rgb"), out.tobytes())
        index["orientation"].append({"file": name, "orientation": o, "width": out.shape[1],
                                     "height": out.shape[0], "expected": name.replace(".jpg", ".rgb")})
    for fmt, o in [("png", 6), ("webp", 8)]:
        exif = Image.Exif()
        exif[0x0112] = o
        name = f"exif_orient{o}_17x9.{fmt}"
        buf = io.BytesIO()
        base.save(buf, fmt.upper(), exif=exif.tobytes(), **({"lossless": True} if fmt == "webp" else {}))
        save(name, buf.getvalue())
        out = np.asarray(ImageOps.exif_transpose(Image.open(os.path.join(OUT, name))).convert("RGB"))
        exp = name.replace("." + fmt, f".{fmt}.rgb")
        save(exp, out.tobytes())
        index["orientation"].append({"file": name, "orientation": o, "width": out.shape[1],
                                     "height": out.shape[0], "expected": exp})

    # ---- JPEG encoding (Pillow save, 4:2:0 default subsampling) ----
    index["encode"] = []
    for q in (95, 75):
        name = f"encode_q{q}_97x131.jpg"
        save(name, jpeg(Image.fromarray(sources["src_97x131.rgb"]), quality=q))
        index["encode"].append({"source": "src_97x131.rgb", "quality": q, "file": name})

    # ---- perceptual hashes, imagehash 4.x definitions re-derived with numpy ----
    def dct_matrix(n):
        k = np.arange(n)[:, None]
        i = np.arange(n)[None, :]
        return 2 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))

    def phash(im):
        px = np.asarray(im.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
        c = dct_matrix(32)
        dct = (c @ px) @ c.T  # scipy.fftpack.dct(dct(px, axis=0), axis=1)
        low = dct[:8, :8]
        bits = (low > np.median(low)).flatten()
        return "{:016x}".format(int("".join("1" if b else "0" for b in bits), 2))

    def dhash(im):
        px = np.asarray(im.convert("L").resize((9, 8), Image.Resampling.LANCZOS))
        bits = (px[:, 1:] > px[:, :-1]).flatten()
        return "{:016x}".format(int("".join("1" if b else "0" for b in bits), 2))

    index["hashes"] = []
    for label, arr in [("src_200x150.rgb", sources["src_200x150.rgb"]), ("src_97x131.rgb", sources["src_97x131.rgb"])]:
        im = Image.fromarray(arr)
        index["hashes"].append({"source": label, "width": arr.shape[1], "height": arr.shape[0],
                                "phash": phash(im), "dhash": dhash(im)})
        flipped = Image.fromarray(np.ascontiguousarray(arr[:, ::-1]))
        index["hashes"].append({"source": label, "flipped": True, "width": arr.shape[1], "height": arr.shape[0],
                                "phash": phash(flipped), "dhash": dhash(flipped)})
    save("gray_97x131.bin", np.asarray(Image.fromarray(sources["src_97x131.rgb"]).convert("L")).tobytes())

    # ---- RandAugment pixel ops, BLIP randaugment.py semantics in numpy ----
    def blip_autocontrast(img):
        out = img.copy()
        for c in range(3):
            ch = img[:, :, c]
            high, low = int(ch.max()), int(ch.min())
            if high > low:
                scale = 255.0 / (high - low)
                table = np.arange(256) * scale - low * scale
                table[table < 0] = 0
                table[table > 255] = 255
                out[:, :, c] = table.clip(0, 255).astype(np.uint8)[ch]
        return out

    def blip_equalize(img):
        out = img.copy()
        for c in range(3):
            ch = img[:, :, c]
            hist = np.bincount(ch.reshape(-1), minlength=256)
            non_zero = hist[hist != 0]
            step = int(np.sum(non_zero[:-1])) // 255
            if step == 0:
                continue
            n = np.empty_like(hist)
            n[0] = step // 2
            n[1:] = hist[:-1]
            out[:, :, c] = (np.cumsum(n) // step).clip(0, 255).astype(np.uint8)[ch]
        return out

    aug_src = np.ascontiguousarray(sources["src_97x131.rgb"][20:50, 10:50] // 2 + 40)  # 40x30, reduced range
    save("aug_src_40x30.rgb", aug_src.tobytes())
    save("aug_autocontrast_40x30.rgb", blip_autocontrast(aug_src).tobytes())
    save("aug_equalize_40x30.rgb", blip_equalize(aug_src).tobytes())

    # ---- hostile inputs ----
    huge = write_png(np.zeros((1, 1, 3), np.uint8), 2, 8)
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    huge = huge[:8] + _chunk(b"IHDR", ihdr) + huge[8 + 25 :]
    save("err_png_100000x100000.png", huge)
    index["errors"].append({"file": "err_png_100000x100000.png", "kind": "tooLarge"})

    j = bytearray(jpeg(p17, quality=75))
    sof = j.find(b"\xff\xc0")
    j[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    save("err_jpeg_60000x60000.jpg", bytes(j))
    index["errors"].append({"file": "err_jpeg_60000x60000.jpg", "kind": "tooLarge"})

    with open(os.path.join(OUT, "index.json"), "w") as fh:
        json.dump(index, fh, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
