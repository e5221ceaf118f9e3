"""Builds the Visual Wake Words dataset from COCO 2014: does an image show a person?

Every image of COCO's train2014 and val2014 becomes one example of split `train` or `val`.
Its label is 1 when an object of the class of interest (default: person) covers more than
`small_object_area_threshold` of the image area (COCO's segmentation area over height x
width), else 0; the boxes of those objects are kept, normalised to [0, 1]. Output, as TF-Slim
names it: train.record-00000-of-00100 .. (100 shards), val.record-00000-of-00010 .. (10).
"""

import os

import tensorflow.compat.v1 as tf

from common import files
from common.errors import ConfigurationError, DataError
from datasets import conversion, dataset_utils, download, visualwakewords

# Plain http, as COCO publishes them and TFDS fetches them; the SHA-256 check makes up for it.
URLS = ['http://images.cocodataset.org/zips/train2014.zip',
        'http://images.cocodataset.org/zips/val2014.zip',
        'http://images.cocodataset.org/annotations/annotations_trainval2014.zip']
TFDS_CHECKSUMS = 'url_checksums/coco2014.txt'
# {split: (image folder, annotations file, number of shards)}
SPLITS = {'train': ('train2014', 'annotations/instances_train2014.json', 100),
          'val': ('val2014', 'annotations/instances_val2014.json', 10)}
SHARD_NAME = '%s.record-%05d-of-%05d'
EXPECTED_ARCHIVE = ('a directory holding COCO 2014 as extracted (train2014/, val2014/, '
                    'annotations/instances_{train,val}2014.json) or its three zips '
                    '(train2014.zip, val2014.zip, annotations_trainval2014.zip).')


def downloads():
    """{URL: download.Digest} of the three zips the download fetches, as TFDS records them."""
    return {url: download.tfds_digest(TFDS_CHECKSUMS, url) for url in URLS}


def _split_paths(dataset_dir):
    return {split: conversion.shard_paths(dataset_dir, SHARD_NAME, split, num_shards)
            for split, (_, _, num_shards) in SPLITS.items()}


def _category_id(categories, class_name, annotations_path):
    for category in categories:
        if category['name'] == class_name:
            return category['id']
    raise ConfigurationError(
        'No COCO category %r in %s; set --foreground_class_of_interest to one of: %s.'
        % (class_name, annotations_path, ', '.join(sorted(c['name'] for c in categories))))


def _normalised_box(bbox, height, width):
    """COCO's pixel [x, y, box width, box height] as (ymin, xmin, ymax, xmax) in [0, 1]."""
    x, y, box_width, box_height = bbox
    corners = (y / height, x / width, (y + box_height) / height, (x + box_width) / width)
    return tuple(min(max(float(corner), 0.0), 1.0) for corner in corners)


def label_images(annotations, image_dir, class_id, small_object_area_threshold):
    """[(image path, label, boxes)] of every image of a COCO instances file, in its order.

    Args:
      annotations: the parsed instances JSON ('images', 'annotations').
      class_id: the category id of the class of interest.
    """
    objects_by_image = {}
    for annotation in annotations['annotations']:
        objects_by_image.setdefault(annotation['image_id'], []).append(annotation)
    labelled = []
    for image in annotations['images']:
        height, width = image['height'], image['width']
        boxes = tuple(
            _normalised_box(annotation['bbox'], height, width)
            for annotation in objects_by_image.get(image['id'], [])
            if annotation['category_id'] == class_id
            and annotation['area'] / (height * width) > small_object_area_threshold)
        labelled.append((os.path.join(image_dir, image['file_name']), int(bool(boxes)), boxes))
    return labelled


def _check_images_exist(labelled, image_dir, annotations_path):
    # One listing, not a look-up per image: on cloud storage each look-up is a request.
    present = set(tf.io.gfile.listdir(image_dir))
    missing = [path for path, _, _ in labelled if os.path.basename(path) not in present]
    if missing:
        raise DataError(
            '%d image(s) listed in %s are missing (first: %s). Extract the complete COCO 2014 '
            'image zips.' % (len(missing), annotations_path, missing[0]))


def make_example(labelled_image):
    """The serialized example of an (image path, label, boxes) triple."""
    path, label, boxes = labelled_image
    image = conversion.read_rgb_jpeg(path)
    return dataset_utils.image_to_tfexample(
        image.data, b'jpeg', image.height, image.width, label,
        bboxes=list(boxes)).SerializeToString()


def run(dataset_dir, archive=None, small_object_area_threshold=0.005,
        foreground_class_of_interest='person', skip_checksum=False):
    """Writes the train and val shards, labels.txt and dataset_metadata.json to `dataset_dir`.

    Args:
      archive: a directory holding COCO 2014 extracted or zipped; None downloads the zips
        (about 19 GB).
      small_object_area_threshold: objects covering at most this fraction of the image are
        ignored.
      foreground_class_of_interest: the COCO category name whose presence makes label 1.
      skip_checksum: convert zips whose SHA-256 is wrong, and unpack zips of other names,
        with a warning.
    Raises:
      UserError, ValueError: a bad `archive`, an unknown category, or missing images; the
        message names the input and the fix.
    """
    split_paths = _split_paths(dataset_dir)
    if conversion.is_converted(dataset_dir, split_paths):
        return
    required = [path for image_dir, annotations_file, _ in SPLITS.values()
                for path in (image_dir, annotations_file)]
    with download.raw_files(dataset_dir, archive, downloads(), required, EXPECTED_ARCHIVE,
                            skip_checksum) as paths:
        split_shards = {}
        for split, (image_dir, annotations_file, _) in SPLITS.items():
            annotations_path = paths[annotations_file]
            annotations = files.read_json_file(annotations_path)
            class_id = _category_id(annotations['categories'], foreground_class_of_interest,
                                    annotations_path)
            labelled = label_images(annotations, paths[image_dir], class_id,
                                    small_object_area_threshold)
            _check_images_exist(labelled, paths[image_dir], annotations_path)
            print('%s: %d of %d images show a %s.' % (
                split, sum(label for _, label, _ in labelled), len(labelled),
                foreground_class_of_interest))
            split_shards[split] = conversion.plan_shards(split_paths[split], labelled)
        conversion.write_dataset(
            dataset_dir, visualwakewords.FILE_PATTERN, split_shards, make_example,
            {0: 'background', 1: foreground_class_of_interest})
