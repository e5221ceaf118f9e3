"""tf.data input pipelines: TFRecord shards -> decoded, preprocessed, batched images."""

import tensorflow.compat.v1 as tf

from preprocessing import preprocessing_factory

AUTOTUNE = tf.data.experimental.AUTOTUNE

_BBOX_KEYS = ('ymin', 'xmin', 'ymax', 'xmax')


def parse_example(serialized, image_channels=3):
    """Decodes one TF-Slim example.

    Returns:
      {'image': uint8 [height, width, image_channels], 'label': int64 [],
       'bbox': float32 [1, num_boxes, 4] as (ymin, xmin, ymax, xmax)}.
    """
    keys_to_features = {
        'image/encoded': tf.io.FixedLenFeature((), tf.string),
        'image/class/label': tf.io.FixedLenFeature((), tf.int64),
    }
    for key in _BBOX_KEYS:
        keys_to_features['image/object/bbox/' + key] = tf.io.VarLenFeature(tf.float32)
    features = tf.io.parse_single_example(serialized, keys_to_features)
    # decode_image reads JPEG, PNG, GIF and BMP alike, so `image/format` needs no check.
    image = tf.io.decode_image(features['image/encoded'], channels=image_channels,
                               expand_animations=False)
    image.set_shape([None, None, image_channels])
    corners = [tf.sparse.to_dense(features['image/object/bbox/' + key]) for key in _BBOX_KEYS]
    bbox = tf.expand_dims(tf.stack(corners, axis=1), 0)
    return {'image': image, 'label': features['image/class/label'], 'bbox': bbox}


def read_records(data_files, is_training, num_readers=None, seed=None):
    """A dataset of serialized examples: every file once, or shuffled files forever in training."""
    files = tf.data.Dataset.from_tensor_slices(data_files)
    if is_training:
        files = files.shuffle(len(data_files), seed=seed, reshuffle_each_iteration=True).repeat()
    cycle_length = min(num_readers or 4, len(data_files))
    return files.interleave(
        tf.data.TFRecordDataset, cycle_length=cycle_length, num_parallel_calls=cycle_length,
        deterministic=not is_training or seed is not None)


def batched_images(dataset_split, preprocessing_name, is_training, image_size, batch_size,
                   labels_offset=0, num_readers=None, num_preprocessing_threads=None,
                   use_grayscale=False, shuffle_buffer_size=4096, seed=None):
    """Builds the input pipeline of one dataset split.

    In training the files and examples are shuffled, the data repeats forever and every
    batch is full. In evaluation every example is read exactly once, in file order, and the
    last batch may be smaller.

    Args:
      dataset_split: a `dataset_utils.DatasetSplit`.
      preprocessing_name: a name known to `preprocessing_factory`.
      image_size: the side of the square images fed to the network.
      labels_offset: subtracted from every label (1 maps ImageNet's 1001 labels to 1000).
    Returns:
      A tf.data.Dataset of (images float32 [batch, image_size, image_size, channels],
      labels int64 [batch]).
    """
    preprocess = preprocessing_factory.get_preprocessing(
        preprocessing_name, is_training=is_training, use_grayscale=use_grayscale)
    uses_bounding_boxes = preprocessing_factory.uses_bounding_boxes(preprocessing_name)
    image_channels = dataset_split.image_channels

    def decode_and_preprocess(serialized):
        example = parse_example(serialized, image_channels)
        arguments = {'bbox': example['bbox']} if uses_bounding_boxes else {}
        # Summary ops cannot live inside a tf.data function; training logs its own.
        image = preprocess(example['image'], image_size, image_size, add_image_summaries=False,
                           **arguments)
        return image, example['label'] - labels_offset

    records = read_records(dataset_split.data_files(), is_training, num_readers, seed)
    if is_training:
        records = records.shuffle(shuffle_buffer_size, seed=seed)
    batches = records.map(decode_and_preprocess,
                          num_parallel_calls=num_preprocessing_threads or AUTOTUNE,
                          deterministic=not is_training or seed is not None)
    batches = batches.batch(batch_size, drop_remainder=is_training)
    return batches.prefetch(AUTOTUNE)
