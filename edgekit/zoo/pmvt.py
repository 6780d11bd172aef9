"""PMVT (Li et al., 'PMVT: a lightweight vision transformer for plant disease identification on
mobile devices', Frontiers in Plant Science 14, 2023, doi:10.3389/fpls.2023.1256773).

What the paper says, as far as edgekit could read it. Only the abstract could be read when this
was checked (December 2026): searches of the article's copies (Frontiers HTML, text and XML)
returned its title and abstract only, and no official implementation was found. It states:

- the convolution block of MobileViT is replaced with "an inverted residual structure that
  employs a 7x7 convolution kernel", to model dependencies between distant leaves;
- a CBAM module is integrated "into the standard ViT encoder" (Woo et al., ECCV 2018: channel
  attention from average- and max-pooled features through a shared two-layer MLP, then spatial
  attention from a 7x7 conv over the channel-wise mean and max);
- on its wheat dataset PMVT reaches 93.6 % accuracy with "approximately 0.98 million (M)
  parameters"; with the same parameters 85.4 % on coffee and 93.1 % on rice.

Everything else below is edgekit's reading. FIXME: check each NOTE against the article's
architecture section and table (channels per stage, block list, where CBAM sits, its ratio)
and its training setup, once the full text can be read; the graph is unchanged until then.

- Channels, transformer dims, depths, 2x2 patches, 4 heads, SiLU, last 1x1 conv to 320:
  MobileViT-XXS (see `edgekit.zoo.mobilevit`).
  NOTE: assumed from the parameter count. Only XXS lands near the abstract's 0.98 M with a
  few-class head: edgekit counts 0.957 M for plain XXS, 0.974 M with the 7x7 kernels only,
  0.966 M with CBAM only, and 0.983 M with both; the XS or S channels would give 2-5 M.
- 7x7 kernels: the abstract's "convolution block" is read as the MV2 blocks, whose depthwise
  kernel goes from 3x3 to 7x7 (they already are inverted residuals); expansion 2, XXS's. The
  3x3 convs of the stem and of the MobileViT blocks' local representation and fusion are kept.
  NOTE: assumed; the abstract does not say which convolution block, nor the expansion.
- CBAM: applied to the attention output of every encoder layer, before its residual addition,
  on the tokens laid back out as an image (fold, CBAM, unfold), so its 7x7 spatial attention
  sees neighbouring patches. Reduction ratio 16 (at least 1 hidden unit), MLP with biases,
  spatial conv without bias followed by BatchNorm, as in the CBAM reference.
  NOTE: assumed; the abstract places CBAM "into the standard ViT encoder" and no more.
- Input 256x256 and pixels scaled to [0, 1]: MobileViT's. NOTE: assumed.
- Head: edgekit's own (global average pooling, one dense layer), as for every backbone.
  NOTE: assumed; the number of wheat classes behind the 0.98 M is not in the abstract, so
  `PUBLISHED_NUM_CLASSES` stands for "a handful".

PARAMETER COUNT: 0.982 M backbone; 0.983 M with a 5-class head; 1.303 M with an ImageNet-1k
head (the 1000-class dense layer alone is 0.32 M). The paper's 0.98 M is a wheat-dataset
figure, so edgekit checks it against the backbone with a few-class head, not the ImageNet head.
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
_PUBLISHED = "Li et al. 2023, abstract (the model on its wheat dataset, few classes)"
PUBLISHED_PARAMS = 980_000
# The published count includes the wheat dataset's head, whose class count the abstract does
# not give; 5 classes stands for "a handful".
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
