"""Fine-tuning (stage 4): ``dart train`` turns a base model and a dataset into a model folder.

Modules: :mod:`hyperparams` (the keys, defaults and checks), :mod:`data` (tokenising,
packing, collators), :mod:`finetune` (Trainer, checkpoints, resume, signals),
:mod:`launch` (torchrun for GPUs or CPU ranks), :mod:`card` (loss curve, training.json, model card),
:mod:`cli` (the verb).

    dart train --dataset results/datasets/uniform.parquet --base data/models/smollm2-135m \\
        --hyperparams-json '{"max_length": 512}' -o results/models/smollm2-135m--uniform
"""

#: Version of the training code; bump when a change can alter a trained model (the
#: data pipeline, packing, the Trainer set-up). Rules pass it through ``params:``.
#: 2: warm-up steps rounded down (a short run's first step no longer runs at learning rate 0).
TRAIN_VERSION = "2"
