"""Where a step of augmented distillation spends its time: augmentation, the teacher's forward pass
on the augmented mel (on the fly, no cache), and the student's own training step.

    python benchmarks/distil_step_cost.py [--teacher universal-v1] [--student joe-lite] [--batch 8]
        [--segment 8192] [--steps 5] [--threads 1]

Prints milliseconds per step (median of `--steps`) for each part, on random-noise batches.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    import torch

    from hifilite.audio import MelSpectrogram
    from hifilite.config import TrainConfig
    from hifilite.data.augment import Augment
    from hifilite.train.distributed import DistEnv
    from hifilite.vocoder.task import GanVocoderTask
    from hifilite.train.loop import TaskContext
    from hifilite.vocoder.api import load_vocoder

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teacher", default="universal-v1")
    ap.add_argument("--student", default="joe-lite")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--segment", type=int, default=8192)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    teacher = load_vocoder(args.teacher)
    student = load_vocoder(args.student, for_training=True)
    weights = {"mel/loss": 10.0, "adv/gen": 0.0, "adv/feat": 0.0, "distil/mel": 45.0, "distil/stft": 1.0,
               "distil/feat": 0.0}
    task = GanVocoderTask(generator=student.generator, gen_config=student.gen_config, mel_config=student.mel_config,
                          train_config=TrainConfig(loss_weights=weights), teacher=teacher.generator)
    task.setup(TaskContext(DistEnv()))
    mel_fn = MelSpectrogram.from_config(teacher.mel_config)
    augment = Augment(seed=0, sample_rate=teacher.sample_rate)
    g = torch.Generator().manual_seed(0)
    audio = 0.1 * torch.randn(args.batch, args.segment, generator=g)

    parts: dict[str, list[float]] = {"augment": [], "teacher forward": [], "student step (cached target)": []}
    for step in range(args.steps + 1):
        t0 = time.perf_counter()
        aug = augment(audio, step)
        t1 = time.perf_counter()
        with torch.no_grad():
            target = teacher.generator(mel_fn(aug))
        t2 = time.perf_counter()
        task.train_step({"audio": aug, "teacher": target.squeeze(1)}, step)
        t3 = time.perf_counter()
        if step:  # the first step warms up allocators and kernels
            for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
                parts[name].append(dt * 1000)
    seconds = args.batch * args.segment / teacher.sample_rate
    print(f"batch {args.batch} x {args.segment} samples ({seconds:.2f} s of audio), {args.threads} thread(s), "
          f"teacher {args.teacher}, student {args.student}")
    total = 0.0
    for name, times in parts.items():
        ms = statistics.median(times)
        total += ms
        print(f"  {name:32s} {ms:8.1f} ms")
    print(f"  {'total':32s} {total:8.1f} ms")


if __name__ == "__main__":
    main()
