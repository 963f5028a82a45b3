"""The one-shot supernet: sampled paths run forward/backward; extracted sub-students equal their path."""

import random

import pytest
import torch

import hifilite
from hifilite.compress.decompose import decompose
from hifilite.compress.supernet import extract, sample_ranks, set_active_ranks, stage_max_ranks
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.errors import ConfigError
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.generator import Generator

SMALL = GeneratorConfig(upsample_initial_channel=64, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                        resblock_kernel_sizes=(3, 7), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)))
MEL = torch.randn(1, 80, 16, generator=torch.Generator().manual_seed(2)) * 2 - 5


@pytest.fixture(scope="module", params=["lowrank", "separable"])
def supernet(request):
    torch.manual_seed(0)
    teacher = Generator.from_config(SMALL).eval()
    return decompose(teacher, SMALL, request.param)


def test_sampled_paths_forward_backward(supernet):
    gen, cfg = supernet
    maxima = stage_max_ranks(gen)
    choices = [sorted({1, max(1, m // 2), m}) for m in maxima]
    rng = random.Random(0)
    for mode in ("largest", "smallest", "random", "random"):
        ranks = sample_ranks(choices, mode, rng)
        set_active_ranks(gen, ranks)
        gen.zero_grad()
        y = gen(MEL)
        y.pow(2).mean().backward()
        assert y.shape == (1, 1, 16 * 256)
        assert all(p.grad is not None for n, p in gen.named_parameters() if "resblocks" in n)
    set_active_ranks(gen, None)


def test_extracted_sub_student_equals_supernet_path(supernet, tmp_path):
    gen, cfg = supernet
    ranks = tuple(max(1, m // 2) for m in stage_max_ranks(gen))
    set_active_ranks(gen, ranks)
    with torch.no_grad():
        path_out = gen(MEL)
    sub, sub_cfg = extract(gen, cfg, ranks)
    with torch.no_grad():
        assert torch.allclose(sub(MEL), path_out, atol=1e-5)
    assert sum(p.numel() for p in sub.parameters()) < sum(p.numel() for p in gen.parameters())
    voc = hifilite.load_vocoder(save_generator(tmp_path / "sub.safetensors", sub, sub_cfg, MelConfig()))
    with torch.no_grad():
        assert torch.allclose(voc(MEL), path_out.squeeze(1), atol=1e-5)


def test_out_of_range_path_rejected(supernet):
    gen, _ = supernet
    with pytest.raises(ConfigError, match="outside"):
        set_active_ranks(gen, tuple(m + 1 for m in stage_max_ranks(gen)))


def test_sandwich_training_step_improves_small_and_large_paths():
    from hifilite.config import TrainConfig
    from hifilite.compress.supernet_task import SupernetDistilTask
    from hifilite.train.distributed import DistEnv
    from hifilite.train.loop import TaskContext

    torch.manual_seed(0)
    teacher = Generator.from_config(SMALL).eval()
    gen, cfg = decompose(teacher, SMALL, "lowrank", 16)
    gen.train()
    weights = {"mel/loss": 0.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 45.0, "distil/stft": 1.0}
    task = SupernetDistilTask(choices=[(2, 8, 16), (2, 8, 16), (2, 4, 8)], generator=gen, gen_config=cfg,
                              mel_config=MelConfig(), train_config=TrainConfig(learning_rate=1e-4, loss_weights=weights),
                              teacher=teacher)
    task.setup(TaskContext(DistEnv()))
    t = torch.arange(2048) / 22050
    batch = {"audio": 0.3 * torch.sin(2 * torch.pi * 200 * t).repeat(2, 1)}
    first = task.train_step(batch, 0)
    for step in range(1, 12):
        last = task.train_step(batch, step)
    assert {"largest/distil/mel", "smallest/distil/mel", "random/inplace/mel"} <= set(first)
    assert float(last["smallest/distil/mel"]) < float(first["smallest/distil/mel"])
    # the largest path starts near the teacher; sharing weights with small paths must keep it ahead
    assert float(last["largest/distil/mel"]) < float(last["smallest/distil/mel"])
    assert all(m.active is None for m in gen.modules() if hasattr(m, "active"))  # path reset after the step
    with pytest.raises(ConfigError, match="choices"):
        SupernetDistilTask(choices=[(99,)] * 3, generator=gen, gen_config=cfg, mel_config=MelConfig(),
                           train_config=TrainConfig(loss_weights=weights), teacher=teacher)


def test_extract_from_a_weight_normed_supernet():
    """A supernet still in its training form (weight norm on) extracts to the same function."""
    import dataclasses

    from hifilite.compress.supernet import extract, set_active_ranks
    from hifilite.config import GENERATOR_PRESETS
    from hifilite.vocoder.generator import Generator

    torch.manual_seed(0)
    cfg = dataclasses.replace(GENERATOR_PRESETS["lite"], upsample_initial_channel=32, resblock_conv="lowrank")
    sn = Generator.from_config(cfg).eval()
    mel = torch.randn(1, 80, 6)
    with torch.no_grad():
        set_active_ranks(sn, (4, 2))
        want = sn(mel)
        sub, _ = extract(sn, cfg, (4, 2))
        assert (sub.eval()(mel) - want).abs().max() < 1e-5
