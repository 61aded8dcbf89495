"""Traceback frames as a ComfyUI worker reports them in ``failedReason.traceback``.

ComfyUI sends ``traceback.format_tb`` of the node's exception: its own ``execution.py``
frames, then the node's method. A client shows these to its user, so the emulator reports
the frames of the ComfyUI node that failed, never its own file paths (which say nothing to
a workflow author and describe the machine the emulator runs on).
"""

from __future__ import annotations

_ROOT = "/app/ComfyUI"
_EXECUTION = (
    (
        "execution.py",
        496,
        "execute",
        "output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data("
        "prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, "
        "pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)",
    ),
    (
        "execution.py",
        315,
        "get_output_data",
        "return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, "
        "input_data_all, obj.FUNCTION, allow_interrupt=True, "
        "execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, "
        "hidden_inputs=hidden_inputs)",
    ),
    ("execution.py", 289, "_async_map_node_over_list", "await process_inputs(input_dict, i)"),
    ("execution.py", 277, "process_inputs", "result = f(**inputs)"),
)
_CORE = "nodes.py"
_IMAGES = "comfy_extras/nodes_images.py"
_POST = "comfy_extras/nodes_post_processing.py"
_UPSCALE = "s = comfy.utils.common_upscale(samples, width, height, upscale_method, crop)"
# class_type -> (source file, line, method, the line that raised)
_NODES: dict[str, tuple[str, int, str, str]] = {
    "LoadImage": (_CORE, 1666, "load_image", "img = node_helpers.pillow(Image.open, image_path)"),
    "SaveImage": (_CORE, 1598, "save_images", "img = Image.fromarray(np.clip(i, 0, 255))"),
    "PreviewImage": (_CORE, 1598, "save_images", "img = Image.fromarray(np.clip(i, 0, 255))"),
    "ImageInvert": (_CORE, 1855, "invert", "s = 1.0 - image"),
    "ImageScale": (_CORE, 1796, "upscale", _UPSCALE),
    "ImageScaleBy": (_CORE, 1818, "upscale", _UPSCALE),
    "ImageBlur": (_POST, 79, "blur", "kernel = gaussian_kernel(kernel_size, sigma)"),
    "ImageSharpen": (_POST, 226, "sharpen", "sharpened = F.conv2d(tensor_image, kernel)"),
    "ImageFlip": (_IMAGES, 612, "flip", "image = torch.flip(image, dims=[2])"),
    "ImageRotate": (_IMAGES, 586, "rotate", "image = torch.rot90(image, k=rotate_by)"),
    "ImageCrop": (_IMAGES, 45, "crop", "img = image[:, y:to_y, x:to_x, :]"),
    "EmptyImage": (_CORE, 1877, "generate", "r = torch.full([batch_size, height, width, 1])"),
    "CheckpointLoaderSimple": (
        _CORE,
        575,
        "load_checkpoint",
        "out = comfy.sd.load_checkpoint_guess_config(ckpt_path, output_vae=True)",
    ),
    "CLIPTextEncode": (_CORE, 69, "encode", "tokens = clip.tokenize(text)"),
    "EmptyLatentImage": (_CORE, 1170, "generate", "latent = torch.zeros([batch_size, 4])"),
    "KSampler": (_CORE, 1525, "sample", "return common_ksampler(model, seed, steps, cfg)"),
    "VAEDecode": (_CORE, 294, "decode", 'images = vae.decode(samples["samples"])'),
    "VAEEncode": (_CORE, 336, "encode", "t = vae.encode(pixels[:, :, :, :3])"),
    "PrimitiveInt": ("comfy_extras/nodes_primitive.py", 48, "execute", "return (value,)"),
    "StringConcatenate": (
        "comfy_extras/nodes_string.py",
        31,
        "execute",
        "return (delimiter.join((string_a, string_b)),)",
    ),
    "SaveText": ("custom_nodes/save_text/nodes.py", 27, "save_text", "path.write_text(text)"),
}


def _frame(path: str, line: int, function: str, code: str) -> str:
    return f'  File "{_ROOT}/{path}", line {line}, in {function}\n    {code}\n'


def comfy_frames(class_type: str | None) -> list[str]:
    """The frames of a failure inside node type ``class_type`` (None: outside any node)."""
    frames = [_frame(*entry) for entry in _EXECUTION]
    node = _NODES.get(class_type or "")
    if node is None:
        return frames[:1] if class_type is None else frames
    return [*frames, _frame(*node)]
