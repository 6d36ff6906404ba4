#!/usr/bin/env python3
"""Build the MED parity fixtures: tiny random BLIP models and the outputs transformers computes.

Writes Tests/MEDTests/Fixtures/med/ (see the README.md written there). Deterministic: running it
again with the same torch / transformers / Pillow versions rewrites byte-identical files.

    python scripts/make_med_fixtures.py [--out DIR] [--check]

--check regenerates into a temporary folder and compares it with DIR byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import transformers
from transformers import (
    BertTokenizer,
    BlipConfig,
    BlipForConditionalGeneration,
    BlipForImageTextRetrieval,
    BlipImageProcessorPil,
    BlipProcessor,
)
from transformers.image_transforms import resize as hf_resize
from transformers.image_utils import ChannelDimension, PILImageResampling

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "MEDTests" / "Fixtures" / "med"
VOCAB = REPO / "Sources" / "MED" / "Resources" / "vocab.txt"

DEC_ID = 30522
ENC_ID = 30523
CLS_ID = 101
SEP_ID = 102
PAD_ID = 0

CAPTIONER_SEED = 20240602
ITM_SEED = 20240605
INPUT_SEED = 20240603
IMAGE_SEED = 20240604

# Added to the LM bias of [SEP] so that some generated captions end before max_length.
SEP_BIAS_BOOST = 7.0

TEXTS = ["a red circle on a blue square", "two dogs"]
PROMPT = "a picture of "
IMAGE_SIZE = 32

VISION_CONFIG = dict(
    hidden_size=48,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=4,
    image_size=IMAGE_SIZE,
    patch_size=8,
    layer_norm_eps=1e-5,
    hidden_act="gelu",
)
TEXT_CONFIG = dict(
    vocab_size=30524,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    encoder_hidden_size=48,
    max_position_embeddings=64,
    layer_norm_eps=1e-12,
    hidden_act="gelu",
    bos_token_id=DEC_ID,
    sep_token_id=SEP_ID,
    eos_token_id=SEP_ID,
    pad_token_id=PAD_ID,
)


def make_config() -> BlipConfig:
    config = BlipConfig(
        vision_config=dict(VISION_CONFIG),
        text_config=dict(TEXT_CONFIG),
        image_text_hidden_size=16,
    )
    # BlipConfig overwrites text_config.encoder_hidden_size with the vision width; make sure the
    # values that matter are what this fixture documents.
    tc, vc = config.text_config, config.vision_config
    assert tc.encoder_hidden_size == vc.hidden_size == 48
    assert tc.num_attention_heads == 4 and vc.num_attention_heads == 4
    assert tc.vocab_size == 30524 and tc.max_position_embeddings == 64
    assert config.image_text_hidden_size == 16
    return config


# ----------------------------------------------------------------------------------------------
# Parameter randomisation


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter with values at a scale where a swapped or transposed tensor shows."""
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean

    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            is_norm = ".LayerNorm." in name or ".layer_norm" in name or "post_layernorm" in name
            if name.endswith("class_embedding") or name.endswith("embeddings.position_embedding"):
                value = normal(p.shape, 0.5)
            elif "word_embeddings" in name or "position_embeddings" in name:
                value = normal(p.shape, 0.5)
            elif is_norm and leaf == "weight":
                value = normal(p.shape, 0.1, 1.0)
            elif is_norm and leaf == "bias":
                value = normal(p.shape, 0.1)
            elif leaf == "weight":
                value = normal(p.shape, 0.2)
            elif leaf == "bias":
                value = normal(p.shape, 0.1)
            else:
                raise RuntimeError(f"unclassified parameter {name}")
            if name.endswith("cls.predictions.bias"):
                value[SEP_ID] += SEP_BIAS_BOOST
            p.copy_(value)


def round_parameters(model: torch.nn.Module, dtype: torch.dtype) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def save_model(model: torch.nn.Module, folder: Path, dtype: torch.dtype) -> list[str]:
    """save_pretrained, then rewrite the weights file in `dtype`, keeping exactly the keys it wrote."""
    model.save_pretrained(folder)
    weights = folder / "model.safetensors"
    with safe_open(str(weights), framework="pt") as f:
        metadata = f.metadata()
    tensors = load_file(str(weights))
    converted = {k: v.to(dtype).contiguous() for k, v in sorted(tensors.items())}
    for k, v in converted.items():
        assert torch.equal(v.to(torch.float32), tensors[k]), f"{k} is not exactly representable"
    save_file(converted, str(weights), metadata=metadata)
    return sorted(converted)


# ----------------------------------------------------------------------------------------------
# Inputs


def draw_photo(width: int, height: int, rng: np.random.Generator) -> Image.Image:
    """A smooth, photo-like scene: sky/ground gradients, a few soft shapes, sensor noise."""
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    horizon = 0.55 + 0.1 * np.sin(6.0 * x + rng.uniform(0, 3))
    full = np.zeros((height, width))
    sky = np.stack([full + 70 + 90 * y + 20 * x, full + 120 + 80 * y, full + 200 - 40 * y], axis=-1)
    ground = np.stack([full + 60 + 50 * x, full + 110 - 40 * y + 20 * x, full + 40 + 20 * y], axis=-1)
    base = np.where((y > horizon)[..., None], ground, sky)
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(3, width / 3), rng.uniform(3, height / 3)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.uniform() < 0.5:
            draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        else:
            draw.rectangle([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(radius=1.2))
    arr = np.asarray(img).astype(np.float64) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "RGB")


def make_jpegs(out: Path) -> list[dict]:
    rng = np.random.default_rng(IMAGE_SEED)
    specs = [
        dict(name="jpeg0", file="jpeg0.jpg", width=64, height=48, quality=90, subsampling=2),
        dict(name="jpeg1", file="jpeg1.jpg", width=40, height=40, quality=85, subsampling=0),
    ]
    for spec in specs:
        img = draw_photo(spec["width"], spec["height"], rng)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=spec["quality"], subsampling=spec["subsampling"], optimize=False)
        (out / spec["file"]).write_bytes(buf.getvalue())
    return specs


def make_tokenizer() -> BertTokenizer:
    tok = BertTokenizer(vocab=str(VOCAB))
    assert tok.vocab_size == 30522, f"vocab not loaded: {tok.vocab_size}"
    tok.add_special_tokens({"bos_token": "[DEC]", "additional_special_tokens": ["[ENC]"]})
    assert tok.convert_tokens_to_ids(["[DEC]", "[ENC]"]) == [DEC_ID, ENC_ID]
    assert len(tok) == 30524
    return tok


# ----------------------------------------------------------------------------------------------
# Reference computations


def vision_outputs(model, pixel_values):
    out = model.vision_model(pixel_values=pixel_values, output_hidden_states=True)
    return out


def captioner_expected(model, pixel, ids, mask, suffix):
    res = {}
    vis = vision_outputs(model, pixel)
    res[f"vision_last_hidden_state_{suffix}"] = vis.last_hidden_state
    res[f"vision_pooler_output_{suffix}"] = vis.pooler_output
    res[f"vision_hidden_states_{suffix}"] = torch.stack(vis.hidden_states)
    dec_ids = ids.clone()
    dec_ids[:, 0] = DEC_ID
    image_embeds = vis.last_hidden_state
    bert = model.text_decoder.bert(
        input_ids=dec_ids,
        attention_mask=mask,
        encoder_hidden_states=image_embeds,
        encoder_attention_mask=torch.ones(image_embeds.shape[:2], dtype=torch.long),
        is_decoder=True,
        use_cache=True,
        output_hidden_states=True,
    )
    hidden = bert.last_hidden_state
    logits = model.text_decoder.cls(hidden)
    full = model(pixel_values=pixel, input_ids=dec_ids, attention_mask=mask).logits
    assert torch.equal(full, logits), "BlipForConditionalGeneration.forward logits differ"
    res[f"decoder_hidden_states_{suffix}"] = hidden
    res[f"decoder_layer_outputs_{suffix}"] = torch.stack(bert.hidden_states)
    if suffix == "random":
        res[f"logits_head_{suffix}"] = logits[:, :, :2048]
    res[f"logits_tail_{suffix}"] = logits[:, :, 30000:]
    res[f"logits_logsumexp_{suffix}"] = torch.logsumexp(logits, dim=-1)
    res[f"logits_argmax_{suffix}"] = logits.argmax(dim=-1)
    res[f"logits_sep_{suffix}"] = logits[:, :, SEP_ID]
    return res


def itm_expected(model, pixel, ids, mask, suffix):
    res = {}
    vis = vision_outputs(model, pixel)
    image_embeds = vis.last_hidden_state
    res[f"vision_last_hidden_state_{suffix}"] = image_embeds
    res[f"vision_pooler_output_{suffix}"] = vis.pooler_output
    res[f"vision_hidden_states_{suffix}"] = torch.stack(vis.hidden_states)
    image_atts = torch.ones(image_embeds.shape[:2], dtype=torch.long)

    text_only = model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    res[f"text_hidden_states_{suffix}"] = text_only

    enc_ids = ids.clone()
    enc_ids[:, 0] = ENC_ID
    for variant, first_ids in (("cls", ids), ("enc", enc_ids)):
        grounded = model.text_encoder(
            input_ids=first_ids,
            attention_mask=mask,
            encoder_hidden_states=image_embeds,
            encoder_attention_mask=image_atts,
        ).last_hidden_state
        itm_logits = model.itm_head(grounded[:, 0, :])
        via_forward = model(input_ids=first_ids, pixel_values=pixel, attention_mask=mask, use_itm_head=True).itm_score
        assert torch.equal(itm_logits, via_forward), "itm forward mismatch"
        res[f"grounded_hidden_states_{variant}_{suffix}"] = grounded
        res[f"itm_logits_{variant}_{suffix}"] = itm_logits
        res[f"itm_prob_{variant}_{suffix}"] = torch.softmax(itm_logits, dim=-1)[:, 1]

        # Every image against every text: [image, text, 2].
        rows = []
        for i in range(pixel.shape[0]):
            pv = pixel[i : i + 1].expand(first_ids.shape[0], -1, -1, -1)
            rows.append(model(input_ids=first_ids, pixel_values=pv, attention_mask=mask, use_itm_head=True).itm_score)
        matrix = torch.stack(rows)
        for i in range(pixel.shape[0]):
            assert torch.allclose(matrix[i, i], itm_logits[i], atol=1e-5)
        res[f"itm_logits_matrix_{variant}_{suffix}"] = matrix
        res[f"itm_prob_matrix_{variant}_{suffix}"] = torch.softmax(matrix, dim=-1)[..., 1]

    image_feat = torch.nn.functional.normalize(model.vision_proj(image_embeds[:, 0, :]), dim=-1)
    text_feat = torch.nn.functional.normalize(model.text_proj(text_only[:, 0, :]), dim=-1)
    sim = model(input_ids=ids, pixel_values=pixel, attention_mask=mask, use_itm_head=False).itm_score
    assert torch.equal(sim, image_feat @ text_feat.t()), "itc mismatch"
    res[f"itc_image_feat_{suffix}"] = image_feat
    res[f"itc_text_feat_{suffix}"] = text_feat
    res[f"itc_cosine_matrix_{suffix}"] = sim
    res[f"itc_cosine_{suffix}"] = torch.diagonal(sim).contiguous()
    return res


# ----------------------------------------------------------------------------------------------
# Generation


def strip_output(seq: list[int], prompt_len: int) -> list[int]:
    """Cut after the first [SEP] produced after the prompt (what follows is padding)."""
    for i in range(prompt_len, len(seq)):
        if seq[i] == SEP_ID:
            return seq[: i + 1]
    return seq


GEN_CONFIGS = [
    dict(config="greedy_max20_min5", num_beams=1, max_length=20, min_length=5),
    dict(config="greedy_max20_min5_rep1.1", num_beams=1, max_length=20, min_length=5, repetition_penalty=1.1),
    dict(config="beam3_max20_min5", num_beams=3, max_length=20, min_length=5),
    dict(config="beam3_max20_min12", num_beams=3, max_length=20, min_length=12),
    dict(config="beam3_max20_min5_rep1.1", num_beams=3, max_length=20, min_length=5, repetition_penalty=1.1),
    dict(config="greedy_prompt_max20_min5", num_beams=1, max_length=20, min_length=5, prompt=PROMPT),
    dict(config="beam3_prompt_max20_min5", num_beams=3, max_length=20, min_length=5, prompt=PROMPT),
    dict(config="beam3_return3_max20_min5", num_beams=3, max_length=20, min_length=5, num_return_sequences=3),
    dict(config="sample_topk1_max20_min5", num_beams=1, max_length=20, min_length=5, do_sample=True, top_k=1),
]


def run_generate(model, tok, pixel, cfg):
    batch = pixel.shape[0]
    prompt = cfg.get("prompt")
    kwargs = dict(
        num_beams=cfg["num_beams"],
        max_length=cfg["max_length"],
        min_length=cfg["min_length"],
        repetition_penalty=cfg.get("repetition_penalty", 1.0),
        num_return_sequences=cfg.get("num_return_sequences", 1),
        do_sample=cfg.get("do_sample", False),
        return_dict_in_generate=True,
        output_scores=True,
    )
    if cfg.get("do_sample"):
        kwargs["top_k"] = cfg["top_k"]
        torch.manual_seed(0)
    processor_ids = None
    if prompt is not None:
        enc = tok([prompt] * batch, return_tensors="pt")
        processor_ids = enc.input_ids[0].tolist()
        ids = enc.input_ids.clone()
        out = model.generate(pixel_values=pixel, input_ids=ids, attention_mask=enc.attention_mask, **kwargs)
        # generate() overwrote ids[:, 0] in place with [DEC] and fed ids[:, :-1] to the decoder.
        assert ids[0, 0].item() == DEC_ID
        decoder_input = ids[0, :-1].tolist()
    else:
        out = model.generate(pixel_values=pixel, **kwargs)
        decoder_input = [DEC_ID]
    prefix = out.sequences[:, : len(decoder_input)]
    assert (prefix == torch.tensor(decoder_input)).all(), "output does not start with the decoder input"
    return out, processor_ids, decoder_input


def generation_cases(model, tok, images: dict[str, torch.Tensor]):
    cases = []
    single = {}
    for cfg in GEN_CONFIGS:
        for image_name in ["random0", "random1", "jpeg0", "jpeg1"]:
            cases.append(one_case(model, tok, images, cfg, [image_name]))
            single[(cfg["config"], image_name)] = cases[-1]["outputs"][0]
    for cfg in GEN_CONFIGS:
        if cfg["config"] not in ("greedy_max20_min5", "beam3_max20_min5", "greedy_prompt_max20_min5", "beam3_return3_max20_min5"):
            continue
        for names in (["random0", "random1"], ["jpeg0", "jpeg1"]):
            case = one_case(model, tok, images, cfg, names)
            for name, output in zip(names, case["outputs"]):
                ref = single[(cfg["config"], name)]
                assert output["expected_ids"] == ref["expected_ids"], (cfg["config"], name, "batched != single")
                if ref["sequence_scores"] is not None:
                    assert np.allclose(output["sequence_scores"], ref["sequence_scores"], atol=1e-5)
            cases.append(case)
    return cases


def one_case(model, tok, images, cfg, names):
    pixel = torch.cat([images[n] for n in names], dim=0)
    out, processor_ids, decoder_input = run_generate(model, tok, pixel, cfg)
    nrs = cfg.get("num_return_sequences", 1)
    seqs = out.sequences.tolist()
    scores = out.sequences_scores.tolist() if getattr(out, "sequences_scores", None) is not None else None
    prompt_len = len(decoder_input)
    outputs = []
    for b, name in enumerate(names):
        raw = seqs[b * nrs : (b + 1) * nrs]
        ids = [strip_output(s, prompt_len) for s in raw]
        text = [tok.decode(s, skip_special_tokens=True) for s in ids]
        caption = [t[len(cfg["prompt"]) :] if cfg.get("prompt") else t for t in text]
        outputs.append(
            dict(
                image=name,
                expected_ids=ids,
                raw_ids=raw,
                expected_text=text,
                expected_caption=caption,
                ended_early=[bool(s[-1] == SEP_ID) for s in ids],
                lengths=[len(s) for s in ids],
                sequence_scores=scores[b * nrs : (b + 1) * nrs] if scores is not None else None,
            )
        )
    case = dict(
        name=cfg["config"] + "/" + "+".join(names),
        config=cfg["config"],
        images=names,
        batched=len(names) > 1,
        prompt=cfg.get("prompt"),
        processor_input_ids=processor_ids,
        decoder_input_ids=decoder_input,
        num_beams=cfg["num_beams"],
        max_length=cfg["max_length"],
        min_length=cfg["min_length"],
        repetition_penalty=cfg.get("repetition_penalty", 1.0),
        num_return_sequences=nrs,
        do_sample=cfg.get("do_sample", False),
        top_k=cfg.get("top_k"),
        length_penalty=1.0,
        pad_value=(0 if cfg["num_beams"] == 1 else SEP_ID),
        outputs=outputs,
    )
    return case


# ----------------------------------------------------------------------------------------------


def to_f32(d):
    out = {}
    for k, v in sorted(d.items()):
        v = v.detach()
        out[k] = v.contiguous() if v.dtype == torch.int64 else v.to(torch.float32).contiguous()
    return out


def _dumps(obj, indent: int = 0) -> str:
    """JSON with scalar lists and short containers on one line."""
    flat = json.dumps(obj, ensure_ascii=False)
    if not isinstance(obj, (list, dict)) or len(flat) <= 100:
        return flat
    if isinstance(obj, list) and all(not isinstance(x, (list, dict)) for x in obj):
        return flat
    pad = " " * (indent + 1)
    if isinstance(obj, list):
        items = [pad + _dumps(x, indent + 1) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    items = [pad + json.dumps(k) + ": " + _dumps(v, indent + 1) for k, v in obj.items()]
    return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"


def write_json(path: Path, obj) -> None:
    path.write_text(_dumps(obj) + "\n")


def reload_and_compare(cls, folder: Path, expected: dict, fn, args, stored_dtype):
    model = cls.from_pretrained(folder, dtype=torch.float32).eval()
    for p in model.parameters():
        assert p.dtype == torch.float32
    with torch.inference_mode():
        again = to_f32(fn(model, *args))
    for k, v in again.items():
        assert torch.equal(v, expected[k]), f"reloaded {cls.__name__} differs on {k}"
    default = cls.from_pretrained(folder)
    return str(next(default.parameters()).dtype)


def build(out: Path) -> dict:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if child.name == ".keep":
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()

    config = make_config()
    tok = make_tokenizer()
    image_processor = BlipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tok)
    image_processor.save_pretrained(out)

    # Inputs.
    gen = torch.Generator().manual_seed(INPUT_SEED)
    pixel_random = torch.randn((2, 3, IMAGE_SIZE, IMAGE_SIZE), generator=gen, dtype=torch.float32)
    specs = make_jpegs(out)
    pil_images = [Image.open(out / s["file"]) for s in specs]
    for im in pil_images:
        im.load()
    processed = processor(images=pil_images, return_tensors="pt")
    pixel_jpeg = processed.pixel_values.to(torch.float32)
    assert pixel_jpeg.shape == (2, 3, IMAGE_SIZE, IMAGE_SIZE)
    decoded = [np.asarray(im.convert("RGB")) for im in pil_images]
    resized = []
    for arr in decoded:
        chw = np.moveaxis(arr, -1, 0)
        r = hf_resize(
            chw,
            (IMAGE_SIZE, IMAGE_SIZE),
            resample=PILImageResampling.BICUBIC,
            data_format=ChannelDimension.FIRST,
            input_data_format=ChannelDimension.FIRST,
        )
        assert r.dtype == np.uint8
        resized.append(np.moveaxis(r, 0, -1))
    mean = np.array(image_processor.image_mean, dtype=np.float64)[:, None, None]
    std = np.array(image_processor.image_std, dtype=np.float64)[:, None, None]
    for i, r in enumerate(resized):
        manual = (np.moveaxis(r, -1, 0).astype(np.float64) / 255.0 - mean) / std
        assert np.abs(manual - pixel_jpeg[i].numpy()).max() < 1e-5, "pixel_values != (resized/255-mean)/std"

    enc = processor(text=TEXTS, padding=True, return_tensors="pt")
    ids, mask = enc.input_ids, enc.attention_mask
    assert "token_type_ids" not in enc
    assert mask[1].sum() < mask.shape[1], "second text must be padded"
    dec_ids = ids.clone()
    dec_ids[:, 0] = DEC_ID
    enc_ids = ids.clone()
    enc_ids[:, 0] = ENC_ID
    prompt_ids = tok(PROMPT).input_ids

    inputs = {
        "pixel_values_random": pixel_random,
        "pixel_values_jpeg": pixel_jpeg,
        "input_ids": ids,
        "attention_mask": mask,
        "decoder_input_ids": dec_ids,
        "itm_enc_input_ids": enc_ids,
        "jpeg0_rgb": torch.from_numpy(decoded[0].copy()),
        "jpeg1_rgb": torch.from_numpy(decoded[1].copy()),
        "jpeg_resized_rgb": torch.from_numpy(np.stack(resized)),
    }
    save_file({k: v.contiguous() for k, v in inputs.items()}, str(out / "inputs.safetensors"))
    write_json(
        out / "inputs.json",
        dict(
            texts=TEXTS,
            input_ids=ids.tolist(),
            attention_mask=mask.tolist(),
            decoder_input_ids=dec_ids.tolist(),
            itm_enc_input_ids=enc_ids.tolist(),
            prompt=PROMPT,
            prompt_processor_ids=prompt_ids,
            prompt_decoder_input_ids=[DEC_ID] + prompt_ids[1:-1],
            tokens=[tok.convert_ids_to_tokens(r) for r in ids.tolist()],
            images={
                "random0": "pixel_values_random[0]",
                "random1": "pixel_values_random[1]",
                "jpeg0": "pixel_values_jpeg[0] (from jpeg0.jpg)",
                "jpeg1": "pixel_values_jpeg[1] (from jpeg1.jpg)",
            },
            jpegs=specs,
        ),
    )

    # Captioner.
    torch.manual_seed(CAPTIONER_SEED)
    captioner = BlipForConditionalGeneration(config).eval()
    randomise(captioner, CAPTIONER_SEED)
    round_parameters(captioner, torch.float16)
    assert captioner.text_decoder.cls.predictions.decoder.weight is captioner.text_decoder.bert.embeddings.word_embeddings.weight

    def cap_all(model):
        r = {}
        r.update(captioner_expected(model, pixel_random, ids, mask, "random"))
        r.update(captioner_expected(model, pixel_jpeg, ids, mask, "jpeg"))
        return r

    with torch.inference_mode():
        cap_expected = to_f32(cap_all(captioner))
    cap_keys = save_model(captioner, out / "captioner", torch.float16)
    save_file(cap_expected, str(out / "expected_captioner.safetensors"))
    cap_default_dtype = reload_and_compare(
        BlipForConditionalGeneration, out / "captioner", cap_expected, cap_all, (), torch.float16
    )

    # ITM model.
    torch.manual_seed(ITM_SEED)
    itm = BlipForImageTextRetrieval(config).eval()
    randomise(itm, ITM_SEED)
    round_parameters(itm, torch.bfloat16)

    def itm_all(model):
        r = {}
        r.update(itm_expected(model, pixel_random, ids, mask, "random"))
        r.update(itm_expected(model, pixel_jpeg, ids, mask, "jpeg"))
        return r

    with torch.inference_mode():
        itm_exp = to_f32(itm_all(itm))
    itm_keys = save_model(itm, out / "itm", torch.bfloat16)
    save_file(itm_exp, str(out / "expected_itm.safetensors"))
    itm_default_dtype = reload_and_compare(BlipForImageTextRetrieval, out / "itm", itm_exp, itm_all, (), torch.bfloat16)

    # Generation.
    images = {
        "random0": pixel_random[0:1],
        "random1": pixel_random[1:2],
        "jpeg0": pixel_jpeg[0:1],
        "jpeg1": pixel_jpeg[1:2],
    }
    with torch.inference_mode():
        cases = generation_cases(captioner, tok, images)
    for case in cases:
        if case["config"] == "sample_topk1_max20_min5":
            ref = next(c for c in cases if c["config"] == "greedy_max20_min5" and c["images"] == case["images"])
            assert case["outputs"][0]["expected_ids"] == ref["outputs"][0]["expected_ids"], "top_k=1 != greedy"
    reloaded = BlipForConditionalGeneration.from_pretrained(out / "captioner", dtype=torch.float32).eval()
    with torch.inference_mode():
        for case in cases[:4]:
            again = one_case(reloaded, tok, images, next(c for c in GEN_CONFIGS if c["config"] == case["config"]), case["images"])
            assert again == case, "reloaded captioner generates differently"
    write_json(
        out / "generation.json",
        dict(
            model="captioner",
            eos_token_id=SEP_ID,
            bos_token_id=DEC_ID,
            greedy_pad_token_id=PAD_ID,
            beam_pad_token_id=SEP_ID,
            cases=cases,
        ),
    )

    for path in out.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    return dict(
        cap_keys=cap_keys,
        itm_keys=itm_keys,
        cap_default_dtype=cap_default_dtype,
        itm_default_dtype=itm_default_dtype,
        cases=cases,
        cap_expected=cap_expected,
        itm_expected=itm_exp,
    )


README = """# MED parity fixtures

Produced by `scripts/make_med_fixtures.py` (run from the repository root:
`python scripts/make_med_fixtures.py`; `--check` regenerates into a temporary folder and compares
byte for byte). Reference: transformers {transformers}, torch {torch}, Pillow {pillow},
safetensors {safetensors}. Every random value comes from fixed seeds, so a rerun rewrites the same
bytes.

Two tiny random BLIP models with one config:

* vision: hidden 48, intermediate 96, 2 layers, 4 heads, image 32, patch 8 (16 patches + class
  token = 17 positions), layer_norm_eps 1e-5, gelu (erf).
* text: vocab 30524, hidden 32, intermediate 64, 2 layers, 4 heads, encoder_hidden_size 48
  (cross-attention key/value weights are [32, 48]), max_position_embeddings 64,
  layer_norm_eps 1e-12, bos [DEC] 30522, sep/eos 102, pad 0.
* image_text_hidden_size 16 (vision_proj [16, 48], text_proj [16, 32]).

Every parameter was re-randomised (seeded): linear/conv weights N(0, 0.2), biases N(0, 0.1),
LayerNorm weight 1 + N(0, 0.1) and bias N(0, 0.1), class/position/word embeddings N(0, 0.5),
and the LM bias of [SEP] (102) raised by {boost} so that some captions end early.

## Files

| file | contents |
|---|---|
| `captioner/` | `BlipForConditionalGeneration`: `config.json`, `generation_config.json` (as `save_pretrained` wrote them) and `model.safetensors` with every tensor in **F16**. Parameters were rounded to float16 before any reference output was computed, so the F32 reference is exact for these weights. Keys written: {cap_nkeys}; the tied `text_decoder.cls.predictions.decoder.{{weight,bias}}` are {cap_tied} (tied to `text_decoder.bert.embeddings.word_embeddings.weight` and `text_decoder.cls.predictions.bias`). |
| `itm/` | `BlipForImageTextRetrieval`: `config.json` and `model.safetensors` with every tensor in **BF16** (parameters rounded to bfloat16 first). {itm_nkeys} keys; no pooler. |
| `preprocessor_config.json` | `BlipImageProcessorPil(size={{"height": 32, "width": 32}})` (the PIL backend `BlipProcessor` uses without torchvision): bicubic, rescale 1/255, CLIP mean/std. |
| `jpeg0.jpg`, `jpeg1.jpg` | synthetic photo-like images drawn with Pillow: 64x48 (quality 90, 4:2:0) and 40x40 (quality 85, 4:4:4). |
| `inputs.safetensors` | `pixel_values_random` [2,3,32,32] F32 N(0,1); `pixel_values_jpeg` [2,3,32,32] F32 (processor output for the two JPEGs); `jpeg0_rgb` [48,64,3] U8 and `jpeg1_rgb` [40,40,3] U8 (Pillow decode); `jpeg_resized_rgb` [2,32,32,3] U8 (the processor's bicubic resize before /255 and normalisation); `input_ids`, `attention_mask` [2,T] I64 (T = {T}); `decoder_input_ids` (first token [DEC]); `itm_enc_input_ids` (first token [ENC]). |
| `inputs.json` | the texts, ids, masks, wordpiece tokens, and the prompt ids. |
| `expected_captioner.safetensors` | F32 (argmax I64), see below. |
| `expected_itm.safetensors` | F32, see below. |
| `generation.json` | `generate()` cases, see below. |

Tensor names end in `_random` (inputs `pixel_values_random`) or `_jpeg` (inputs `pixel_values_jpeg`).
Texts: {texts!r}, tokenised with the BERT vocab in `Sources/MED/Resources/vocab.txt` and padded
to T = {T} (the second row has attention_mask zeros).

### expected_captioner.safetensors

| name | shape | what |
|---|---|---|
| `vision_last_hidden_state_*` | [2,17,48] | `vision_model(...).last_hidden_state`: encoder output **after** `post_layernorm`. This is what the text decoder cross-attends to. |
| `vision_pooler_output_*` | [2,48] | `post_layernorm` applied a **second** time to `last_hidden_state[:, 0]` (HF quirk; unused by captioning/ITM). |
| `vision_hidden_states_*` | [3,2,17,48] | index 0: embeddings (class + patches + position) before layer 0; index i: output of layer i (before `post_layernorm`). |
| `decoder_hidden_states_*` | [2,T,32] | `text_decoder.bert` last_hidden_state: input `decoder_input_ids` ([DEC] first, as BLIP training does), causal + padding mask, cross-attention to `vision_last_hidden_state_*` (all-ones image mask). |
| `decoder_layer_outputs_*` | [3,2,T,32] | index 0: embeddings after LayerNorm; index i: output of text layer i. |
| `logits_head_random` | [2,T,2048] | LM logits[:, :, :2048] (random pixel inputs only, to keep the folder small). |
| `logits_tail_*` | [2,T,524] | LM logits[:, :, 30000:] (includes [DEC] 30522 and [ENC] 30523). |
| `logits_sep_*` | [2,T] | LM logits[:, :, 102]. |
| `logits_logsumexp_*` | [2,T] | logsumexp over the full 30524-way vocabulary. |
| `logits_argmax_*` | [2,T] I64 | argmax over the full vocabulary. |

Padded positions are computed too (they attend to the unpadded keys); compare them as well or
mask them, but their values are defined.

### expected_itm.safetensors

| name | shape | what |
|---|---|---|
| `vision_last_hidden_state_*`, `vision_pooler_output_*`, `vision_hidden_states_*` | as above | the ITM model's own vision tower. |
| `text_hidden_states_*` | [2,T,32] | `text_encoder` in text-only mode (no encoder_hidden_states, bidirectional + padding mask), [CLS] first. |
| `grounded_hidden_states_cls_*` | [2,T,32] | image-grounded `text_encoder` (cross-attention on image i for text i), [CLS] first: what HF `BlipForImageTextRetrieval` does. |
| `grounded_hidden_states_enc_*` | [2,T,32] | same with the first token replaced by [ENC] 30523 (original BLIP retrieval/pretraining convention). |
| `itm_logits_{{cls,enc}}_*` | [2,2] | `itm_head(grounded[:, 0])` for pairs (image i, text i). |
| `itm_prob_{{cls,enc}}_*` | [2] | softmax(itm_logits)[:, 1]. |
| `itm_logits_matrix_{{cls,enc}}_*` | [2,2,2] | [image, text, class] for every image against every text. |
| `itm_prob_matrix_{{cls,enc}}_*` | [2,2] | [image, text] match probability. |
| `itc_image_feat_*`, `itc_text_feat_*` | [2,16] | L2-normalised `vision_proj(vision[:,0])`, `text_proj(text_only[:,0])`. |
| `itc_cosine_matrix_*` | [2,2] | `model(..., use_itm_head=False).itm_score`: [image, text] cosine (no temperature). |
| `itc_cosine_*` | [2] | its diagonal. |

### generation.json

`cases`: one entry per `generate()` call of the captioner (`BlipForConditionalGeneration.generate`,
`do_sample=False` unless stated). Fields: `name`, `config`, `images` (which of random0, random1,
jpeg0, jpeg1 were batched into that call), `batched`, `prompt`, `processor_input_ids` (the
tokenizer output for the prompt), `decoder_input_ids` (what actually reaches the decoder),
`num_beams`, `max_length`, `min_length`, `repetition_penalty`, `num_return_sequences`,
`do_sample`, `top_k`, `length_penalty`, `pad_value`, and `outputs` (one per image, in order) with
`expected_ids` (list of sequences, one per returned sequence: [DEC] and prompt included, cut after
the first [SEP]), `raw_ids` (the rows exactly as `generate()` returned them, padding included),
`expected_text` (`decode(..., skip_special_tokens=True)`), `expected_caption` (the text with the
prompt stripped by character count, as BLIP does), `ended_early`, `lengths`, and
`sequence_scores` (beam search: the length-normalised score of each returned sequence; the
greedy/sampling value is null).

Configs: {configs}.
Batched calls (`batched: true`) must give the same ids per image as the single-image calls; the
generator asserts that.

## transformers behaviour these fixtures pin down

* `vision_model(...).last_hidden_state` already has `post_layernorm` applied; `pooler_output`
  applies it again to the class token.
* With a prompt, `generate()` writes [DEC] into `input_ids[:, 0]` **in place** (the caller's
  tensor changes) and feeds `input_ids[:, :-1]` (and `attention_mask[:, :-1]`) to the decoder,
  i.e. it drops the trailing [SEP] the tokenizer added: "a picture of " -> {prompt_proc} ->
  {prompt_dec}. `max_length`/`min_length` count [DEC] and the prompt.
* Without a prompt the decoder starts from [DEC] alone.
* `min_length`: [SEP] gets -inf while the current length (bos + prompt + generated) is below it.
* Greedy and sampling pad finished rows with 0 ([PAD]); beam search pads with 102 (it fills with
  `pad_token_id or eos_token_id`, and pad 0 is falsy).
* Beam search applies `log_softmax` first and then the logits processors, so the repetition
  penalty acts on log-probabilities there (multiplies them by the penalty, as they are negative)
  but on raw logits in greedy/sampling (divide if positive, multiply if negative). The penalty
  covers every token in the sequence, [DEC] and the prompt included.
* Beam search keeps 2 x num_beams candidates per step; only the top num_beams candidates may
  finish a hypothesis; score = sum of generated log-probs / number of generated tokens ([SEP]
  included, prompt excluded). Hypotheses that reach max_length are finished with the same rule.
* Attention masks in transformers 5.x use `finfo(float32).min`, not -10000; the result is the
  same once softmaxed.
* HF's ITM puts [CLS] first (not [ENC]); both variants are recorded.
* `from_pretrained` without `dtype` loads these files as {cap_default} (captioner) / {itm_default}
  (ITM); the reference outputs were computed in float32 (`dtype=torch.float32`).

## Summary at generation time

{summary}
"""


def summarise(result, out: Path) -> str:
    lines = []
    total = 0
    for path in sorted(out.rglob("*")):
        if path.is_file():
            total += path.stat().st_size
    lines.append(f"total size: {total} bytes ({total / 1e6:.2f} MB)")
    early = late = 0
    for case in result["cases"]:
        for o in case["outputs"]:
            for e in o["ended_early"]:
                early += e
                late += not e
    lines.append(f"generated sequences: {early} ended with [SEP] before max_length, {late} ran to max_length")
    for case in result["cases"]:
        if case["batched"]:
            continue
        o = case["outputs"][0]
        lines.append(f"{case['name']}: {o['lengths'][0]} tokens, {'[SEP]' if o['ended_early'][0] else 'max_length'}: {o['expected_caption'][0]!r}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with --out")
    args = parser.parse_args()

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_out = Path(tmp) / "med"
            build_and_document(tmp_out)
            a = sorted(p.relative_to(tmp_out) for p in tmp_out.rglob("*") if p.is_file())
            b = sorted(p.relative_to(args.out) for p in args.out.rglob("*") if p.is_file() and p.name != ".keep")
            if a != b:
                print(f"file lists differ:\n{a}\n{b}")
                return 1
            bad = [str(p) for p in a if not filecmp.cmp(tmp_out / p, args.out / p, shallow=False)]
            if bad:
                print("differ:", bad)
                return 1
            print(f"{len(a)} files identical")
            return 0
    build_and_document(args.out)
    return 0


def build_and_document(out: Path) -> None:
    result = build(out)
    T = result["cap_expected"]["decoder_hidden_states_random"].shape[1]
    summary_wo = summarise(result, out)
    tied = [k for k in result["cap_keys"] if "cls.predictions.decoder" in k]
    configs = ", ".join(f"`{c['config']}`" for c in GEN_CONFIGS)
    tok = make_tokenizer()
    prompt_proc = tok(PROMPT).input_ids
    readme = README.format(
        transformers=transformers.__version__,
        torch=torch.__version__,
        pillow=Image.__version__,
        safetensors=__import__("safetensors").__version__,
        boost=SEP_BIAS_BOOST,
        cap_nkeys=len(result["cap_keys"]),
        cap_tied=("written: " + ", ".join(tied)) if tied else "NOT written",
        itm_nkeys=len(result["itm_keys"]),
        T=T,
        texts=TEXTS,
        configs=configs,
        prompt_proc=prompt_proc,
        prompt_dec=[DEC_ID] + prompt_proc[1:-1],
        cap_default=result["cap_default_dtype"],
        itm_default=result["itm_default_dtype"],
        summary="```\n" + summary_wo + "\n```",
    )
    (out / "README.md").write_text(readme)
    print(summarise(result, out))
    for case in result["cases"]:
        if case["config"].startswith("beam") and not case["batched"]:
            print(case["name"], "scores", case["outputs"][0]["sequence_scores"])


if __name__ == "__main__":
    sys.exit(main())
