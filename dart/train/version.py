"""The training code version (a leaf: imports nothing, no torch).

Bump it when a change can alter a trained model (the data pipeline, packing, the Trainer
set-up). Rules pass it through ``params:``.

    python -c "from dart.train.version import TRAIN_VERSION; print(TRAIN_VERSION)"
"""

TRAIN_VERSION = "1"
