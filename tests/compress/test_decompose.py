"""Teacher decomposition: exact at full rank, prefix-valid truncation, self-describing students."""

import pytest
import torch

import hifilite
from hifilite.compress.decompose import decompose, truncate
from hifilite.config import GENERATOR_PRESETS, GeneratorConfig
from hifilite.errors import ConfigError
from hifilite.vocoder.checkpoint import save_generator
from hifilite.config import MelConfig
from hifilite.vocoder.generator import Generator

SMALL = GeneratorConfig(upsample_initial_channel=64, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                        resblock_kernel_sizes=(3, 7), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)))


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    return Generator.from_config(SMALL).eval()


MEL = torch.randn(1, 80, 24, generator=torch.Generator().manual_seed(1)) * 2 - 5


@pytest.mark.parametrize("form", ["lowrank", "separable"])
def test_full_rank_reproduces_teacher(teacher, form):
    student, cfg = decompose(teacher, SMALL, form)
    assert cfg.resblock_conv == form
    with torch.no_grad():
        assert (student(MEL) - teacher(MEL)).abs().max() <= 1e-4


@pytest.mark.parametrize("form,full,small", [("lowrank", 0, 8), ("separable", 0, 2)])
def test_prefix_of_rank_is_the_direct_smaller_student(teacher, form, full, small):
    big, cfg = decompose(teacher, SMALL, form, full)
    cut, cut_cfg = truncate(big, cfg, small)
    direct, _ = decompose(teacher, SMALL, form, small)
    n_cut = sum(p.numel() for p in cut.parameters())
    assert n_cut < sum(p.numel() for p in big.parameters())
    with torch.no_grad():
        out_cut, out_direct, out_teacher = cut(MEL), direct(MEL), teacher(MEL)
    assert torch.allclose(out_cut, out_direct, atol=1e-6)
    assert (out_cut - out_teacher).abs().max() > 1e-4  # truncation is an approximation


def test_rank_error_decreases_with_rank(teacher):
    errs = []
    for rank in (4, 16, 32):
        s, _ = decompose(teacher, SMALL, "lowrank", rank)
        with torch.no_grad():
            errs.append((s(MEL) - teacher(MEL)).abs().mean().item())
    assert errs[0] > errs[1] > errs[2]


def test_student_checkpoint_reloads_without_compress_code(teacher, tmp_path):
    student, cfg = decompose(teacher, SMALL, "separable", 2)
    path = save_generator(tmp_path / "s.safetensors", student, cfg, MelConfig())
    voc = hifilite.load_vocoder(path)
    assert voc.gen_config == cfg
    with torch.no_grad():
        assert torch.allclose(voc(MEL), student(MEL).squeeze(1), atol=1e-6)


def test_bad_forms_rejected(teacher):
    with pytest.raises(ConfigError):
        decompose(teacher, SMALL, "tucker3")
    with pytest.raises(ConfigError):
        GeneratorConfig(resblock_conv="pruned")


def test_v1_topology_sizes():
    cfg = GENERATOR_PRESETS["v1"]
    import dataclasses

    sizes = []
    for form, rank in (("lowrank", 128), ("lowrank", 64), ("separable", 2), ("separable", 1)):
        g = Generator.from_config(dataclasses.replace(cfg, resblock_conv=form, resblock_rank=rank))
        sizes.append(sum(p.numel() for p in g.parameters()))
    assert 13.9e6 > sizes[0] > sizes[1] and sizes[2] > sizes[3]
    assert sizes[3] < 13.9e6 / 3  # the resblocks hold most of V1: separable students are far smaller


@pytest.mark.parametrize("form,ranks", [("lowrank", (16, 8, 4)), ("separable", (3, 2, 1))])
def test_per_stage_ranks(teacher, form, ranks):
    big, cfg = decompose(teacher, SMALL, form)
    cut, cut_cfg = truncate(big, cfg, ranks)
    assert cut_cfg.stage_ranks == ranks
    reduced = [m for n, m in cut.named_modules() if n.endswith("convs1.0")]
    inner = [m.reduce.out_channels if form == "lowrank" else m.depthwise.out_channels // m.depthwise.in_channels
             for m in reduced]
    assert inner == [r for r in ranks for _ in SMALL.resblock_kernel_sizes]
    with pytest.raises(ConfigError, match="larger rank"):
        truncate(cut, cut_cfg, tuple(r * 2 for r in ranks))
    with pytest.raises(ConfigError, match="one rank per"):
        GeneratorConfig(stage_ranks=(1, 2))


def test_decompose_cli_per_stage_ranks(teacher, tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    path = save_generator(tmp_path / "t.safetensors", teacher, SMALL, MelConfig())
    res = CliRunner().invoke(app, ["compress", "decompose", "--teacher", str(path), "--ranks", "16,8,4",
                                   "-o", str(tmp_path / "s.safetensors")])
    assert res.exit_code == 0, res.output
    student = hifilite.load_vocoder(tmp_path / "s.safetensors")
    assert student.gen_config.stage_ranks == (16, 8, 4)
    direct, _ = truncate(*decompose(teacher, SMALL, "lowrank"), (16, 8, 4))
    with torch.no_grad():
        assert torch.equal(student.generator(MEL), direct(MEL))
    res = CliRunner().invoke(app, ["compress", "decompose", "--teacher", str(path), "--ranks", "16,x",
                                   "-o", str(tmp_path / "bad.safetensors")])
    assert res.exit_code != 0 and "comma-separated" in str(res.exception)
