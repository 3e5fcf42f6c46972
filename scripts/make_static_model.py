"""Turn the pretrained static token embeddings shipped inside the `wordllama` wheel into a
model2vec model directory, usable as `--embedder model2vec:DIR` (memory and text features).

Provenance: `wordllama` (PyPI, https://github.com/dleemiller/WordLlama, MIT licence,
© 2024 D. Lee Miller) bundles `wordllama/weights/l2_supercat_256.safetensors` — a 32,000 x 256
token-embedding table distilled from the input embeddings of several large language models
(Llama 2 tokenizer vocabulary) and trained for sentence similarity — and the matching
Hugging Face `tokenizers` file `wordllama/tokenizers/l2_supercat_tokenizer_config.json`.
Both are read from the wheel file as data (zip members; nothing is imported or executed
from it, nothing is downloaded by this script). The output keeps the MIT licence text of
the source in `LICENSE.wordllama` next to the model.

Get the wheel once (PyPI is reachable; Hugging Face is not needed):

    pip download --no-deps wordllama==0.4.0.post1 -d /tmp/wl
    python scripts/make_static_model.py /tmp/wl/wordllama-*.whl /tmp/wordllama-m2v

The model2vec model averages the token vectors of a text (mean pooling) and L2-normalises
the result — the same pooling wordllama uses for its own `embed` (minus its optional
binarisation/truncation).
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

WEIGHTS = "wordllama/weights/l2_supercat_256.safetensors"
TOKENIZER = "wordllama/tokenizers/l2_supercat_tokenizer_config.json"


def convert(wheel: Path, out: Path) -> tuple[int, int]:
    """Write the model2vec directory; returns (vocabulary size, dimension)."""
    from model2vec import StaticModel
    from safetensors.numpy import load
    from tokenizers import Tokenizer

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for need in (WEIGHTS, TOKENIZER):
            if need not in names:
                raise ValueError(f"{wheel.name}: no {need} (not a wordllama 0.4 wheel?)")
        tables = load(zf.read(WEIGHTS))
        tokenizer = Tokenizer.from_str(zf.read(TOKENIZER).decode("utf-8"))
        licence = next((n for n in names if n.endswith("LICENSE")), None)
        licence_text = zf.read(licence).decode("utf-8") if licence else ""
    if len(tables) != 1:
        raise ValueError(f"{WEIGHTS}: expected one tensor, found {sorted(tables)}")
    vectors = np.asarray(next(iter(tables.values())), np.float32)
    vocab = tokenizer.get_vocab_size()
    if vectors.ndim != 2 or vectors.shape[0] < vocab:
        raise ValueError(f"{WEIGHTS}: shape {vectors.shape} does not cover {vocab} tokens")
    vectors = vectors[:vocab]
    tokenizer.no_padding()
    tokenizer.no_truncation()
    model = StaticModel(vectors, tokenizer, normalize=True)
    model.save_pretrained(out)
    (out / "LICENSE.wordllama").write_text(licence_text or "MIT (see PyPI wordllama)\n")
    (out / "PROVENANCE.json").write_text(
        json.dumps(
            {
                "source": wheel.name,
                "weights": WEIGHTS,
                "tokenizer": TOKENIZER,
                "licence": "MIT",
                "shape": list(vectors.shape),
            },
            indent=1,
        )  # fmt: skip
    )
    return int(vectors.shape[0]), int(vectors.shape[1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("wheel", type=Path, help="the downloaded wordllama wheel (.whl)")
    p.add_argument("out", type=Path, help="the model2vec directory to write")
    args = p.parse_args(argv)
    try:
        vocab, dim = convert(args.wheel, args.out)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        print(f"make_static_model: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: model2vec model, {vocab} tokens x {dim} dims")
    return 0


if __name__ == "__main__":
    sys.exit(main())
