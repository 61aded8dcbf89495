"""ComfyUI's text-to-image chain, with the diffusion model replaced by a synthetic painter.

The graph wiring, the inputs and their limits are ComfyUI's; the pictures come from
``_synthetic.render``, a deterministic function of the sampling parameters.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from . import _synthetic
from ._node_types import (
    MAX_RESOLUTION,
    Conditioning,
    ImageBatch,
    Latent,
    ModelRef,
    NodeContext,
    NodeResult,
    NodeSpec,
    check_batch_size,
    combo,
    optional,
    required,
)

SAMPLERS = (
    "euler",
    "euler_cfg_pp",
    "euler_ancestral",
    "euler_ancestral_cfg_pp",
    "heun",
    "heunpp2",
    "dpm_2",
    "dpm_2_ancestral",
    "lms",
    "dpm_fast",
    "dpm_adaptive",
    "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde",
    "dpmpp_sde_gpu",
    "dpmpp_2m",
    "dpmpp_2m_cfg_pp",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "ddpm",
    "lcm",
    "ipndm",
    "ipndm_v",
    "deis",
    "res_multistep",
    "gradient_estimation",
    "er_sde",
    "ddim",
    "uni_pc",
    "uni_pc_bh2",
)
SCHEDULERS = (
    "simple",
    "sgm_uniform",
    "karras",
    "exponential",
    "ddim_uniform",
    "beta",
    "normal",
    "linear_quadratic",
    "kl_optimal",
)
LATENT_SCALE = 8  # one latent cell covers 8x8 pixels, so decoded sizes are multiples of 8


def checkpoint_loader(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    name = inputs["ckpt_name"]
    if not name.strip():
        raise ValueError("ckpt_name must name a checkpoint")
    return NodeResult(values=tuple(ModelRef(role, name) for role in ("MODEL", "CLIP", "VAE")))


def clip_text_encode(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    clip: ModelRef = inputs["clip"]
    return NodeResult(values=(Conditioning(inputs["text"], clip.checkpoint),))


def empty_latent_image(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    # ComfyUI's latent is (height // 8, width // 8): a requested 500 decodes to 496.
    width = inputs["width"] // LATENT_SCALE * LATENT_SCALE
    height = inputs["height"] // LATENT_SCALE * LATENT_SCALE
    check_batch_size(width, height, inputs["batch_size"])
    return NodeResult(values=(Latent(width, height, inputs["batch_size"]),))


def ksampler(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    latent: Latent = inputs["latent_image"]
    model: ModelRef = inputs["model"]
    recipe = _synthetic.Recipe(
        seed=inputs["seed"],
        positive=inputs["positive"].text,
        negative=inputs["negative"].text,
        steps=inputs["steps"],
        cfg=inputs["cfg"],
        sampler=inputs["sampler_name"],
        scheduler=inputs["scheduler"],
        checkpoint=model.checkpoint,
    )
    for step in range(1, recipe.steps + 1):
        ctx.report_progress(step, recipe.steps)
    size = (latent.width, latent.height)
    pictures = [_synthetic.render(recipe, size, index) for index in range(latent.batch_size)]
    if latent.pictures is not None:
        # Image-to-image: denoise says how much of the source picture is repainted.
        denoise = inputs["denoise"]
        pictures = [
            Image.blend(source, painted, denoise)
            for source, painted in zip(latent.pictures, pictures, strict=True)
        ]
    return NodeResult(values=(Latent(*size, latent.batch_size, tuple(pictures)),))


def vae_decode(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    latent: Latent = inputs["samples"]
    size = (latent.width, latent.height)
    pictures = latent.pictures
    if pictures is None:
        pictures = tuple(_synthetic.neutral(size) for _ in range(latent.batch_size))
    return NodeResult(values=(ImageBatch(pictures),))


def vae_encode(ctx: NodeContext, inputs: dict[str, Any]) -> NodeResult:
    batch: ImageBatch = inputs["pixels"]
    width, height = batch.size
    new_width = width // LATENT_SCALE * LATENT_SCALE
    new_height = height // LATENT_SCALE * LATENT_SCALE
    if not new_width or not new_height:
        raise ValueError(f"an image of {width}x{height} is too small to encode (8x8 at least)")
    # ComfyUI crops the excess evenly from both sides before encoding.
    left, top = (width % LATENT_SCALE) // 2, (height % LATENT_SCALE) // 2
    box = (left, top, left + new_width, top + new_height)
    pictures = tuple(image.crop(box) for image in batch.images)
    return NodeResult(values=(Latent(new_width, new_height, len(pictures), pictures),))


def _side() -> Any:
    return optional("INT", 512, minimum=16, maximum=MAX_RESOLUTION)


SAMPLING_NODES = (
    NodeSpec(
        "CheckpointLoaderSimple",
        {"ckpt_name": required("STRING")},
        ("MODEL", "CLIP", "VAE"),
        checkpoint_loader,
    ),
    NodeSpec(
        "CLIPTextEncode",
        {"text": optional("STRING", ""), "clip": required("CLIP")},
        ("CONDITIONING",),
        clip_text_encode,
    ),
    NodeSpec(
        "EmptyLatentImage",
        {
            "width": _side(),
            "height": _side(),
            "batch_size": optional("INT", 1, minimum=1, maximum=4096),
        },
        ("LATENT",),
        empty_latent_image,
    ),
    NodeSpec(
        "KSampler",
        {
            "model": required("MODEL"),
            "seed": optional("INT", 0, minimum=0, maximum=0xFFFFFFFFFFFFFFFF),
            "steps": optional("INT", 20, minimum=1, maximum=10000),
            "cfg": optional("FLOAT", 8.0, minimum=0.0, maximum=100.0),
            "sampler_name": combo(SAMPLERS),
            "scheduler": combo(SCHEDULERS),
            "positive": required("CONDITIONING"),
            "negative": required("CONDITIONING"),
            "latent_image": required("LATENT"),
            "denoise": optional("FLOAT", 1.0, minimum=0.0, maximum=1.0),
        },
        ("LATENT",),
        ksampler,
    ),
    NodeSpec(
        "VAEDecode",
        {"samples": required("LATENT"), "vae": required("VAE")},
        ("IMAGE",),
        vae_decode,
    ),
    NodeSpec(
        "VAEEncode",
        {"pixels": required("IMAGE"), "vae": required("VAE")},
        ("LATENT",),
        vae_encode,
    ),
)
