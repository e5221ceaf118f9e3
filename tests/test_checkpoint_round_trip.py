"""Checkpoints saved from a network restore into a fresh copy, with or without its head."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory


def _build(model_name, num_classes, image_size):
    network_fn = nets_factory.get_network_fn(model_name, num_classes, is_training=True)
    network_fn(tf.zeros([1, image_size, image_size, 3]))


def _save(model_name, num_classes, image_size, path):
    with tf.Graph().as_default(), tf.Session() as session:
        _build(model_name, num_classes, image_size)
        session.run(tf.global_variables_initializer())
        # Moving statistics start at 0/1; give them distinctive values to check they restore.
        session.run([v.assign(tf.fill(tf.shape(v), 0.25)) for v in tf.global_variables()
                     if 'moving_' in v.op.name])
        tf.train.Saver().save(session, path)
        return _values(session, tf.global_variables())


def _values(session, variables):
    """{name: value} of the variables, fetched in one run (each run of a new fetch is slow)."""
    return session.run({v.op.name: v for v in variables})


@pytest.mark.parametrize('model_name, image_size, head_scopes', [
    ('inception_v3', 299, ['InceptionV3/Logits', 'InceptionV3/AuxLogits']),
    ('resnet_v1_50', 64, ['resnet_v1_50/logits']),
    ('mobilenet_v1', 64, ['MobilenetV1/Logits']),
])
def test_round_trip_and_restore_without_the_head(tmp_path, model_name, image_size,
                                                  head_scopes):
    path = str(tmp_path / 'model.ckpt')
    saved = _save(model_name, 10, image_size, path)

    # The same architecture restores every variable exactly.
    with tf.Graph().as_default(), tf.Session() as session:
        _build(model_name, 10, image_size)
        tf.train.Saver().restore(session, path)
        for name, value in _values(session, tf.global_variables()).items():
            np.testing.assert_array_equal(value, saved[name])

    # A 1001-class copy restores everything but the head, which it cannot take.
    with tf.Graph().as_default(), tf.Session() as session:
        _build(model_name, 1001, image_size)
        with pytest.raises(tf.errors.InvalidArgumentError, match='shape'):
            tf.train.Saver().restore(session, path)
        body = slim.get_variables_to_restore(exclude=head_scopes)
        head = [v for v in tf.global_variables() if v not in body]
        assert head and all(v.op.name.startswith(tuple(head_scopes)) for v in head)
        session.run(tf.variables_initializer(head))
        tf.train.Saver(body).restore(session, path)
        for name, value in _values(session, body).items():
            np.testing.assert_array_equal(value, saved[name])
