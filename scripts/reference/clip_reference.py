#!/usr/bin/env python3
"""Outside reference for ldm4j's CLIP ranking (Blended Latent Diffusion's official ranking): transformers' CLIPModel
and the official code's preprocessing, on a tiny CLIP that transformers itself writes.

Run where PyTorch, torchvision and transformers are installed, from the repository root:

    OUT=/tmp/clipref python3 scripts/reference/clip_reference.py

It writes OUT/clip-tiny/ (a seeded random CLIPModel saved with save_pretrained, with the ToyWorld model's CLIP-format
tokenizer files beside it: a transformers folder as `ldm4j edit --clip` reads one) and OUT/clip-reference.safetensors
with the inputs and outputs below, plus OUT/clip-reference.json (library versions). A Java test reading both
(CLIPModel.load + ClipEditScore on the same inputs) is the check; it is to be added with the files it reads (the
files are not committed yet: this machine has no PyTorch). Nothing here is ldm4j code.

Cases:
- clip.pixels (2, 3, 32, 32) -> clip.image_embeds: CLIPModel.get_image_features
- clip.ids (3, 77) -> clip.text_embeds: CLIPModel.get_text_features (prompts tokenized by the folder's tokenizer)
- rank.sample (1, 3, 64, 64) in [-1.2, 1.2] (the clamp matters), rank.mask (1, 1, 64, 64) in {0, 1} -> rank.input: the official ranking's
  CLIP input (ldm/image_editor.py: clamp((x + 1) / 2), * mask, TF.resize to 32 as torchvision 0.8 resized tensors:
  bilinear without antialiasing, CLIP mean/std) and rank.cosine: cosine of its image embedding with the first prompt's
  text embedding.
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
import transformers
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

OUT = os.environ.get("OUT", "/tmp/clipref")
TOKENIZER = "models/toyworld-ldm8/tokenizer"
PROMPTS = ["a red house", "a boat on a lake", "two trees and a rock on the grass"]
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)

folder = os.path.join(OUT, "clip-tiny")
os.makedirs(folder, exist_ok=True)
tok = CLIPTokenizer.from_pretrained(TOKENIZER)
config = CLIPConfig(
    text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                     max_position_embeddings=77, eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id,
                     pad_token_id=tok.pad_token_id, hidden_act="quick_gelu"),
    vision_config=dict(hidden_size=24, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                       patch_size=8, hidden_act="quick_gelu"),
    projection_dim=16)
torch.manual_seed(0)
model = CLIPModel(config).eval()
with torch.no_grad():   # transformers' init leaves some weights at exact zeros or ones; give every one a value
    for p in model.parameters():
        p.add_(torch.randn_like(p) * 0.02)
model.save_pretrained(folder, safe_serialization=True)
for f in os.listdir(TOKENIZER):
    shutil.copy(os.path.join(TOKENIZER, f), folder)

tensors = {}
g = torch.Generator().manual_seed(1234)
pixels = torch.randn(2, 3, 32, 32, generator=g)
ids = tok(PROMPTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
sample = torch.rand(1, 3, 64, 64, generator=g) * 2.4 - 1.2
mask = torch.zeros(1, 1, 64, 64)
mask[:, :, 16:40, 20:52] = 1
with torch.no_grad():
    tensors["clip.pixels"] = pixels
    tensors["clip.image_embeds"] = model.get_image_features(pixel_values=pixels)
    tensors["clip.ids"] = ids.to(torch.int64)
    text = model.get_text_features(input_ids=ids)
    tensors["clip.text_embeds"] = text
    masked = torch.clamp((sample + 1) / 2, 0, 1) * mask
    resized = F.interpolate(masked, size=(32, 32), mode="bilinear", align_corners=False, antialias=False)
    clip_input = (resized - MEAN) / STD
    image = model.get_image_features(pixel_values=clip_input)
    tensors["rank.sample"] = sample
    tensors["rank.mask"] = mask
    tensors["rank.input"] = clip_input
    tensors["rank.cosine"] = F.cosine_similarity(image, text[:1], dim=-1)
save_file({k: v.detach().contiguous() for k, v in tensors.items()}, os.path.join(OUT, "clip-reference.safetensors"))
with open(os.path.join(OUT, "clip-reference.json"), "w") as f:
    json.dump({"versions": {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__},
               "prompts": PROMPTS}, f, indent=2)
print("wrote", OUT)
