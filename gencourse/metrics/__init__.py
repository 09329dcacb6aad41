"""Sample-quality metrics of the whole course, judged by an MNIST classifier trained here."""

from gencourse.metrics.classifier import MNISTClassifier, accuracy, classify, load_classifier
from gencourse.metrics.mmd import MMDTest, mmd_test
from gencourse.metrics.sample_quality import (
    checkpoint_table,
    classifier_fid,
    classifier_inception_score,
    draw_samples,
    floors,
    format_table,
    frechet_distance,
    gaussian_statistics,
    inception_score,
    inception_score_terms,
    real_data_floors,
    reference_statistics,
    sample_quality,
    score_sampler,
)

__all__ = [
    "MMDTest",
    "MNISTClassifier",
    "accuracy",
    "classifier_fid",
    "checkpoint_table",
    "classifier_inception_score",
    "classify",
    "draw_samples",
    "floors",
    "format_table",
    "frechet_distance",
    "gaussian_statistics",
    "inception_score",
    "inception_score_terms",
    "load_classifier",
    "mmd_test",
    "real_data_floors",
    "reference_statistics",
    "sample_quality",
    "score_sampler",
]
