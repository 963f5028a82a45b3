"""The main job end to end on a tiny corpus: corpus -> copy-synthesis -> evaluate -> bench -> report."""

import json

import pytest

from hifilite.demo import mean_pesq, run_demo


@pytest.mark.slow
def test_demo_writes_complete_report(tmp_path, monkeypatch):
    monkeypatch.setenv("HIFILITE_CACHE", str(tmp_path / "cache"))
    md = run_demo(tmp_path, sentences=6, test=2, bench_models_=("v3",), bench_seconds=1.0)
    text = md.read_text()
    assert "| lj-v1 |" in text and "| pghi |" in text and "| joe-lite |" in text and "| v3 |" in text
    assert "spectrograms.png" in text
    assert (tmp_path / "report.html").is_file() and (tmp_path / "spectrograms.png").stat().st_size > 10_000
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert {r["model"] for r in results["utterances"]} == {"reference", "lj-v1", "pghi", "joe-lite", "joe-tiny"}
    assert results["summary"]["pghi"]["periodicity"]["mean"] < 0.3  # the floor follows the voice's pitch
    # the pretrained teacher really reconstructs the speech (random weights score ~1.0)
    assert mean_pesq(tmp_path / "eval" / "results.json", "lj-v1") > 1.8
    bench = json.loads((tmp_path / "bench.json").read_text())["results"]
    assert bench[0]["model"] == "v3" and bench[0]["x_real_time"] > 0
    # text to speech with the shipped acoustic model + joe-lite, beside Piper, on the test sentences
    speech = json.loads((tmp_path / "tts.json").read_text())
    assert speech["texts"] == 2 and [r["system"].split()[0] for r in speech["systems"]] == ["hifilite", "Piper"]
    assert all(r["seconds"] > 0.5 and r["x_real_time"] > 0 for r in speech["systems"])
    assert len(list((tmp_path / "tts").glob("*.wav"))) == 4 and "Text to speech" in text
