"""checkpoint_mismatches: how a saved checkpoint differs from the variables it should fill."""

import tensorflow.compat.v1 as tf

from common import checkpoints


def _save_checkpoint(directory, names_to_shapes):
    """Saves zero-filled variables {name: shape} and returns the checkpoint prefix."""
    with tf.Graph().as_default():
        for name, shape in names_to_shapes.items():
            tf.get_variable(name, shape, initializer=tf.zeros_initializer())
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return tf.train.Saver().save(session, str(directory / 'model.ckpt'))


def test_lists_other_shapes_and_missing_names_sorted_and_ignores_extra_checkpoint_variables(
        tmp_path):
    checkpoint = _save_checkpoint(tmp_path, {'net/fits': [2, 3], 'net/logits': [8, 10],
                                             'net/bias': [10], 'unused': [1]})
    with tf.Graph().as_default():
        model_shapes = {'net/logits': [8, 9], 'net/new': [4], 'net/fits': [2, 3],
                        'net/bias': [9], 'net/also_new': [1, 1]}
        names_to_variables = {name: tf.get_variable(name, shape)
                              for name, shape in model_shapes.items()}
        # The checkpoint name, not the variable's own, is what is looked up.
        names_to_variables['net/fits/Average'] = tf.get_variable('average', [2, 3])

        shape_mismatches, missing = checkpoints.checkpoint_mismatches(
            checkpoint, names_to_variables)

    assert shape_mismatches == [('net/bias', [10], [9]), ('net/logits', [8, 10], [8, 9])]
    assert missing == ['net/also_new', 'net/fits/Average', 'net/new']


def test_a_fitting_model_has_no_mismatches(tmp_path):
    checkpoint = _save_checkpoint(tmp_path, {'net/weights': [3, 2], 'net/scalar': []})
    with tf.Graph().as_default():
        names_to_variables = {'net/weights': tf.get_variable('w', [3, 2]),
                              'net/scalar': tf.get_variable('s', [])}
        assert checkpoints.checkpoint_mismatches(checkpoint, names_to_variables) == ([], [])
