"""The proxy-training notebook runs top to bottom on a small dataset it is given (so it
cannot rot): the same check as ``pytest --nbmake experiments/notebooks``."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from archgym.app.collect import collect

NOTEBOOK = Path(__file__).resolve().parents[1] / "experiments/notebooks/proxy_training.ipynb"


def test_proxy_training_notebook_executes(tmp_path, monkeypatch):
    ds = tmp_path / "dram"
    collect("archgym/DRAM-v0", 300, "lhs", seed=0, out=ds, env_kwargs={"trace_length": 1000})
    monkeypatch.setenv("ARCHGYM_PROXY_DATASET", str(ds))
    monkeypatch.setenv("ARCHGYM_PROXY_TRACE_LENGTH", "1000")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "300 distinct designs" in text
    assert "Kendall tau" in text and "best model:" in text
    assert "proxy evaluations / s" in text and "proxy {" in text
    assert not any(o.get("output_type") == "error" for c in nb.cells
                   for o in c.get("outputs", []))
