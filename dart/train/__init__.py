"""Fine-tuning (stage 4): ``dart train`` turns a base model and a dataset into a model folder.

Modules: :mod:`hyperparams` (the keys, defaults and checks), :mod:`data` (tokenising,
packing, collators), :mod:`finetune` (Trainer, checkpoints, resume),
:mod:`launch` (torchrun for GPUs), :mod:`card` (loss curve, training.json, model card),
:mod:`cli` (the verb), :mod:`version` (``TRAIN_VERSION``, a leaf).

    dart train --dataset results/datasets/uniform.parquet --base data/models/smollm2-135m \\
        --hyperparams-json '{"max_length": 512}' -o results/models/smollm2-135m--uniform
"""
