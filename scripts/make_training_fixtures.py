#!/usr/bin/env python3
"""Build the Training gradient-parity fixtures: one BLIP pre-training step of a tiny random model.

Writes Tests/TrainingTests/Fixtures/pretrain/ (see the README.md written there). The model is
assembled from transformers' BLIP modules (BlipVisionModel, BlipTextModel, BlipTextLMHeadModel)
and wired as BLIP's `blip_pretrain.py` wires its own: the decoder shares every text parameter with
the encoder except self-attention, the LM decoder weight is tied to the word embeddings, ITC uses
a learned temperature, momentum encoders and a feature queue with soft targets, ITM takes [ENC]
first and hard negatives (fixed here), LM takes [DEC] first with label smoothing 0.1.

For each loss term (itc, itm, lm) the step starts again from the same saved state and only that
term is back-propagated; the losses and every parameter's gradient are saved. So is the retrieval
fine-tuning objective (`blip_retrieval.py`: ITC with image-id positives over batch and queue, plus
ITM). Five AdamW steps of the summed loss are recorded too.

Also written: Fixtures/captioner/ (a tiny BlipForConditionalGeneration saved with save_pretrained,
its own LM loss with the prompt masked, and every gradient) and Fixtures/images/ (small JPEGs and
an unreadable file for the data loader). Deterministic: same versions, same bytes.

    python scripts/make_training_fixtures.py [--out DIR] [--captioner-out DIR]
    python scripts/make_training_fixtures.py --check-export DIR

--check-export loads the Hugging Face folders that the Swift test HuggingFaceFolderTests keeps
when run with CAPFILT_TRAINING_EXPORT=DIR (DIR/itm, DIR/caption) with transformers'
from_pretrained, and compares their ITM logits, ITC cosines and LM logits with this fixture's
model (missing or unexpected tensors fail).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from transformers import BlipConfig, BlipForConditionalGeneration, BlipTextConfig, BlipVisionConfig
from transformers.models.blip.modeling_blip import BlipVisionModel
from transformers.models.blip.modeling_blip_text import BlipTextLMHeadModel, BlipTextModel

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "Tests" / "TrainingTests" / "Fixtures" / "pretrain"
CAPTIONER_OUT = REPO / "Tests" / "TrainingTests" / "Fixtures" / "captioner"

SEED = 20241106
PAD_ID, CLS_ID, SEP_ID = 0, 1, 2
VOCAB = 40
DEC_ID, ENC_ID = VOCAB - 2, VOCAB - 1
BATCH, QUEUE, PROJ = 4, 8, 8
MOMENTUM, ALPHA, SMOOTHING, TEMP = 0.995, 0.4, 0.1, 0.09
# The negative image of each text and the negative text of each image (never the own pair).
NEG_IMAGE_FOR_TEXT = [2, 0, 3, 1]
NEG_TEXT_FOR_IMAGE = [1, 3, 0, 2]
# Retrieval fine-tuning (blip_retrieval.py): image ids of the batch and of the queued features;
# pairs with the same id are all positives in ITC.
IMAGE_IDS = [5, 7, 6, 9]
QUEUE_IDS = [5, -100, 9, 3, 7, -100, 5, 11]
# AdamW for the multi-step check (weight decay 0.05, none on biases, LayerNorm and temp).
LR, WEIGHT_DECAY, WARMUP, STEPS = 1e-3, 0.05, 2, 5

VISION = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
              image_size=16, patch_size=8, layer_norm_eps=1e-5, hidden_act="gelu")
TEXT = dict(vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
            encoder_hidden_size=16, max_position_embeddings=16, layer_norm_eps=1e-12, hidden_act="gelu",
            bos_token_id=DEC_ID, sep_token_id=SEP_ID, eos_token_id=SEP_ID, pad_token_id=PAD_ID,
            label_smoothing=SMOOTHING)
# [CLS] words [SEP] then padding: lengths 6, 4, 5, 3.
IDS = [
    [CLS_ID, 7, 12, 30, 5, SEP_ID],
    [CLS_ID, 9, 21, SEP_ID, PAD_ID, PAD_ID],
    [CLS_ID, 33, 4, 17, SEP_ID, PAD_ID],
    [CLS_ID, 25, SEP_ID, PAD_ID, PAD_ID, PAD_ID],
]
CAPTIONER_SEED = 20241107
# Captions after a 3-token prompt ([DEC] and two prompt words), as BLIP fine-tunes its captioner.
CAPTION_IDS = [
    [DEC_ID, 10, 11, 7, 12, 30, SEP_ID],
    [DEC_ID, 10, 11, 21, SEP_ID, PAD_ID, PAD_ID],
    [DEC_ID, 10, 11, 4, 17, 9, SEP_ID],
]
PROMPT_LENGTH = 3


class Pretrainer(torch.nn.Module):
    """The parameters of BLIP's pre-training model, named as the Swift side names them."""

    def __init__(self, config: BlipConfig):
        super().__init__()
        tc = copy.deepcopy(config.text_config)
        tc.is_decoder = True  # BlipTextLayer builds cross-attention only for decoder configs
        self.vision = BlipVisionModel(config.vision_config)
        self.encoder = BlipTextModel(tc, add_pooling_layer=False)
        self.decoder = BlipTextLMHeadModel(tc)
        # Share everything but self-attention (paper Table 3), and tie the LM decoder weight.
        self.decoder.bert.embeddings = self.encoder.embeddings
        for el, dl in zip(self.encoder.encoder.layer, self.decoder.bert.encoder.layer):
            dl.crossattention, dl.intermediate, dl.output = el.crossattention, el.intermediate, el.output
        pred = self.decoder.cls.predictions
        pred.decoder.weight = self.encoder.embeddings.word_embeddings.weight
        pred.decoder.bias = pred.bias
        dv, d = config.vision_config.hidden_size, config.text_config.hidden_size
        self.vision_proj = torch.nn.Linear(dv, PROJ)
        self.text_proj = torch.nn.Linear(d, PROJ)
        self.itm_head = torch.nn.Linear(d, 2)
        self.temp = torch.nn.Parameter(torch.tensor(TEMP))
        # Momentum encoders: unimodal vision and text encoders and their projections.
        self.vision_m = BlipVisionModel(config.vision_config)
        self.encoder_m = BlipTextModel(tc, add_pooling_layer=False)
        self.vision_proj_m = torch.nn.Linear(dv, PROJ)
        self.text_proj_m = torch.nn.Linear(d, PROJ)
        for m in (self.vision_m, self.encoder_m, self.vision_proj_m, self.text_proj_m):
            m.requires_grad_(False)
        self.register_buffer("image_queue", torch.zeros(QUEUE, PROJ))
        self.register_buffer("text_queue", torch.zeros(QUEUE, PROJ))
        self.register_buffer("idx_queue", torch.full((QUEUE,), -100, dtype=torch.long))
        self.queue_ptr = 0

    def named_trainable(self) -> dict[str, torch.nn.Parameter]:
        out = {}
        for n, p in self.vision.named_parameters():
            out["vision_model." + n] = p
        for n, p in self.encoder.named_parameters():
            out["text_encoder." + n] = p
        for i, layer in enumerate(self.decoder.bert.encoder.layer):
            for n, p in layer.attention.named_parameters():
                out[f"text_decoder.bert.encoder.layer.{i}.attention.{n}"] = p
        pred = self.decoder.cls.predictions
        for n, p in pred.transform.named_parameters():
            out["text_decoder.cls.predictions.transform." + n] = p
        out["text_decoder.cls.predictions.bias"] = pred.bias
        for m in ("vision_proj", "text_proj", "itm_head"):
            for n, p in getattr(self, m).named_parameters():
                out[f"{m}.{n}"] = p
        out["temp"] = self.temp
        trainable = [p for p in self.parameters() if p.requires_grad]
        assert len({id(p) for p in out.values()}) == len(out) == len(trainable), "every trainable parameter appears exactly once"
        return out

    def momentum_pairs(self) -> list[tuple[str, torch.nn.Parameter, torch.nn.Parameter]]:
        pairs = []
        for prefix, model, copy_ in (("vision_model.", self.vision, self.vision_m), ("vision_proj.", self.vision_proj, self.vision_proj_m),
                                     ("text_proj.", self.text_proj, self.text_proj_m)):
            for (n, p), (_, pm) in zip(model.named_parameters(), copy_.named_parameters()):
                pairs.append((prefix + n, p, pm))
        for (n, p), (_, pm) in zip(self.encoder.named_parameters(), self.encoder_m.named_parameters()):
            if ".crossattention." not in n:  # unused by the unimodal encoder; the Swift copy has none
                pairs.append(("text_encoder." + n, p, pm))
        return pairs

    def forward(self, pixels, ids, mask, alpha, weights=(1.0, 1.0, 1.0), idx=None):
        with torch.no_grad():
            self.temp.clamp_(0.001, 0.5)
        image_embeds = self.vision(pixel_values=pixels).last_hidden_state
        image_feat = F.normalize(self.vision_proj(image_embeds[:, 0, :]), dim=-1)
        text_out = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        text_feat = F.normalize(self.text_proj(text_out[:, 0, :]), dim=-1)

        with torch.no_grad():
            for _, p, pm in self.momentum_pairs():
                pm.data = pm.data * MOMENTUM + p.data * (1.0 - MOMENTUM)
            image_feat_m = F.normalize(self.vision_proj_m(self.vision_m(pixel_values=pixels).last_hidden_state[:, 0, :]), dim=-1)
            text_feat_m = F.normalize(self.text_proj_m(self.encoder_m(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0, :]), dim=-1)
            image_feat_all = torch.cat([image_feat_m, self.image_queue.clone()], dim=0)
            text_feat_all = torch.cat([text_feat_m, self.text_queue.clone()], dim=0)
            sim_i2t_m = image_feat_m @ text_feat_all.t() / self.temp
            sim_t2i_m = text_feat_m @ image_feat_all.t() / self.temp
            if idx is None:
                targets = torch.zeros_like(sim_i2t_m)
                targets.fill_diagonal_(1)
            else:  # blip_retrieval.py: every pair with the same image id is a positive
                pos = torch.eq(idx.view(-1, 1), torch.cat([idx, self.idx_queue]).view(1, -1)).float()
                targets = pos / pos.sum(1, keepdim=True)
            i2t_targets = alpha * F.softmax(sim_i2t_m, dim=1) + (1 - alpha) * targets
            t2i_targets = alpha * F.softmax(sim_t2i_m, dim=1) + (1 - alpha) * targets
        sim_i2t = image_feat @ text_feat_all.t() / self.temp
        sim_t2i = text_feat @ image_feat_all.t() / self.temp
        loss_i2t = -torch.sum(F.log_softmax(sim_i2t, dim=1) * i2t_targets, dim=1).mean()
        loss_t2i = -torch.sum(F.log_softmax(sim_t2i, dim=1) * t2i_targets, dim=1).mean()
        loss_itc = (loss_i2t + loss_t2i) / 2
        with torch.no_grad():
            b = ids.shape[0]
            self.image_queue[self.queue_ptr:self.queue_ptr + b] = image_feat_m
            self.text_queue[self.queue_ptr:self.queue_ptr + b] = text_feat_m
            if idx is not None:
                self.idx_queue[self.queue_ptr:self.queue_ptr + b] = idx
            self.queue_ptr = (self.queue_ptr + b) % QUEUE

        enc_ids = ids.clone()
        enc_ids[:, 0] = ENC_ID
        neg_img = torch.tensor(NEG_IMAGE_FOR_TEXT)
        neg_txt = torch.tensor(NEG_TEXT_FOR_IMAGE)
        out_pos = self.encoder(input_ids=enc_ids, attention_mask=mask, encoder_hidden_states=image_embeds).last_hidden_state
        out_neg = self.encoder(input_ids=torch.cat([enc_ids, enc_ids[neg_txt]]), attention_mask=torch.cat([mask, mask[neg_txt]]),
                               encoder_hidden_states=torch.cat([image_embeds[neg_img], image_embeds])).last_hidden_state
        vl = torch.cat([out_pos[:, 0, :], out_neg[:, 0, :]], dim=0)
        itm_labels = torch.cat([torch.ones(b, dtype=torch.long), torch.zeros(2 * b, dtype=torch.long)])
        loss_itm = F.cross_entropy(self.itm_head(vl), itm_labels)

        dec_ids = ids.clone()
        dec_ids[:, 0] = DEC_ID
        targets = dec_ids.masked_fill(dec_ids == PAD_ID, -100)
        loss_lm = self.decoder(input_ids=dec_ids, attention_mask=mask, encoder_hidden_states=image_embeds,
                               labels=targets, reduction="mean").loss
        total = weights[0] * loss_itc + weights[1] * loss_itm + weights[2] * loss_lm
        return total, (loss_itc.item(), loss_itm.item(), loss_lm.item())


def randomise(model: Pretrainer, gen: torch.Generator) -> None:
    """Every parameter at a scale where a swapped or transposed tensor shows (make_med_fixtures' scales)."""
    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen) * std + mean

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "temp":
                continue
            leaf = name.rsplit(".", 1)[-1]
            is_norm = "LayerNorm" in name or "layer_norm" in name or "post_layernorm" in name
            if "embedding" in name and "patch_embedding" not in name:
                p.copy_(normal(p.shape, 0.5))
            elif is_norm and leaf == "weight":
                p.copy_(normal(p.shape, 0.1, 1.0))
            elif leaf == "weight":
                p.copy_(normal(p.shape, 0.3))
            else:
                p.copy_(normal(p.shape, 0.1))
        model.image_queue.copy_(F.normalize(torch.randn(QUEUE, PROJ, generator=gen), dim=-1))
        model.text_queue.copy_(F.normalize(torch.randn(QUEUE, PROJ, generator=gen), dim=-1))


def state(model: Pretrainer) -> dict[str, torch.Tensor]:
    out = {n: p.detach().clone().contiguous() for n, p in model.named_trainable().items()}
    out["temp"] = out["temp"].reshape(1)
    for n, _, pm in model.momentum_pairs():
        out["momentum." + n] = pm.detach().clone().contiguous()
    out["queue.image"] = model.image_queue.clone()
    out["queue.text"] = model.text_queue.clone()
    return out


def gradients(model: Pretrainer) -> dict[str, torch.Tensor]:
    out = {}
    for n, p in model.named_trainable().items():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        out[n] = g.detach().clone().reshape(1) if n == "temp" else g.detach().clone().contiguous()
    return out


def adamw_step(model: Pretrainer, opt: torch.optim.Optimizer, step: int) -> None:
    lr = LR * (step + 1) / WARMUP if step < WARMUP else LR * 0.5 * (1 + math.cos(math.pi * (step - WARMUP) / (STEPS - WARMUP)))
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()


def check_export(root: Path, fixture: Path) -> None:
    from safetensors.torch import load_file
    from transformers import BlipForConditionalGeneration, BlipForImageTextRetrieval

    itm, itm_info = BlipForImageTextRetrieval.from_pretrained(root / "itm", output_loading_info=True)
    cap, cap_info = BlipForConditionalGeneration.from_pretrained(root / "caption", output_loading_info=True)
    for name, info in (("itm", itm_info), ("caption", cap_info)):
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{name}: {problems}"
    model = Pretrainer(BlipConfig.from_pretrained(fixture)).eval()
    state = load_file(str(fixture / "state.safetensors"))
    with torch.no_grad():
        for n, p in model.named_trainable().items():
            p.copy_(state[n].reshape(p.shape))
    pixels = load_file(str(fixture / "inputs.safetensors"))["pixel_values"]
    ids = torch.tensor(IDS)
    mask = (ids != PAD_ID).long()
    enc, dec = ids.clone(), ids.clone()
    enc[:, 0], dec[:, 0] = ENC_ID, DEC_ID
    with torch.no_grad():
        img = model.vision(pixel_values=pixels).last_hidden_state
        ref_itm = model.itm_head(model.encoder(input_ids=enc, attention_mask=mask, encoder_hidden_states=img).last_hidden_state[:, 0])
        text = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
        ref_cos = F.normalize(model.vision_proj(img[:, 0]), dim=-1) @ F.normalize(model.text_proj(text), dim=-1).t()
        ref_lm = model.decoder(input_ids=dec, attention_mask=mask, encoder_hidden_states=img).logits
        diffs = {
            "itm logits": (ref_itm - itm(input_ids=enc, attention_mask=mask, pixel_values=pixels, use_itm_head=True).itm_score),
            "itc cosine": (ref_cos - itm(input_ids=ids, attention_mask=mask, pixel_values=pixels, use_itm_head=False).itm_score),
            "lm logits": (ref_lm - cap(input_ids=dec, attention_mask=mask, pixel_values=pixels).logits),
        }
    for name, d in diffs.items():
        worst = d.abs().max().item()
        print(f"{name}: max abs diff {worst:.3g}")
        assert worst < 1e-5, name


def make_images(out: Path) -> None:
    """Five small JPEGs and one file that is not an image, for the data loader tests."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED + 2)
    for i in range(5):
        w, h = 24 + 4 * i, 20 + 2 * i
        pixels = (torch.rand(h, w, 3, generator=gen) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels, "RGB").save(out / f"{i}.jpg", quality=90)
    (out / "broken.jpg").write_bytes(b"not an image")


def make_captioner(out: Path) -> None:
    """BlipForConditionalGeneration's own LM loss (label smoothing from text_config) on captions with
    the prompt and padding set to -100, and every parameter's gradient."""
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(CAPTIONER_SEED)
    config = BlipConfig(vision_config=BlipVisionConfig(**VISION).to_dict(), text_config=BlipTextConfig(**TEXT).to_dict(),
                        image_text_hidden_size=PROJ)
    model = BlipForConditionalGeneration(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            is_norm = "LayerNorm" in name or "layer_norm" in name or "post_layernorm" in name
            if "embedding" in name and "patch_embedding" not in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            elif is_norm and leaf == "weight":
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1 + 1.0)
            elif leaf == "weight":
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    assert model.text_decoder.cls.predictions.decoder.weight is model.text_decoder.bert.embeddings.word_embeddings.weight
    model.save_pretrained(out)
    pixels = torch.randn(len(CAPTION_IDS), 3, VISION["image_size"], VISION["image_size"], generator=gen)
    ids = torch.tensor(CAPTION_IDS)
    mask = (ids != PAD_ID).long()
    labels = ids.masked_fill(ids == PAD_ID, -100)
    labels[:, :PROMPT_LENGTH] = -100
    loss = model(pixel_values=pixels, input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    grads = {n: p.grad.detach().clone().contiguous() for n, p in model.named_parameters()}
    save_file(grads, str(out / "gradients.safetensors"))
    save_file({"pixel_values": pixels.contiguous()}, str(out / "inputs.safetensors"))
    fixture = {"ids": CAPTION_IDS, "attention_mask": mask.tolist(), "prompt_length": PROMPT_LENGTH,
               "label_smoothing": SMOOTHING, "loss": loss.item()}
    (out / "fixture.json").write_text(json.dumps(fixture, indent=2) + "\n")
    (out / "README.md").write_text(
        "Written by scripts/make_training_fixtures.py: a tiny random BlipForConditionalGeneration (same sizes as\n"
        "../pretrain), saved with save_pretrained (decoder weight tied), its LM loss on three captions with\n"
        "a 3-token prompt masked (fixture.json) and every parameter's gradient (gradients.safetensors).\n")
    print("captioner loss", loss.item())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--captioner-out", type=Path, default=CAPTIONER_OUT)
    parser.add_argument("--check-export", type=Path, default=None)
    args = parser.parse_args()
    if args.check_export is not None:
        check_export(args.check_export, args.out)
        return
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)

    config = BlipConfig(vision_config=BlipVisionConfig(**VISION).to_dict(), text_config=BlipTextConfig(**TEXT).to_dict(),
                        image_text_hidden_size=PROJ)
    config.save_pretrained(out)
    model = Pretrainer(config).eval()  # eval: no dropout (all dropouts are 0 anyway)
    randomise(model, gen)
    pixels = torch.randn(BATCH, 3, VISION["image_size"], VISION["image_size"], generator=gen)
    ids = torch.tensor(IDS)
    mask = (ids != PAD_ID).long()
    initial = state(model)
    save_file(initial, str(out / "state.safetensors"))
    save_file({"pixel_values": pixels.contiguous()}, str(out / "inputs.safetensors"))

    losses = {}
    for term, weights in (("itc", (1.0, 0.0, 0.0)), ("itm", (0.0, 1.0, 0.0)), ("lm", (0.0, 0.0, 1.0))):
        m = copy.deepcopy(model)
        m.zero_grad(set_to_none=True)
        total, parts = m(pixels, ids, mask, ALPHA, weights)
        total.backward()
        losses[term] = parts
        save_file(gradients(m), str(out / f"gradients_{term}.safetensors"))

    # Retrieval fine-tuning objective (ITC with image-id positives + ITM) from the same state.
    m = copy.deepcopy(model)
    m.idx_queue.copy_(torch.tensor(QUEUE_IDS))
    m.zero_grad(set_to_none=True)
    total, parts = m(pixels, ids, mask, ALPHA, (1.0, 1.0, 0.0), idx=torch.tensor(IMAGE_IDS))
    total.backward()
    losses["retrieval"] = parts
    save_file(gradients(m), str(out / "gradients_retrieval.safetensors"))

    # Five AdamW steps of ITC + ITM + LM: warm-up then cosine decay, temp clamped every step.
    m = copy.deepcopy(model)
    params = m.named_trainable()
    decay = [p for n, p in params.items() if p.ndim >= 2 or n.endswith("class_embedding")]
    no_decay = [p for n, p in params.items() if not (p.ndim >= 2 or n.endswith("class_embedding"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=1e-8)
    step_losses = []
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        total, parts = m(pixels, ids, mask, ALPHA)
        total.backward()
        adamw_step(m, opt, step)
        step_losses.append(parts)

    fixture = {
        "ids": IDS, "attention_mask": mask.tolist(), "alpha": ALPHA, "momentum": MOMENTUM, "label_smoothing": SMOOTHING,
        "queue_size": QUEUE, "enc_token_id": ENC_ID, "dec_token_id": DEC_ID, "pad_token_id": PAD_ID,
        "negative_image_for_text": NEG_IMAGE_FOR_TEXT, "negative_text_for_image": NEG_TEXT_FOR_IMAGE,
        "image_ids": IMAGE_IDS, "queue_ids": QUEUE_IDS,
        "losses": {k: dict(zip(("itc", "itm", "lm"), v)) for k, v in losses.items()},
        "adamw": {"lr": LR, "weight_decay": WEIGHT_DECAY, "betas": [0.9, 0.999], "eps": 1e-8, "warmup_steps": WARMUP,
                  "steps": STEPS, "schedule": "linear warm-up to lr over warmup_steps, then cosine to 0 at steps",
                  "losses": [dict(zip(("itc", "itm", "lm"), v)) for v in step_losses]},
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__},
    }
    (out / "fixture.json").write_text(json.dumps(fixture, indent=2) + "\n")
    (out / "README.md").write_text(
        "Written by scripts/make_training_fixtures.py: a tiny random BLIP pre-training model (vision 16 wide,\n"
        "2 layers, image 16, patch 8; text 16 wide, 2 layers, vocabulary 40 with [DEC] 38 and [ENC] 39),\n"
        "batch 4, queue 8. state.safetensors: parameters, momentum copies (`momentum.`), queues (rows).\n"
        "gradients_{itc,itm,lm}.safetensors: the gradient of each loss term alone from that state;\n"
        "gradients_retrieval.safetensors: ITC + ITM with image-id positives (retrieval fine-tuning).\n"
        "fixture.json: inputs, fixed ITM negatives, losses, and five AdamW steps' losses.\n")
    make_captioner(args.captioner_out)
    make_images(args.out.parent / "images")
    print(json.dumps(fixture["losses"], indent=1))
    print(json.dumps(fixture["adamw"]["losses"], indent=1))


if __name__ == "__main__":
    main()
