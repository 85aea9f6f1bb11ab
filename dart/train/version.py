"""The training code version (a leaf: imports nothing, no torch).

Bump it when a change can alter a trained model (the data pipeline, packing, the Trainer
set-up). Rules pass it through ``params:``.

    python -c "from dart.train.version import TRAIN_VERSION; print(TRAIN_VERSION)"
"""

#: 2: warm-up steps rounded down (a short run's first step no longer runs at learning rate 0).
TRAIN_VERSION = "2"
