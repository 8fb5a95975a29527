#!/usr/bin/env python3
"""The official GradOP+ pipeline and Blended Latent Diffusion script, run on the ToyWorld model, as outside references
for ldm4j's "official" presets.

Sources (not in this repository; copy them first, from the repository root):
    mkdir -p .ref/official
    git -C <GradOP clone> show d51e37679d3d8eb6a6639a1df14e8e7dc8524290:pipeline_gradop_stroke2img.py \
        > .ref/official/pipeline_gradop_stroke2img.py          # github.com/1jsingh/GradOP-Guided-Image-Synthesis
    git -C <blended-latent-diffusion clone> show 09565c5d9ca260de1fd22260784eb744874f9004:scripts/text_editing_SD2.py \
        > .ref/official/text_editing_SD2.py                   # github.com/omriav/blended-latent-diffusion
Then, with PyTorch, transformers, diffusers and torchvision installed:
    OUT=/tmp/ref python3 scripts/reference/official_reference.py

The official code targets diffusers 0.14 / SD at 512x512 on CUDA in fp16. The patches below are the least that runs it
on today's libraries, on the CPU in float32, at the ToyWorld model's 64x64 (VAE factor 4); each is applied by exact
text replacement and fails loudly if the source differs. On SD 1.x at 512 every size and scale patch is the identity.
kornia (not installed) is replaced by its 0.6.0 gaussian_blur2d formula (below). Inputs are ToyWorld scenes written
by `ldm4j toyworld sample`, copied to ldm4j-methods/src/test/resources/official-reference/.
"""
import importlib.machinery
import json
import os
import sys
import tempfile
import traceback
import types

import diffusers  # before the kornia shim: diffusers probes for an installed kornia at import
import numpy as np
import torch
import torch.nn.functional as F
import transformers
from PIL import Image

OUT = os.environ.get("OUT", "/tmp/ref")
MODEL = "models/toyworld-ldm"
INPUTS = "ldm4j-methods/src/test/resources/official-reference"
os.makedirs(OUT, exist_ok=True)
report = {"gradop": [], "blended": [], "errors": []}
images = {}   # GradOP's float outputs (H, W, 3) in [0, 1], saved as official-reference.safetensors


def recorded(entry, into, body):
    """Runs one case; its entry says whether it ran and, if not, why; one failing case does not stop the others."""
    try:
        body()
        entry["ok"] = True
    except Exception:
        entry["ok"] = False
        entry["trace"] = traceback.format_exc()
        traceback.print_exc()
    into.append(entry)


def patched(source, replacements, name):
    for old, new in replacements:
        if source.count(old) < 1:
            raise ValueError(f"{name}: the official source no longer contains {old!r}")
        source = source.replace(old, new)
    return source


def kornia_shim():
    """kornia 0.6.0's gaussian_blur2d: a normalised Gaussian of arange(k) - k // 2, outer product, reflect padding,
    depthwise conv2d. Only what pipeline_gradop_stroke2img.py calls."""
    def gaussian(k, sigma):
        x = torch.arange(k).float() - k // 2
        if k % 2 == 0:
            x = x + 0.5
        g = torch.exp(-x.pow(2.0) / float(2 * sigma ** 2))
        return g / g.sum()

    def gaussian_blur2d(img, kernel_size, sigma, border_type="reflect"):
        ky, kx = kernel_size
        kernel = torch.outer(gaussian(ky, sigma[0]), gaussian(kx, sigma[1])).to(img)
        b, c, h, w = img.shape
        padded = F.pad(img, [kx // 2, kx // 2, ky // 2, ky // 2], mode=border_type)
        weight = kernel.expand(c, 1, ky, kx)
        return F.conv2d(padded, weight, groups=c)

    kornia = types.ModuleType("kornia")
    kornia.__spec__ = importlib.machinery.ModuleSpec("kornia", None)
    kornia.filters = types.SimpleNamespace(gaussian_blur2d=gaussian_blur2d)
    sys.modules["kornia"] = kornia


def load_module(path, name, replacements):
    source = patched(open(path).read(), replacements, name)
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, name + ".py"), "w") as f:
        f.write(source)
    sys.path.insert(0, folder)
    return __import__(name)


GRADOP_PATCHES = [
    # diffusers moved randn_tensor; transformers 5 dropped the CLIPFeatureExtractor alias
    ("    randn_tensor,\n", ""),
    ("from diffusers.pipelines.pipeline_utils import DiffusionPipeline",
     "from diffusers.pipelines.pipeline_utils import DiffusionPipeline\nfrom diffusers.utils.torch_utils import randn_tensor"),
    ("from transformers import CLIPFeatureExtractor,",
     "from transformers import CLIPImageProcessor as CLIPFeatureExtractor,"),
    # the start latent: 512 // 8 = 64 = SD's unet sample_size
    ("            height = width = 512\n"
     "            init_latents = torch.zeros((1, self.unet.in_channels, height // 8, width // 8),",
     "            init_latents = torch.zeros((1, self.unet.config.in_channels, self.unet.config.sample_size,"
     " self.unet.config.sample_size),"),
    # the loss decodes with SD's scaling factor written out
    ("self.vae.decode(out_latent / 0.18215, return_dict=False)",
     "self.vae.decode(out_latent / self.vae.config.scaling_factor, return_dict=False)"),
]

BLENDED_PATCHES = [
    ('.to("cuda")', ".to(self.args.device)"),
    (".half()", ".float()"),
    ("latents = 1 / 0.18215 * latents", "latents = 1 / self.vae.config.scaling_factor * latents"),
    ("latents = latents * 0.18215", "latents = latents * self.vae.config.scaling_factor"),
    ("height // 8, width // 8", "height // self.vae_factor, width // self.vae_factor"),
    ("latent_mask, org_mask = self._read_mask(mask_path)",
     "latent_mask, org_mask = self._read_mask(mask_path, (width // self.vae_factor, height // self.vae_factor))"),
]

GRADOP_CASES = [
    # (name, scene seed, method, strength, seed)
    ("gradop-plus", 2000007, "gradop+", 0.8, 0),
    ("gradop-plus-s07", 2000008, "gradop+", 0.7, 3),
    ("sdedit", 2000007, "sdedit", 0.8, 1),
]
BLENDED_CASES = [
    # (name, scene seed, prompt, mask box (x0, y0, x1, y1) inclusive, seed)
    ("blended-add", 2000008, "a red car", (18, 30, 45, 52), 42),
    ("blended-replace", 2000007, "a small blue house", (30, 18, 58, 50), 7),
]


def captions():
    with open(os.path.join(INPUTS, "index.jsonl")) as f:
        return {r["seed"]: r["captions"][0] for r in map(json.loads, f)}


def run_gradop():
    kornia_shim()
    module = load_module(".ref/official/pipeline_gradop_stroke2img.py", "pipeline_gradop_stroke2img", GRADOP_PATCHES)
    from diffusers import StableDiffusionPipeline
    base = StableDiffusionPipeline.from_pretrained(MODEL, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe = module.GradOPStroke2ImgPipeline(vae=base.vae, text_encoder=base.text_encoder, tokenizer=base.tokenizer,
                                           unet=base.unet, scheduler=base.scheduler, safety_checker=None,
                                           feature_extractor=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    report["gradop_scheduler"] = dict(pipe.scheduler.config)
    prompts = captions()
    for name, scene, method, strength, seed in GRADOP_CASES:
        entry = {"name": name, "scene": scene, "method": method, "strength": strength, "seed": seed,
                 "prompt": prompts[scene]}

        def body():
            painting = Image.open(os.path.join(INPUTS, f"{scene}_painting.png")).convert("RGB")
            generator = torch.Generator("cpu").manual_seed(seed)
            if method == "gradop+":
                # gradop_plus_stroke2img's body with output_type="np" (floats instead of its PIL image)
                target = ((module.preprocess(painting) + 1) / 2.).to(pipe.device).type(pipe.vae.dtype)
                image = pipe(prompt=entry["prompt"], num_images_per_prompt=1, image=None, latent=None,
                             strength=strength, generator=generator, gradop_plus=True, num_grad_steps=12,
                             threshold=3, lr=1e-1, target=target, output_type="np").images[0]
            else:
                image = pipe(prompt=entry["prompt"], num_images_per_prompt=1, image=painting, strength=strength,
                             generator=generator, output_type="np").images[0]
            images[name] = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
        recorded(entry, report["gradop"], body)


def run_blended():
    module = load_module(".ref/official/text_editing_SD2.py", "text_editing_SD2", BLENDED_PATCHES)
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    base = StableDiffusionPipeline.from_pretrained(MODEL, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    editor = module.BlendedLatnetDiffusion.__new__(module.BlendedLatnetDiffusion)   # skips argparse
    editor.args = types.SimpleNamespace(device="cpu")
    # load_models() in float32 on the CPU
    editor.vae, editor.tokenizer, editor.text_encoder, editor.unet = base.vae, base.tokenizer, base.text_encoder, base.unet
    editor.scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                     clip_sample=False, set_alpha_to_one=False)
    editor.vae_factor = 2 ** (len(base.vae.config.block_out_channels) - 1)
    for name, scene, prompt, box, seed in BLENDED_CASES:
        entry = {"name": name, "scene": scene, "prompt": prompt, "mask_box": box, "seed": seed}

        def body():
            mask = Image.new("L", (64, 64), 0)
            mask.paste(255, (box[0], box[1], box[2] + 1, box[3] + 1))
            mask_path = os.path.join(OUT, f"{name}_mask.png")
            mask.save(mask_path)
            edited = editor.edit_image(os.path.join(INPUTS, f"{scene}_image.png"), mask_path, [prompt], height=64,
                                       width=64, generator=torch.manual_seed(seed), blending_percentage=0.25)
            Image.fromarray(edited[0]).save(os.path.join(OUT, f"{name}.png"))
        recorded(entry, report["blended"], body)


for part, fn in (("gradop", run_gradop), ("blended", run_blended)):
    try:
        fn()
    except Exception:
        report["errors"].append({"part": part, "trace": traceback.format_exc()})
        traceback.print_exc()
from safetensors.torch import save_file  # noqa: E402
save_file(images, os.path.join(OUT, "official-reference.safetensors"))
report["versions"] = {"torch": torch.__version__, "diffusers": diffusers.__version__,
                      "transformers": transformers.__version__}
with open(os.path.join(OUT, "official-reference.json"), "w") as f:
    json.dump(report, f, indent=2, default=str)
print(json.dumps(report, indent=1, default=str)[-6000:])
