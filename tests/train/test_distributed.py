"""DDP: two CPU processes on Gloo, started like torchrun would (RANK/WORLD_SIZE/LOCAL_RANK in the
environment), train two steps; both ranks must end with identical parameters, and only rank 0
writes the checkpoint (holding both ranks' RNG states)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torch.multiprocessing as mp

from hifilite.config import GeneratorConfig, TrainConfig, to_dict

TINY = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                       resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))
CONFIG = TrainConfig(batch_size=1, segment_size=2048, num_workers=0, max_steps=2, checkpoint_interval=100,
                     summary_interval=1, validation_interval=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_corpus(root: Path, n: int = 6) -> Path:
    rng = np.random.default_rng(1)
    (root / "wavs").mkdir(parents=True)
    for i in range(n):
        wav = 0.3 * np.sin(2 * np.pi * (120 + 50 * i) * np.arange(6000) / 22050) + 0.03 * rng.standard_normal(6000)
        sf.write(root / "wavs" / f"u{i}.wav", wav.astype(np.float32), 22050, subtype="PCM_16")
    (root / "metadata.csv").write_text("".join(f"u{i}|t|t\n" for i in range(n)))
    return root


def _worker(rank: int, world: int, port: int, corpus: str, run_dir: str, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from hifilite.data.corpora import load_split
    from hifilite.data.dataset import VocoderDataset
    from hifilite.train import fit, init_distributed, shutdown
    from hifilite.vocoder.task import GanVocoderTask, make_generator
    from hifilite.vocoder.discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator

    env = init_distributed("cpu")
    try:
        # Different initial weights per rank: DDP must broadcast rank 0's at wrapping time.
        gen, gen_cfg, mel = make_generator(gen_config=TINY, init=None, seed=rank)
        task = GanVocoderTask(generator=gen, gen_config=gen_cfg, mel_config=mel, train_config=CONFIG,
                              mpd=MultiPeriodDiscriminator(periods=(2,)), msd=MultiScaleDiscriminator(num_scales=1))
        data = VocoderDataset(load_split(corpus, "train"), mel=mel, segment_size=CONFIG.segment_size, seed=0)
        result = fit(task, train_data=data, val_data=None, config=CONFIG, run_dir=run_dir,
                     run_config={"train": to_dict(CONFIG)}, env=env)
        assert result.state.step == 2
        torch.save({k: v for k, v in task.state_dict().items() if k in ("generator", "mpd", "msd")},
                   Path(out) / f"rank{rank}.pt")
    finally:
        shutdown(env)


def test_two_gloo_processes_end_with_identical_parameters(tmp_path):
    from hifilite.train import load_checkpoint
    from hifilite.train.state import list_checkpoints

    corpus = _make_corpus(tmp_path / "corpus")
    run_dir = tmp_path / "run"
    mp.spawn(_worker, args=(2, _free_port(), str(corpus), str(run_dir), str(tmp_path)), nprocs=2, join=True)

    states = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    for module in ("generator", "mpd", "msd"):
        a, b = states[0][module], states[1][module]
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{module}.{k} differs between ranks"
    ckpts = list_checkpoints(run_dir)
    assert [s for s, _ in ckpts] == [2]
    ckpt = load_checkpoint(ckpts[0][1])
    assert len(ckpt["rng"]) == 2
    assert not torch.equal(ckpt["rng"][0]["torch"], ckpt["rng"][1]["torch"])  # ranks seeded apart
