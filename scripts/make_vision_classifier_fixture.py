#!/usr/bin/env python3
"""Build the parity fixture of the ViT image classifier (the pretrain_vision stage's model).

A tiny transformers BlipVisionModel (random, initializer_range 0.02) and a linear head over the
[CLS] row of last_hidden_state (post_layernorm applied once, the row BLIP's ITC projects; not
transformers' pooler_output, which applies post_layernorm a second time); softmax cross-entropy,
mean over the batch. Writes Tests/TrainingTests/Fixtures/vision_classifier/:

    state.safetensors      vision_model.* (Hugging Face names) and classifier.{weight,bias}
    inputs.safetensors     pixel_values [B, 3, S, S]
    gradients.safetensors  the gradient of every tensor in state.safetensors
    fixture.json           config, labels, loss, the number of right predictions

    python scripts/make_vision_classifier_fixture.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import BlipVisionConfig, BlipVisionModel

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "Tests/TrainingTests/Fixtures/vision_classifier")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(7)
    torch.set_num_threads(1)
    config = BlipVisionConfig(hidden_size=16, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=16, patch_size=4, initializer_range=0.02)
    vision = BlipVisionModel(config).double()
    # Non-trivial LayerNorm weights, biases and embeddings, so that every gradient path is exercised.
    with torch.no_grad():
        for name, p in vision.named_parameters():
            p.add_(torch.randn_like(p) * 0.05)
    classes = 5
    head = torch.nn.Linear(16, classes).double()
    batch = 4
    pixels = torch.randn(batch, 3, 16, 16, dtype=torch.float64)
    labels = torch.tensor([3, 0, 4, 3])

    state = {"vision_model." + k: v.detach().float().clone() for k, v in vision.state_dict().items()}
    state["classifier.weight"] = head.weight.detach().float().clone()
    state["classifier.bias"] = head.bias.detach().float().clone()
    # The float32 values are the model: rebuild the float64 model from them.
    with torch.no_grad():
        for k, v in vision.state_dict().items():
            v.copy_(state["vision_model." + k].double())
        head.weight.copy_(state["classifier.weight"].double())
        head.bias.copy_(state["classifier.bias"].double())
        pixels = pixels.float().double()

    cls = vision(pixel_values=pixels).last_hidden_state[:, 0]
    logits = head(cls)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = {"vision_model." + k: p.grad.detach().float().contiguous() for k, p in vision.named_parameters()}
    grads["classifier.weight"] = head.weight.grad.detach().float()
    grads["classifier.bias"] = head.bias.grad.detach().float()
    missing = set(state) - set(grads)
    assert not missing, missing

    save_file({k: v.contiguous() for k, v in state.items()}, str(args.out / "state.safetensors"))
    save_file({"pixel_values": pixels.float().contiguous()}, str(args.out / "inputs.safetensors"))
    save_file(grads, str(args.out / "gradients.safetensors"))
    fixture = {
        "hidden_size": 16, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
        "image_size": 16, "patch_size": 4, "classes": classes, "labels": labels.tolist(),
        "loss": loss.item(), "correct": int((logits.argmax(1) == labels).sum()),
        "torch": torch.__version__,
    }
    (args.out / "fixture.json").write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {args.out}: loss {loss.item():.6f}, {len(grads)} gradient tensors")


if __name__ == "__main__":
    main()
