"""Parity cases: the everyday models of models/examples/, each against its torch twin (tests/oracle.py builds
it from the same file: torch's own layers, and the file's forward text run by Python). Imported by cases.py."""

from __future__ import annotations

from cases import add

EXAMPLES = "models/examples"
# name: (input shapes, integer inputs {index: n}, train as well)
EXAMPLE_INPUTS = {
    "cnn3d": ([(2, 3, 8, 16, 16)], {}, False),  # its Dropout makes train mode random
    "autoencoder": ([(2, 1, 28, 28)], {}, False),
    "unet": ([(1, 3, 29, 37)], {}, True),  # odd sizes: the Up blocks pad
    "style_transfer": ([(1, 3, 32, 32)], {}, False),
    "convnext_block": ([(2, 96, 9, 9)], {}, False),
    "gru_lm": ([(3, 11)], {0: 65}, False),
    "mlp_logsoftmax": ([(4, 1, 28, 28)], {}, False),
    "se_block": ([(2, 3, 32, 32)], {}, True),
    "gpt_block": ([(2, 16, 64)], {}, True),
    "vit": ([(2, 3, 32, 32)], {}, True),
    "transformer_classifier": ([(2, 12)], {0: 1000}, False),  # its encoder's dropout makes train mode random
    "lstm_tagger": ([(7,)], {0: 9}, False),
    "densenet": ([(2, 3, 32, 32)], {}, True),  # _DenseBlock(nn.ModuleDict), _Transition(nn.Sequential)
}
for name, (inputs, ints, train) in EXAMPLE_INPUTS.items():
    add(f"example_{name}", f"{EXAMPLES}/{name}.yaml", *inputs, ints=ints)
    if train:
        add(f"example_{name}_train", f"{EXAMPLES}/{name}.yaml", *inputs, ints=ints, train=True)
