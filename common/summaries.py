"""TensorBoard summaries under exactly the tag they are given.

`tf.summary.scalar(name, ...)` and its siblings tag a summary with the name of the op they
create, so the tag gains the enclosing name scope and, when an op of that name exists already
(a variable `LeNet/conv1/weights`, the loss `total_loss`), TensorFlow's `_1` suffix. These
functions write the summary op directly with the tag given and add it to the SUMMARIES
collection, as the tf.summary functions do, so `tf.summary.merge_all()` collects it.
"""

import tensorflow.compat.v1 as tf


def _collected(summary):
    tf.add_to_collection(tf.GraphKeys.SUMMARIES, summary)
    return summary


def scalar(tag, value):
    """The summary of `value` (a real scalar tensor) tagged `tag`."""
    return _collected(tf.raw_ops.ScalarSummary(tags=tag, values=value))


def histogram(tag, values):
    """The histogram summary of `values` (a real tensor of any shape) tagged `tag`."""
    return _collected(tf.raw_ops.HistogramSummary(tag=tag, values=values))


def image(tag, images, max_outputs):
    """The summary of the first `max_outputs` of `images` (float or uint8 [batch, height,
    width, channels]), tagged `tag/image/<index>` (`tag/image` for one image), as
    `tf.summary.image` tags them."""
    return _collected(tf.raw_ops.ImageSummary(tag=tag, tensor=images, max_images=max_outputs))
