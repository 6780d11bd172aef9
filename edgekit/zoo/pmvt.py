"""PMVT (Li et al., 'PMVT: a lightweight vision transformer for plant disease identification on
mobile devices', Frontiers in Plant Science 14, 2023, doi:10.3389/fpls.2023.1256773).

PMVT is MobileViT with two changes the paper states: every MV2 block becomes an inverted
residual with a 7x7 depthwise kernel (to see across several leaves), and a CBAM module
(Woo et al., ECCV 2018: channel attention from average- and max-pooled features through a
shared two-layer MLP, then spatial attention from a 7x7 conv over channel-wise mean and max)
sits inside each transformer encoder layer.

Configuration used here, and where each part comes from. NOTE: only the paper's abstract and
its description of the two changes could be consulted while writing this (no network access
to the full text's tables); every detail below that is not one of those two changes is an
assumption, marked as such, to check against the paper's architecture table.

- Channels, transformer dims, depths, 2x2 patches, 4 heads, SiLU, last 1x1 conv to 320:
  MobileViT-XXS (see `edgekit.zoo.mobilevit`).
  NOTE: assumed from the parameter count. The paper reports about 0.98 M parameters on its
  plant datasets (a handful of classes); MobileViT-XXS's backbone is 0.955 M, and the 7x7
  kernels and CBAM add 0.03 M, which lands on 0.98 M with a few-class head. The XS or S
  channels would give 2-5 M.
- MV2 blocks: 7x7 depthwise kernels, as the paper states; expansion 2, XXS's (assumed). The
  3x3 convs of the stem and of the MobileViT blocks' local representation and fusion are kept.
  NOTE: assumed; the paper names only the MV2 blocks.
- CBAM: applied to the attention output of every encoder layer, before its residual addition,
  on the tokens laid back out as an image (fold, CBAM, unfold), so its 7x7 spatial attention
  sees neighbouring patches. Reduction ratio 16 (at least 1 hidden unit), MLP with biases,
  spatial conv without bias followed by BatchNorm, as in the CBAM reference.
  NOTE: assumed; the paper places CBAM "in the ViT encoder" without the exact position.

PARAMETER COUNT: 0.983 M with a 4-class head; 1.303 M with an ImageNet-1k head (the 1000-class
dense layer alone is 0.32 M). The paper's 0.98 M is a plant-dataset figure, so edgekit checks it
against the backbone with a few-class head (`PUBLISHED_NUM_CLASSES`), not the ImageNet head.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from edgekit.zoo.mobilevit import CONFIGS, DEFAULT_SIZE, INPUT_MULTIPLE, mobilevit
from edgekit.zoo.registry import register_from_scratch

_SOURCE = (
    "edgekit, plain Keras (Li et al., 'PMVT', Frontiers in Plant Science 2023; "
    "assumptions in edgekit/zoo/pmvt.py)"
)
_PUBLISHED = "Li et al. 2023, abstract (the model on its plant datasets, few classes)"
PUBLISHED_PARAMS = 980_000
# The published count is for a plant dataset's head; 5 classes stands for "a handful".
PUBLISHED_NUM_CLASSES = 5

CONFIG = replace(CONFIGS["mobilevit-xxs"], depthwise_kernel=7, cbam=True)


register_from_scratch(
    "pmvt",
    partial(mobilevit, config=CONFIG, name="pmvt"),
    source=_SOURCE,
    published_params=PUBLISHED_PARAMS,
    published_source=_PUBLISHED,
    default_size=DEFAULT_SIZE,
    input_multiple=INPUT_MULTIPLE,
    backbone_params=981_796,
    num_features=CONFIG.last_filters,
)
