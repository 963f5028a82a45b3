"""Partial files left by killed writers are removed by the next run; live writers' are kept;
a cached ONNX export that was cut short is exported again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from hifilite import io as hio

WRITER = textwrap.dedent("""
    import sys, time
    from hifilite.io import atomic_write

    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(b"x" * 4096)
        print(tmp, flush=True)
        sys.stdin.readline()  # hold the partial file until told to go on (or killed)
        time.sleep(float(sys.argv[2]))

    atomic_write(sys.argv[1], write)
    print("done", flush=True)
""")


def start_writer(path, pause=0.0):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(pause)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    part = proc.stdout.readline().strip()
    assert part.endswith(".part") and os.path.exists(part), part
    return proc, part


@pytest.fixture(autouse=True)
def fresh_sweep(monkeypatch):
    monkeypatch.setattr(hio, "_swept", set())  # each test is a "new run" for the folders it writes


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_writers_partial_file_is_removed_by_the_next_write(tmp_path, sig):
    proc, part = start_writer(tmp_path / "ckpt.pt")
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert os.path.exists(part) and not (tmp_path / "ckpt.pt").exists()  # what the kill leaves
    hio.atomic_write(tmp_path / "other.json", lambda tmp: open(tmp, "w").write("{}"))
    assert not os.path.exists(part)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json"]


def test_a_live_writers_partial_file_is_kept_and_both_writes_finish(tmp_path):
    proc, part = start_writer(tmp_path / "a.bin", pause=0.2)
    try:
        hio.atomic_write(tmp_path / "b.bin", lambda tmp: open(tmp, "wb").write(b"b"))
        assert os.path.exists(part)  # its writer is alive: not ours to remove
        assert hio.remove_stale_parts(tmp_path) == []
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "done"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]


def test_partial_files_of_other_machines_and_recent_untagged_ones_are_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    other_host = "%08x" % ((int(hio._host_tag(), 16) + 1) & 0xFFFFFFFF)
    names = {
        f".m.pt.{hio._host_tag()}-{dead_pid}.abcd1234.part": False,  # this machine, writer gone
        f".m.pt.{other_host}-{dead_pid}.abcd1234.part": True,  # another machine's writer: unknown
        f".m.pt.{hio._host_tag()}-{os.getpid()}.abcd1234.part": True,  # this process: alive
        ".old.pt.k3j4h5g6.part": True,  # untagged (older versions), recent: may still be written
        ".older.pt.z9y8x7w6.part": False,  # untagged and untouched for two hours
        "notes.part": True,  # not a hifilite partial file
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    os.utime(tmp_path / ".older.pt.z9y8x7w6.part", (two_hours_ago, two_hours_ago))
    removed = {p.name for p in hio.remove_stale_parts(tmp_path)}
    assert removed == {n for n, keep in names.items() if not keep}
    assert {p.name for p in tmp_path.iterdir()} == {n for n, keep in names.items() if keep}


def test_a_truncated_cached_export_is_rebuilt(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    import torch

    from hifilite.config import GeneratorConfig, MelConfig
    from hifilite.deploy.cache import vocoder_onnx
    from hifilite.errors import ModelNotFoundError
    from hifilite.runtime import OnnxVocoder
    from hifilite.vocoder.checkpoint import save_generator
    from hifilite.vocoder.generator import Generator

    tiny = GeneratorConfig(upsample_initial_channel=16, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                           resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 2),))
    torch.manual_seed(0)
    model = save_generator(tmp_path / "tiny.safetensors", Generator.from_config(tiny), tiny, MelConfig())
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    mel = np.full((1, 80, 20), -4.0, dtype=np.float32)
    first = vocoder_onnx(model)
    ref = OnnxVocoder(first, threads=1)(mel)
    mtime = first.stat().st_mtime_ns
    assert vocoder_onnx(model) == first and first.stat().st_mtime_ns == mtime  # reused as it is

    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2])  # a copy or disk-full cut the file short
    with pytest.raises(ModelNotFoundError):
        OnnxVocoder(first, threads=1)
    again = vocoder_onnx(model)
    assert again == first and again.read_bytes() == data
    assert np.array_equal(OnnxVocoder(again, threads=1)(mel), ref)

    sidecar = first.with_suffix(".json")
    sidecar.write_text(sidecar.read_text()[:10])  # a cut sidecar is caught the same way
    OnnxVocoder(vocoder_onnx(model), threads=1)
