#!/usr/bin/env python3
"""Outside reference for ldm4j's engine: transformers' CLIP and diffusers' models and pipelines on the ToyWorld model.

Run where PyTorch, transformers and diffusers are installed (diffusers may also come from a source tree on
PYTHONPATH), from the repository root:

    OUT=/tmp/ref python3 scripts/reference/diffusers_reference.py

It writes OUT/diffusers-reference.safetensors (inputs and outputs, float32 / int64) and OUT/diffusers-reference.json
(the cases, the library versions, and the CPU-vs-GPU spread when a GPU is present). ldm4j's
DiffusersReferenceTest reads both from ldm4j-engine/src/test/resources/diffusers-reference/ and compares its own
tokenizer, text encoder, UNet, VAE, ControlNet, T2I-Adapter and text2img / img2img / ControlNet / T2I-Adapter
pipelines against them on the
same weights, seeds and settings. Nothing here is ldm4j code: it is the reference the Java side must agree with.
"""
import json
import os
import sys
import traceback

import numpy as np
import torch
from PIL import Image, ImageDraw
from safetensors.torch import save_file

OUT = os.environ.get("OUT", "/tmp/ref")
MODEL = "models/toyworld-ldm"
CONTROLNET = "models/toyworld-fgdm/image"
os.makedirs(OUT, exist_ok=True)
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False

tensors = {}
report = {"cases": [], "errors": [], "gpu": {}}


def put(name, t):
    tensors[name] = t.detach().to("cpu").contiguous().clone()


def guarded(name, fn):
    try:
        fn()
    except Exception:
        report["errors"].append({"part": name, "trace": traceback.format_exc()})
        traceback.print_exc()


import transformers  # noqa: E402
report["versions"] = {"python": sys.version.split()[0], "torch": torch.__version__,
                      "transformers": transformers.__version__}
try:
    import diffusers  # noqa: E402
    report["versions"]["diffusers"] = diffusers.__version__
except Exception:
    report["errors"].append({"part": "import diffusers", "trace": traceback.format_exc()})
    diffusers = None
try:
    import ftfy  # noqa: F401
    report["versions"]["ftfy"] = ftfy.__version__
except Exception:
    report["versions"]["ftfy"] = None

PROMPTS = [
    "a red house and a green tree on grass",
    "A photo of two Cars,   a DOG!!  and the sun.",
    "",
    "zebra xylophone qwerty 42 trees 3.5",
    "caf\u00e9 na\u00efve \u2013 \u201cquotes\u201d <|endoftext|> end",
    " ".join(["a house next to a tree near a lake under a cloud"] * 10),
]
report["prompts"] = PROMPTS


def clip():
    from transformers import CLIPTextModel, CLIPTokenizer
    tok = CLIPTokenizer.from_pretrained(MODEL, subfolder="tokenizer")
    report["tokenizer_class"] = type(tok).__name__
    enc = CLIPTextModel.from_pretrained(MODEL, subfolder="text_encoder", torch_dtype=torch.float32).eval()
    ids = tok(PROMPTS, padding="max_length", max_length=tok.model_max_length, truncation=True,
              return_tensors="pt").input_ids
    with torch.no_grad():
        out = enc(ids, output_hidden_states=True)
    put("clip.ids", ids.to(torch.int64))
    put("clip.last_hidden_state", out.last_hidden_state)
    # diffusers' clip_skip = 1: the penultimate layer's states through the final layer norm
    put("clip.clip_skip_1", getattr(enc, "text_model", enc).final_layer_norm(out.hidden_states[-2]))
    try:
        from transformers import CLIPTokenizerFast
        fast = CLIPTokenizerFast.from_pretrained(MODEL, subfolder="tokenizer")
        fast_ids = fast(PROMPTS, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        report["fast_tokenizer_agrees"] = bool(torch.equal(fast_ids, ids))
    except Exception as e:
        report["fast_tokenizer_agrees"] = repr(e)


def models():
    from diffusers import AutoencoderKL, UNet2DConditionModel
    unet = UNet2DConditionModel.from_pretrained(MODEL, subfolder="unet", torch_dtype=torch.float32).eval()
    vae = AutoencoderKL.from_pretrained(MODEL, subfolder="vae", torch_dtype=torch.float32).eval()
    return unet, vae


def unet_vae():
    unet, vae = models()
    g = torch.Generator().manual_seed(1234)
    sample = torch.randn(2, 4, 16, 16, generator=g)
    states = torch.randn(2, 77, 128, generator=g)
    timestep = torch.tensor(421.0)
    image = torch.rand(1, 3, 64, 64, generator=g) * 2 - 1
    with torch.no_grad():
        put("unet.out", unet(sample, timestep, encoder_hidden_states=states).sample)
        posterior = vae.encode(image).latent_dist
        put("vae.mean", posterior.mean)
        put("vae.std", posterior.std)
        put("vae.decoded", vae.decode(posterior.mean).sample)
    put("unet.sample", sample)
    put("unet.states", states)
    put("unet.timestep", timestep.reshape(1))
    put("vae.image", image)
    if os.path.isdir(CONTROLNET):
        from diffusers import ControlNetModel
        cn = ControlNetModel.from_pretrained(CONTROLNET, torch_dtype=torch.float32).eval()
        cond = torch.rand(2, 3, 64, 64, generator=g)
        with torch.no_grad():
            down, mid = cn(sample, timestep, encoder_hidden_states=states, controlnet_cond=cond,
                           conditioning_scale=1.0, return_dict=False)
        put("controlnet.cond", cond)
        for k, d in enumerate(down):
            put(f"controlnet.down.{k}", d)
        put("controlnet.mid", mid)
        report["controlnet_down_blocks"] = len(down)
    adapter = toyworld_adapter()
    with torch.no_grad():
        features = adapter(cond)
    for k, feature in enumerate(features):
        put(f"adapter.features.{k}", feature)


ADAPTER = "/tmp/toyworld-t2i-adapter"


def toyworld_adapter():
    """A full T2I-Adapter sized for the ToyWorld UNet (64 / 128 / 128 channels, latents at 1/4), random weights
    written by diffusers' save_pretrained (once) and read back."""
    from diffusers import T2IAdapter
    if not os.path.isdir(ADAPTER):
        import subprocess
        torch.manual_seed(2)
        T2IAdapter(in_channels=3, channels=[64, 128, 128], num_res_blocks=1, downscale_factor=4,
                   adapter_type="full_adapter").save_pretrained(ADAPTER)
        subprocess.run(["tar", "-cf", os.path.join(OUT, "toyworld-t2i-adapter.tar"), "-C", ADAPTER, "."], check=True)
    return T2IAdapter.from_pretrained(ADAPTER, torch_dtype=torch.float32).eval()


def scheduler_classes():
    import diffusers as d
    return {"ddim": d.DDIMScheduler, "pndm": d.PNDMScheduler, "euler": d.EulerDiscreteScheduler,
            "euler-a": d.EulerAncestralDiscreteScheduler, "dpm++2m": d.DPMSolverMultistepScheduler,
            "ddpm": d.DDPMScheduler, "lms": d.LMSDiscreteScheduler}


def reference_pictures():
    """An img2img input and a control map with hard edges, saved as PNGs the Java side reads the same way."""
    init = Image.new("RGB", (64, 64), (90, 160, 70))
    draw = ImageDraw.Draw(init)
    draw.rectangle([0, 0, 63, 24], fill=(120, 170, 230))
    draw.rectangle([14, 28, 38, 50], fill=(200, 60, 50))
    draw.polygon([(10, 30), (26, 14), (42, 30)], fill=(110, 60, 40))
    draw.ellipse([44, 26, 60, 46], fill=(30, 120, 40))
    init.save(os.path.join(OUT, "init.png"))
    control = Image.new("RGB", (64, 64), (0, 0, 0))
    draw = ImageDraw.Draw(control)
    draw.rectangle([0, 40, 63, 63], fill=(0, 255, 0))
    draw.rectangle([10, 20, 34, 44], fill=(255, 0, 0))
    draw.ellipse([40, 18, 58, 40], fill=(0, 0, 255))
    control.save(os.path.join(OUT, "control.png"))
    return init, control


CASES = [
    # (name, kind, scheduler alias, prompt, negative, steps, guidance, seed, extra)
    ("t2i-ddim", "txt2img", "ddim", "a red house and a green tree on grass", None, 20, 7.5, 42, {}),
    ("t2i-ddim-eta", "txt2img", "ddim", "a car on a road", "a tree", 15, 5.0, 7, {"eta": 0.5}),
    ("t2i-pndm", "txt2img", "pndm", "a house and the sun", None, 15, 7.5, 3, {}),
    ("t2i-euler", "txt2img", "euler", "a dog next to a house", None, 15, 7.5, 11, {}),
    ("t2i-euler-a", "txt2img", "euler-a", "two trees and a cloud", None, 15, 7.5, 12, {}),
    ("t2i-dpm", "txt2img", "dpm++2m", "a lake with a boat", None, 15, 7.5, 13, {}),
    ("t2i-ddpm", "txt2img", "ddpm", "a red car", None, 15, 7.5, 14, {}),
    ("t2i-lms", "txt2img", "lms", "a house by a lake", None, 15, 7.5, 15, {}),
    # no clip_skip case: diffusers' encode_prompt reaches text_encoder.text_model, which transformers 5 removed
    # (the CLIP part above checks clip_skip 1 on the encoder itself)
    ("i2i-ddim", "img2img", "ddim", "a house with a tree", None, 20, 7.5, 21, {"strength": 0.6}),
    ("i2i-euler-a", "img2img", "euler-a", "a house with a tree", None, 20, 7.5, 22, {"strength": 0.8}),
    ("cn-ddim", "controlnet", "ddim", "a house and a tree on grass", None, 15, 3.0, 31, {"scale": 2.0}),
    ("adapter-euler", "adapter", "euler", "a house and a tree on grass", None, 15, 7.5, 32, {"scale": 0.8}),
]


def run_case(pipes, case):
    name, kind, sched, prompt, negative, steps, guidance, seed, extra = case
    pipe = pipes[kind]
    base = dict(pipe.scheduler.config)
    pipe.scheduler = scheduler_classes()[sched].from_config(base)
    args = dict(prompt=prompt, negative_prompt=negative, num_inference_steps=steps, guidance_scale=guidance,
                generator=torch.Generator("cpu").manual_seed(seed), output_type="pt")
    if "eta" in extra:
        args["eta"] = extra["eta"]
    if "clip_skip" in extra:
        args["clip_skip"] = extra["clip_skip"]
    if kind == "txt2img":
        args.update(height=64, width=64)
    elif kind == "img2img":
        args.update(image=pipes["init"], strength=extra["strength"])
    elif kind == "controlnet":
        args.update(image=pipes["control"], height=64, width=64, controlnet_conditioning_scale=extra["scale"])
    else:
        args.update(image=pipes["control"], height=64, width=64, adapter_conditioning_scale=extra["scale"])
    with torch.no_grad():
        images = pipe(**args).images
    if isinstance(images, np.ndarray):   # the adapter pipeline answers output_type="pt" with numpy (B, H, W, C)
        images = torch.from_numpy(images).permute(0, 3, 1, 2)
    return images.float().cpu()


def pipelines():
    from diffusers import (ControlNetModel, StableDiffusionAdapterPipeline, StableDiffusionControlNetPipeline,
                           StableDiffusionImg2ImgPipeline, StableDiffusionPipeline)
    txt = StableDiffusionPipeline.from_pretrained(MODEL, safety_checker=None, requires_safety_checker=False,
                                                  torch_dtype=torch.float32)
    txt.set_progress_bar_config(disable=True)
    parts = {k: v for k, v in txt.components.items()}
    i2i = StableDiffusionImg2ImgPipeline(**parts)
    i2i.set_progress_bar_config(disable=True)
    cn = StableDiffusionControlNetPipeline(controlnet=ControlNetModel.from_pretrained(CONTROLNET), **parts)
    cn.set_progress_bar_config(disable=True)
    t2i = StableDiffusionAdapterPipeline(vae=txt.vae, text_encoder=txt.text_encoder, tokenizer=txt.tokenizer,
                                         unet=txt.unet, adapter=toyworld_adapter(), scheduler=txt.scheduler,
                                         safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    t2i.set_progress_bar_config(disable=True)
    init, control = reference_pictures()
    pipes = {"txt2img": txt, "img2img": i2i, "controlnet": cn, "adapter": t2i, "init": init, "control": control}
    for case in CASES:
        name, kind, sched, prompt, negative, steps, guidance, seed, extra = case
        entry = {"name": name, "kind": kind, "scheduler": sched, "prompt": prompt, "negative_prompt": negative,
                 "steps": steps, "guidance_scale": guidance, "seed": seed, **extra}
        try:
            put(f"{name}.image", run_case(pipes, case))
            entry["ok"] = True
        except Exception:
            entry["ok"] = False
            entry["trace"] = traceback.format_exc()
            traceback.print_exc()
        report["cases"].append(entry)
    if torch.cuda.is_available():
        report["gpu"]["device"] = torch.cuda.get_device_name(0)
        for p in (txt, i2i, cn, t2i):
            p.to("cuda")
        for case in CASES:
            name = case[0]
            if f"{name}.image" not in tensors:
                continue
            try:
                gpu = run_case(pipes, case)
                diff = (gpu - tensors[f"{name}.image"]).abs()
                report["gpu"][name] = {"max_abs": float(diff.max()), "mean_abs": float(diff.mean()),
                                       "max_255": float((diff * 255).max())}
            except Exception:
                report["gpu"][name] = traceback.format_exc()


TINY = "/tmp/tiny-sd15"
TINY_CASES = [
    ("sd15-ddim", "ddim", "a red house and a green tree", None, 10, 7.5, 5, {}),
    ("sd15-euler-a", "euler-a", "a car on a road", "a tree", 10, 5.0, 6, {}),
]


def tiny_sd15():
    """A tiny model in SD 1.5's layout (4 levels, 2 layers per block, 3 cross-attention levels, attention_head_dim 8,
    a 4-level VAE), random weights written by diffusers' save_pretrained in fp16, then run in float32."""
    import subprocess
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=8, block_out_channels=(32, 32, 32, 32), layers_per_block=2,
                                cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32,
                                down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                                up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3)
    vae = AutoencoderKL(block_out_channels=(32, 32, 32, 32), layers_per_block=2, latent_channels=4,
                        norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=64)
    tok = CLIPTokenizer.from_pretrained(MODEL, subfolder="tokenizer")
    encoder = CLIPTextModel(CLIPTextConfig(vocab_size=784, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=4, max_position_embeddings=77, bos_token_id=782,
                                           eos_token_id=783, pad_token_id=783))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=encoder, tokenizer=tok, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.to(torch.float16).save_pretrained(TINY)
    report["tiny_sd15_files"] = sorted(os.path.relpath(os.path.join(d, f), TINY)
                                       for d, _, fs in os.walk(TINY) for f in fs)
    subprocess.run(["tar", "-cf", os.path.join(OUT, "tiny-sd15.tar"), "-C", TINY, "."], check=True)
    pipe = StableDiffusionPipeline.from_pretrained(TINY, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    pipes = {"txt2img": pipe}
    for name, sched, prompt, negative, steps, guidance, seed, extra in TINY_CASES:
        entry = {"name": name, "kind": "txt2img", "model": "tiny-sd15", "scheduler": sched, "prompt": prompt,
                 "negative_prompt": negative, "steps": steps, "guidance_scale": guidance, "seed": seed}
        put(f"{name}.image", run_case(pipes, (name, "txt2img", sched, prompt, negative, steps, guidance, seed, extra)))
        entry["ok"] = True
        report["cases"].append(entry)


guarded("clip", clip)
if diffusers is not None:
    guarded("unet+vae", unet_vae)
    guarded("pipelines", pipelines)
    guarded("tiny sd15", tiny_sd15)
save_file(tensors, os.path.join(OUT, "diffusers-reference.safetensors"))
with open(os.path.join(OUT, "diffusers-reference.json"), "w") as f:
    json.dump(report, f, indent=2)
print(json.dumps({k: v for k, v in report.items() if k != "cases"}, indent=2)[:6000])
print("cases ok:", sum(1 for c in report["cases"] if c.get("ok")), "/", len(report["cases"]))
