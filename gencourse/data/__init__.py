"""Data: MNIST held in memory on the device, and 2-D toy distributions made in code."""

from gencourse.data.batches import Batches
from gencourse.data.mnist import DATA_ENV, binarize, data_root, dequantize, load_mnist
from gencourse.data.toy import TOY_DATASETS, sample_toy

__all__ = [
    "Batches",
    "DATA_ENV",
    "TOY_DATASETS",
    "binarize",
    "data_root",
    "dequantize",
    "load_mnist",
    "sample_toy",
]
