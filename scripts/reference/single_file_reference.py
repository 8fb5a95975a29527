#!/usr/bin/env python3
"""Does diffusers read ldm4j's single-file (original LDM names) checkpoints as the model they came from?

    ./ldm4j convert --in ldm4j-engine/src/test/resources/diffusers-reference/tiny-sd15 --out .ref/tiny-sd15-ldm.safetensors
    OUT=/tmp/ref python3 scripts/reference/single_file_reference.py

The folder is a model in SD 1.5's layout that diffusers itself wrote (diffusers_reference.py). diffusers'
from_single_file converts the LDM names back with its own key map (the one real SD checkpoints are read with); every
tensor must come back equal to the folder's, and the two pipelines must give the same image.
"""
import json
import os
import traceback

import torch

OUT = os.environ.get("OUT", "/tmp/ref")
FOLDER = "ldm4j-engine/src/test/resources/diffusers-reference/tiny-sd15"
SINGLE = ".ref/tiny-sd15-ldm.safetensors"
os.makedirs(OUT, exist_ok=True)
report = {"components": {}, "errors": []}


def compare(name, a, b):
    sa, sb = a.state_dict(), b.state_dict()
    common = sorted(set(sa) & set(sb))
    diffs = [float((sa[k].float() - sb[k].float()).abs().max()) if sa[k].shape == sb[k].shape else float("inf")
             for k in common]
    report["components"][name] = {
        "tensors": len(sa), "only_in_folder": sorted(set(sa) - set(sb))[:20],
        "only_in_single_file": sorted(set(sb) - set(sa))[:20], "max_abs_diff": max(diffs) if diffs else None,
        "unequal": [k for k, d in zip(common, diffs) if d != 0][:20]}


try:
    import diffusers
    from diffusers import StableDiffusionPipeline
    report["versions"] = {"torch": torch.__version__, "diffusers": diffusers.__version__}
    folder = StableDiffusionPipeline.from_pretrained(FOLDER, torch_dtype=torch.float32, safety_checker=None,
                                                     requires_safety_checker=False)
    single = StableDiffusionPipeline.from_single_file(SINGLE, config=FOLDER, torch_dtype=torch.float32,
                                                      local_files_only=True, safety_checker=None,
                                                      requires_safety_checker=False)
    for component in ("unet", "vae", "text_encoder"):
        try:
            compare(component, getattr(folder, component), getattr(single, component))
        except Exception:
            report["errors"].append({"part": component, "trace": traceback.format_exc()})
    images = []
    for pipe in (folder, single):
        pipe.set_progress_bar_config(disable=True)
        images.append(pipe("a red house", num_inference_steps=10, guidance_scale=7.5, height=64, width=64,
                           generator=torch.Generator("cpu").manual_seed(5), output_type="pt").images)
    report["image_max_abs_diff"] = float((images[0] - images[1]).abs().max())
except Exception:
    report["errors"].append({"part": "load", "trace": traceback.format_exc()})
    traceback.print_exc()
with open(os.path.join(OUT, "single-file-reference.json"), "w") as f:
    json.dump(report, f, indent=2)
print(json.dumps(report, indent=1)[-5000:])
