#!/usr/bin/env python3
"""Writes the checkpoint I/O fixtures under Tests/MEDTests/Fixtures/checkpoint.

    python scripts/make_checkpoint_fixtures.py            # regenerate the fixtures
    python scripts/make_checkpoint_fixtures.py verify-safetensors FILE
    python scripts/make_checkpoint_fixtures.py verify-config DIR_OR_CONFIG_JSON

Fixtures:
  floats.safetensors           F32/F16/BF16 tensors holding edge-case bit patterns
                               (subnormals, infinities, NaNs with payloads, -0) and,
                               for each, "<name>.expected": the exact F32 values.
  writer_reference.safetensors F32 tensors written by the `safetensors` package; the
                               Swift writer must reproduce this file byte for byte.
  blip_*/config.json           BlipConfig files: written by transformers' save_pretrained
                               (tiny and default sizes), and in the full-dict layout older
                               transformers releases wrote for the Salesforce checkpoints.
  expected_configs.json        the values transformers resolves when it loads each config.

The verify-* commands load a file the Swift code wrote with the Python libraries.
"""

import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "MEDTests", "Fixtures", "checkpoint")


# ---------------------------------------------------------------------------
# Exact reference conversions, written out arithmetically (not via hardware).

def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f16_to_f32_bits(h):
    sign = (h >> 15) & 1
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0x1F:
        # Infinity or NaN: sign kept, payload moved to the top of the F32 mantissa.
        return (sign << 31) | 0x7F800000 | (mant << 13)
    if exp == 0:
        value = math.ldexp(mant, -24)  # subnormal or zero, exact in F32
    else:
        value = math.ldexp(1024 + mant, exp - 25)
    bits = f32_bits(value)
    return bits | (sign << 31)


def bf16_to_f32_bits(b):
    return b << 16


F16_PATTERNS = [
    0x0000, 0x8000,                  # +-0
    0x0001, 0x8001, 0x0002, 0x0155,  # smallest subnormals, a middle one
    0x03FF, 0x83FF, 0x0200,          # largest subnormal, half-way subnormal
    0x0400, 0x8400, 0x0401,          # smallest normals
    0x3C00, 0xBC00, 0x3C01, 0x3BFF,  # 1, -1, next after 1, previous before 1
    0x3555, 0x4248, 0x4900, 0xC900,  # 1/3, pi, 10, -10
    0x7BFF, 0xFBFF,                  # +-65504
    0x7C00, 0xFC00,                  # +-inf
    0x7E00, 0xFE00,                  # quiet NaNs
    0x7C01, 0x7D55, 0xFC01,          # signalling NaNs with payloads
    0x7FFF, 0xFFFF,                  # all-ones payloads
    0x1234, 0x5678, 0x9ABC, 0xDEF0,  # arbitrary
]

BF16_PATTERNS = [
    0x0000, 0x8000,
    0x0001, 0x8001, 0x007F, 0x0040,  # subnormals
    0x0080, 0x8080,                  # smallest normals
    0x3F80, 0xBF80, 0x3F81, 0x4049,  # 1, -1, next after 1, ~pi
    0x7F7F, 0xFF7F,                  # +-max
    0x7F80, 0xFF80,                  # +-inf
    0x7FC0, 0xFFC0, 0x7F81, 0x7FFF,  # NaNs (quiet, signalling, payloads)
    0x1234, 0xABCD, 0x4B00, 0xC2C8,
]

F32_PATTERNS = [
    0x00000000, 0x80000000, 0x00000001, 0x807FFFFF, 0x00800000,
    0x3F800000, 0xBF800000, 0x7F7FFFFF, 0x7F800000, 0xFF800000,
    0x7FC00000, 0x7F800001, 0xFFFFFFFF, 0x40490FDB, 0x12345678,
]


def u16_tensor(bits, dtype):
    arr = np.array(bits, dtype=np.uint16).view(np.int16)
    return torch.from_numpy(arr.copy()).view(dtype)


def u32_f32_tensor(bits):
    arr = np.array(bits, dtype=np.uint32).view(np.int32)
    return torch.from_numpy(arr.copy()).view(torch.float32)


def raw_tensor_bytes(path, name):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    begin, end = header[name]["data_offsets"]
    return data[8 + n + begin:8 + n + end]


def write_floats_fixture():
    f16_expected = [f16_to_f32_bits(h) for h in F16_PATTERNS]
    bf16_expected = [bf16_to_f32_bits(b) for b in BF16_PATTERNS]

    # Cross-check the arithmetic reference against numpy for every non-NaN pattern.
    for h, e in zip(F16_PATTERNS, f16_expected):
        if (h & 0x7C00) == 0x7C00 and (h & 0x3FF):
            continue
        got = int(np.array([h], dtype=np.uint16).view(np.float16).astype(np.float32).view(np.uint32)[0])
        assert got == e, (hex(h), hex(got), hex(e))
    for b, e in zip(BF16_PATTERNS, bf16_expected):
        if (b & 0x7F80) == 0x7F80 and (b & 0x7F):
            continue
        got = int(u16_tensor([b], torch.bfloat16).float().view(torch.int32).numpy().view(np.uint32)[0])
        assert got == e, (hex(b), hex(got), hex(e))

    tensors = {
        "f16": u16_tensor(F16_PATTERNS, torch.float16).reshape(len(F16_PATTERNS)),
        "f16.expected": u32_f32_tensor(f16_expected),
        "bf16": u16_tensor(BF16_PATTERNS, torch.bfloat16).reshape(4, len(BF16_PATTERNS) // 4),
        "bf16.expected": u32_f32_tensor(bf16_expected).reshape(4, len(BF16_PATTERNS) // 4),
        "f32": u32_f32_tensor(F32_PATTERNS).reshape(3, 5),
        "f32.expected": u32_f32_tensor(F32_PATTERNS).reshape(3, 5),
    }
    path = os.path.join(OUT, "floats.safetensors")
    save_file(tensors, path, metadata={"format": "pt", "purpose": "conversion fixtures"})

    # The stored bytes must be the exact patterns (no NaN canonicalisation on the way).
    assert raw_tensor_bytes(path, "f16") == struct.pack(f"<{len(F16_PATTERNS)}H", *F16_PATTERNS)
    assert raw_tensor_bytes(path, "bf16") == struct.pack(f"<{len(BF16_PATTERNS)}H", *BF16_PATTERNS)
    assert raw_tensor_bytes(path, "f32") == struct.pack(f"<{len(F32_PATTERNS)}I", *F32_PATTERNS)
    assert raw_tensor_bytes(path, "f16.expected") == struct.pack(f"<{len(f16_expected)}I", *f16_expected)


# Names, shapes and values the Swift test writes again and compares byte for byte.
WRITER_TENSORS = [
    ("vision_model.embeddings.class_embedding", [1, 1, 4]),
    ("text_decoder.cls.predictions.bias", [5]),
    ("b.weight", [2, 3]),
    ("scalar", []),
    ("empty", [0, 4]),
    ("quote\"back\\slash/tab\tnewline\n\u00e9", [2]),
]


def writer_values(index, count):
    # Mirrors the Swift test: value k of tensor i is (i * 100 + k) * 0.25 - 3
    return [(index * 100 + k) * 0.25 - 3.0 for k in range(count)]


def write_writer_reference():
    tensors = {}
    for i, (name, shape) in enumerate(WRITER_TENSORS):
        count = int(np.prod(shape)) if shape else 1
        t = torch.tensor(writer_values(i, count), dtype=torch.float32).reshape(shape)
        tensors[name] = t
    path = os.path.join(OUT, "writer_reference.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    assert (8 + n) % 8 == 0


# ---------------------------------------------------------------------------
# Configs

MODELED_TEXT = ["vocab_size", "hidden_size", "encoder_hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "max_position_embeddings",
                "layer_norm_eps", "hidden_act", "bos_token_id", "eos_token_id",
                "sep_token_id", "pad_token_id", "label_smoothing"]
MODELED_VISION = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                  "image_size", "patch_size", "layer_norm_eps", "hidden_act"]
MODELED_TOP = ["architectures", "projection_dim", "image_text_hidden_size",
               "logit_scale_init_value", "label_smoothing"]


def resolved_values(config):
    out = {k: getattr(config, k) for k in MODELED_TOP}
    out["text_config"] = {k: getattr(config.text_config, k) for k in MODELED_TEXT}
    out["vision_config"] = {k: getattr(config.vision_config, k) for k in MODELED_VISION}
    return out


def load_config(folder):
    from transformers import BlipConfig
    return BlipConfig.from_pretrained(folder)


def save_transformers_config(config, folder):
    path = os.path.join(OUT, folder)
    os.makedirs(path, exist_ok=True)
    config.save_pretrained(path)


# Keys that transformers 4.2x serialised for every PretrainedConfig (to_dict, no diff).
LEGACY_COMMON = {
    "_name_or_path": "", "add_cross_attention": False, "architectures": None,
    "bad_words_ids": None, "begin_suppress_tokens": None, "chunk_size_feed_forward": 0,
    "cross_attention_hidden_size": None, "decoder_start_token_id": None,
    "diversity_penalty": 0.0, "do_sample": False, "early_stopping": False,
    "encoder_no_repeat_ngram_size": 0, "exponential_decay_length_penalty": None,
    "finetuning_task": None, "forced_bos_token_id": None, "forced_eos_token_id": None,
    "id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "is_encoder_decoder": False,
    "label2id": {"LABEL_0": 0, "LABEL_1": 1}, "length_penalty": 1.0, "max_length": 20,
    "min_length": 0, "no_repeat_ngram_size": 0, "num_beam_groups": 1, "num_beams": 1,
    "num_return_sequences": 1, "output_attentions": False, "output_hidden_states": False,
    "output_scores": False, "prefix": None, "problem_type": None, "pruned_heads": {},
    "remove_invalid_values": False, "repetition_penalty": 1.0, "return_dict": True,
    "return_dict_in_generate": False, "suppress_tokens": None, "task_specific_params": None,
    "temperature": 1.0, "tf_legacy_loss": False, "tie_encoder_decoder": False,
    "tie_word_embeddings": True, "tokenizer_class": None, "top_k": 50, "top_p": 1.0,
    "torch_dtype": None, "torchscript": False, "transformers_version": "4.26.0.dev0",
    "typical_p": 1.0, "use_bfloat16": False,
}


def legacy_hub_config(architecture):
    """The full-dict layout of the Salesforce BLIP base checkpoints' config.json.

    Written by transformers 4.26: every field spelled out, text heads 12 (not the class
    default 8), no encoder_hidden_size and no label_smoothing keys, legacy generation
    keys inside the sub-configs.
    """
    text = dict(LEGACY_COMMON)
    text.update({
        "attention_probs_dropout_prob": 0.0, "bos_token_id": 30522, "eos_token_id": 2,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "hidden_size": 768,
        "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072,
        "is_decoder": True, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
        "model_type": "blip_text_model", "num_attention_heads": 12, "num_hidden_layers": 12,
        "pad_token_id": 0, "projection_dim": 768, "sep_token_id": 102, "use_cache": True,
        "vocab_size": 30524,
    })
    vision = dict(LEGACY_COMMON)
    vision.update({
        "attention_dropout": 0.0, "bos_token_id": None, "dropout": 0.0, "eos_token_id": None,
        "hidden_act": "gelu", "hidden_size": 768, "image_size": 384, "initializer_factor": 1.0,
        "initializer_range": 0.02, "intermediate_size": 3072, "is_decoder": False,
        "layer_norm_eps": 1e-05, "model_type": "blip_vision_model", "num_attention_heads": 12,
        "num_channels": 3, "num_hidden_layers": 12, "pad_token_id": None, "patch_size": 16,
        "projection_dim": 512, "sep_token_id": None,
    })
    return {
        "_commit_hash": None,
        "architectures": [architecture],
        "image_text_hidden_size": 256,
        "initializer_factor": 1.0,
        "logit_scale_init_value": 2.6592,
        "model_type": "blip",
        "projection_dim": 512,
        "text_config": text,
        "torch_dtype": "float32",
        "transformers_version": None,
        "vision_config": vision,
    }


def write_configs():
    from transformers import BlipConfig

    tiny = BlipConfig(
        text_config=dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=64, layer_norm_eps=1e-6,
                         bos_token_id=90, eos_token_id=3, sep_token_id=91, pad_token_id=1,
                         label_smoothing=0.1),
        vision_config=dict(hidden_size=24, intermediate_size=48, num_hidden_layers=3,
                           num_attention_heads=2, image_size=32, patch_size=8, layer_norm_eps=1e-6),
        projection_dim=16, image_text_hidden_size=12, label_smoothing=0.2,
        logit_scale_init_value=2.5)
    tiny.architectures = ["BlipForConditionalGeneration"]
    save_transformers_config(tiny, "blip_tiny_captioning")

    default = BlipConfig()
    default.architectures = ["BlipForImageTextRetrieval"]
    save_transformers_config(default, "blip_default_retrieval")

    for folder, arch in [("blip_hub_captioning", "BlipForConditionalGeneration"),
                         ("blip_hub_retrieval", "BlipForImageTextRetrieval")]:
        path = os.path.join(OUT, folder)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(legacy_hub_config(arch), f, indent=2, sort_keys=True)
            f.write("\n")

    expected = {}
    for folder in ["blip_tiny_captioning", "blip_default_retrieval",
                   "blip_hub_captioning", "blip_hub_retrieval"]:
        expected[folder] = resolved_values(load_config(os.path.join(OUT, folder)))
    with open(os.path.join(OUT, "expected_configs.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")

    # Facts the Swift parser relies on; fail loudly if a transformers release changes them.
    assert expected["blip_default_retrieval"]["text_config"]["num_attention_heads"] == 8
    assert expected["blip_hub_captioning"]["text_config"]["num_attention_heads"] == 12
    assert expected["blip_hub_captioning"]["text_config"]["label_smoothing"] == 0.0
    with tempfile.TemporaryDirectory() as d:
        c = BlipConfig(text_config={"encoder_hidden_size": 12}, vision_config={"hidden_size": 64,
                                                                             "num_attention_heads": 4})
        assert c.text_config.encoder_hidden_size == 64
        c.save_pretrained(d)
        with open(os.path.join(d, "config.json")) as f:
            written = json.load(f)
        # save_pretrained writes every model-specific field, not a diff against class defaults.
        assert "num_attention_heads" in written["text_config"]
        assert "layer_norm_eps" in written["vision_config"]


# ---------------------------------------------------------------------------

def verify_safetensors(path):
    with safe_open(path, framework="pt") as f:
        print("metadata:", f.metadata())
        for name in f.keys():
            t = f.get_tensor(name)
            print(f"{name!r}: {t.dtype} {list(t.shape)} {t.flatten()[:6].tolist()}")


def verify_config(path):
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    config = load_config(folder)
    print(json.dumps(resolved_values(config), indent=2, sort_keys=True))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "verify-safetensors":
        verify_safetensors(sys.argv[2])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "verify-config":
        verify_config(sys.argv[2])
        return
    if len(sys.argv) != 1:
        sys.exit(__doc__)
    os.makedirs(OUT, exist_ok=True)
    write_floats_fixture()
    write_writer_reference()
    write_configs()
    for dirpath, _, files in os.walk(OUT):
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    print("wrote fixtures to", OUT)


if __name__ == "__main__":
    main()
