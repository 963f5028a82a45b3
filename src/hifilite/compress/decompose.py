"""Decompose a teacher's resblock convolutions into a compact student, initialised from its weights.

Two forms (see `hifilite.vocoder.generator.make_conv`):

- low-rank: each C -> C k-tap conv W (C, C, k) becomes a k-tap conv C -> r and a 1x1 conv r -> C,
  from the SVD of W unfolded to (C, C*k) — Tucker-2 on the output mode, the optimal rank-r
  approximation in Frobenius norm. Full rank (r = C) reproduces the teacher.
- separable: a depthwise k-tap conv with m filters per input channel, then a 1x1 conv, from the
  SVD of each input channel's (C_out, k) slice. m = k reproduces the teacher.

Components are stored in singular-value order, so keeping a prefix of the rank gives the best
smaller network of the same form: the property the one-shot supernet relies on. All other layers
(conv_pre, upsampling, conv_post) are copied. Truncation alone costs much quality (PESQ ~2.5 ->
~1.0-1.5): the student still needs distillation.
"""

from __future__ import annotations

import dataclasses

import torch

from ..config import GeneratorConfig
from ..errors import ConfigError
from ..vocoder.generator import Generator, LowRankConv1d, SeparableConv1d


def _fused(conv: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (C_out, C_in, k), bias) of a plain or weight-normed Conv1d, weight norm applied."""
    return conv.weight.detach().clone(), conv.bias.detach().clone()


@torch.no_grad()
def lowrank_init(target: LowRankConv1d, weight: torch.Tensor, bias: torch.Tensor) -> None:
    c_out, c_in, k = weight.shape
    rank = target.reduce.out_channels
    u, s, vh = torch.linalg.svd(weight.reshape(c_out, c_in * k).double(), full_matrices=False)
    root = s[:rank].sqrt()
    target.reduce.weight.copy_((root[:, None] * vh[:rank]).reshape(rank, c_in, k))
    target.expand.weight.copy_((u[:, :rank] * root).reshape(c_out, rank, 1))
    target.expand.bias.copy_(bias)


@torch.no_grad()
def separable_init(target: SeparableConv1d, weight: torch.Tensor, bias: torch.Tensor) -> None:
    c_out, c_in, k = weight.shape
    m = target.depthwise.out_channels // c_in
    if m > min(c_out, k):
        raise ConfigError(f"separable multiplier {m} exceeds min(channels, kernel) = {min(c_out, k)}")
    # per input channel c: W[:, c, :] = U_c diag(S_c) Vh_c
    u, s, vh = torch.linalg.svd(weight.permute(1, 0, 2).double(), full_matrices=False)  # (Cin,Cout,k),(Cin,k),(Cin,k,k)
    root = s[:, :m].sqrt()
    target.depthwise.weight.copy_((root[..., None] * vh[:, :m]).reshape(c_in * m, 1, k))
    point = u[:, :, :m] * root[:, None, :]  # (Cin, Cout, m)
    target.pointwise.weight.copy_(point.permute(1, 0, 2).reshape(c_out, c_in * m, 1))
    target.pointwise.bias.copy_(bias)


def decompose(
    teacher: Generator, teacher_config: GeneratorConfig, form: str = "lowrank", rank: int = 0
) -> tuple[Generator, GeneratorConfig]:
    """A student with the teacher's topology whose resblock convs are decomposed (see module doc).

    `rank`: low-rank inner channels, or separable depth multiplier; 0 = exact (full) rank.
    Returns the student (weight norm fused, eval mode) and its constructor config.
    """
    if form not in ("lowrank", "separable"):
        raise ConfigError(f"decomposition form must be lowrank or separable, got {form!r}")
    if teacher_config.resblock_conv != "full":
        raise ConfigError("the teacher must have full resblock convolutions")
    cfg = dataclasses.replace(teacher_config, resblock_conv=form, resblock_rank=rank)
    student = Generator.from_config(cfg).remove_weight_norm()
    init = lowrank_init if form == "lowrank" else separable_init
    own = student.state_dict()
    for name, module in teacher.named_modules():
        if not isinstance(module, torch.nn.Conv1d) and not hasattr(module, "parametrizations"):
            continue
        weight, bias = _fused(module)
        if name.startswith("resblocks."):
            init(student.get_submodule(name), weight, bias)
        elif name + ".weight" in own:
            student.get_submodule(name).weight.data.copy_(weight)
            student.get_submodule(name).bias.data.copy_(bias)
    # ConvTranspose1d layers (ups) are not Conv1d: copy them too
    for i, up in enumerate(teacher.ups):
        weight, bias = _fused(up)
        student.ups[i].weight.data.copy_(weight)
        student.ups[i].bias.data.copy_(bias)
    return student.eval(), cfg


def truncate(
    student: Generator, config: GeneratorConfig, rank: int | tuple[int, ...]
) -> tuple[Generator, GeneratorConfig]:
    """Keep the first `rank` components of every decomposed conv (a valid smaller student).

    `rank` is one number for all stages or a tuple with one per upsampling stage; a rank above a
    stage's current one is an error (components cannot be invented).
    """
    if config.resblock_conv == "full":
        raise ConfigError("only decomposed students can be truncated")
    full = config.stage_ranks or config.resblock_rank
    if isinstance(rank, int):
        cfg = dataclasses.replace(config, resblock_rank=rank, stage_ranks=())
    else:
        cfg = dataclasses.replace(config, stage_ranks=tuple(rank))
    small = Generator.from_config(cfg).remove_weight_norm()
    if any("parametrizations" in k for k in student.state_dict()):  # training copy: fuse weight norm first
        fused = Generator.from_config(config)
        fused.load_state_dict(student.state_dict())
        student = fused.remove_weight_norm()
    big_state = student.state_dict()
    new_state = {}
    for key, value in small.state_dict().items():
        src = big_state[key]
        if any(a > b for a, b in zip(value.shape, src.shape)):
            raise ConfigError(f"cannot truncate {key} to a larger rank ({tuple(src.shape)} -> {tuple(value.shape)})")
        if src.shape == value.shape:
            new_state[key] = src
        elif key.endswith("reduce.weight"):
            new_state[key] = src[: value.shape[0]]
        elif key.endswith("expand.weight"):
            new_state[key] = src[:, : value.shape[1]]
        elif key.endswith("depthwise.weight"):
            c = small.get_submodule(key[: -len(".weight")]).in_channels
            m_big, m = src.shape[0] // c, value.shape[0] // c
            new_state[key] = src.reshape(c, m_big, *src.shape[1:])[:, :m].reshape(value.shape)
        elif key.endswith("pointwise.weight"):
            c = value.shape[0]
            m_big, m = src.shape[1] // c, value.shape[1] // c
            new_state[key] = src.reshape(c, c, m_big, 1)[:, :, :m].reshape(value.shape)
        else:
            raise ConfigError(f"cannot truncate {key}: {tuple(src.shape)} -> {tuple(value.shape)} (rank {full})")
    small.load_state_dict(new_state)
    return small.eval(), cfg
