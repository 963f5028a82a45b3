"""Evaluation: objective metrics, MAC counting, the speed/size bench and the corpus runner.

    from hifilite.evaluate import compute_all, count_macs, bench_models, evaluate_models

Names are resolved on first use, so `import hifilite.evaluate` does not import torch.
"""

_EXPORTS = {
    "compute_all": "metrics", "pesq_wb": "metrics", "stoi": "metrics", "mcd": "metrics",
    "logmel_l1": "metrics", "mrstft_distance": "metrics", "dnsmos": "metrics", "METRICS": "metrics",
    "MetricWarning": "metrics",
    "count_macs": "macs", "macs_per_second": "macs",
    "bench_models": "bench", "bench_table": "bench",
    "evaluate_models": "runner", "EvalResult": "runner", "summary_table": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
