"""Multiply-accumulate (MAC) counting with forward hooks.

A hook on every Conv1d / Conv2d / ConvTranspose1d / Linear reads the actual input and output
shapes of one forward pass, so the count follows whatever the model does with its layers (skipped
branches, reused layers, any input length) without a hand-written formula per architecture.

Conventions (those of fvcore and ptflops), per layer, batch included:

    Conv1d/Conv2d        out.numel() * (C_in / groups) * prod(kernel)
                         (dilation changes which inputs are read, not how many; taps that fall on
                         zero padding are counted, since dense kernels compute them)
    ConvTranspose1d      in.numel() * (C_out / groups) * kernel
                         (every input sample is scattered through the whole kernel, including the
                         contributions that output padding later crops)
    Linear               out.numel() * in_features
    any module with a    what `macs(first input, output)` returns (fixed transforms written with
    `macs` method        functional ops, such as an inverse STFT's synthesis basis)

Bias additions, activations, normalisation and residual sums are not counted: they are O(1) per
output element, negligible next to the convolutions of a vocoder.

By default the forward pass runs on a `meta`-device copy of the model (shapes only, no
arithmetic): counting V1 on one second of audio takes about a second, mostly the copy. Models with
an operation that has no meta kernel fall back to a real forward of the model itself.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

COUNTED = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.Linear)


def layer_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """MACs of one call of a counted layer, from its input (B, C_in, ...) and output shapes."""
    if callable(getattr(module, "macs", None)):
        return int(module.macs(inp, out))
    if isinstance(module, nn.ConvTranspose1d):
        return inp.numel() * (module.out_channels // module.groups) * module.kernel_size[0]
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return out.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    raise TypeError(f"no MAC rule for {type(module).__name__}")


def _count(model: nn.Module, args: tuple) -> tuple[int, dict[str, int]]:
    per_layer: dict[str, int] = {}
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, COUNTED) or callable(getattr(m, "macs", None)):
            def hook(mod, inputs, output, name=name):
                per_layer[name] = per_layer.get(name, 0) + layer_macs(mod, inputs[0], output)

            handles.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()
    return sum(per_layer.values()), per_layer


def count_macs_by_layer(model: nn.Module, example_input, *, meta: bool = True) -> dict[str, int]:
    """{qualified layer name: MACs} for one forward of `model(example_input)`.

    `example_input` is a tensor or a tuple of positional arguments. With `meta=True` the model is
    deep-copied to the meta device and the pass only propagates shapes; if the model has an
    operation without a meta kernel the count is redone with a real forward of `model` itself.
    """
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    if meta:
        try:
            meta_model = copy.deepcopy(model).to("meta")
            meta_args = tuple(a.to("meta") if torch.is_tensor(a) else a for a in args)
            return _count(meta_model, meta_args)[1]
        except (NotImplementedError, RuntimeError):
            pass
    return _count(model, args)[1]


def count_macs(model: nn.Module, example_input, *, meta: bool = True) -> int:
    """Total multiply-accumulates of one forward pass of `model(example_input)` (see module doc)."""
    return sum(count_macs_by_layer(model, example_input, meta=meta).values())


def macs_per_second(generator: nn.Module, *, sample_rate: int, hop_length: int,
                    n_mels: int = 80) -> int:
    """MACs a mel-to-waveform generator spends per second of output audio.

    Counted on one second of mel frames, (1, n_mels, ceil(sr / hop)), and scaled by the exact
    number of samples produced, frames * hop, so boundary effects are averaged into one second.
    """
    frames = -(-sample_rate // hop_length)
    mel = torch.zeros(1, n_mels, frames)
    return round(count_macs(generator, mel) * sample_rate / (frames * hop_length))
