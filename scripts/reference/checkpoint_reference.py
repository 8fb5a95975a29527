#!/usr/bin/env python3
"""PyTorch-written checkpoints for ldm4j's weights-only pickle reader (TorchCheckpoint), from the repository root:

    OUT=/tmp/ref python3 scripts/reference/checkpoint_reference.py

Writes, with torch.save itself, one LDM-named state dict (the diffusers-written tiny text encoder under
cond_stage_model.transformer.text_model., plus tensors that are views: transposed, sliced with a storage offset,
sharing one storage; bf16, int64 and 0-d tensors) as
  tiny-zip.ckpt      {"state_dict": ..., "global_step", "epoch"}, the zip format (torch >= 1.6, SD 1.x .ckpt files)
  tiny-legacy.ckpt   the same, legacy non-zip pickle format (_use_new_zipfile_serialization=False)
  tiny-plain.bin     the bare state dict (diffusers' / transformers' .bin files)
and expected.safetensors with every tensor made contiguous, for TorchCheckpointReferenceTest to compare against.
"""
import os

import torch
from safetensors.torch import load_file, save_file

OUT = os.environ.get("OUT", "/tmp/ref")
os.makedirs(OUT, exist_ok=True)
text = load_file("ldm4j-engine/src/test/resources/diffusers-reference/tiny-sd15/text_encoder/model.safetensors")
state = {f"cond_stage_model.transformer.text_model.{k}": v for k, v in text.items()}
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
state["edge.shared"] = base
state["edge.transposed"] = base.t()
state["edge.slice"] = base[1:3, 2:5]
state["edge.bf16"] = torch.linspace(-2, 2, 7).to(torch.bfloat16)
state["edge.int64"] = torch.tensor([1, -2, 3], dtype=torch.int64)
state["edge.scalar"] = torch.tensor(3.5)
checkpoint = {"state_dict": state, "global_step": 470000, "epoch": 5}
torch.save(checkpoint, os.path.join(OUT, "tiny-zip.ckpt"))
torch.save(checkpoint, os.path.join(OUT, "tiny-legacy.ckpt"), _use_new_zipfile_serialization=False)
torch.save(state, os.path.join(OUT, "tiny-plain.bin"))
save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(OUT, "expected.safetensors"),
          metadata={"torch": torch.__version__})
for name in sorted(os.listdir(OUT)):
    print(name, os.path.getsize(os.path.join(OUT, name)))
