"""Decoding encoded images: in full, or only the window that preprocessing keeps.

A JPEG's size is in its header, so a crop window can be chosen before any pixel is
decoded, and libjpeg then decodes only the rows and blocks of that window. Other formats
(PNG, GIF, BMP) are decoded in full and the window sliced out.
"""

import tensorflow.compat.v1 as tf

# Columns decoded on either side of a JPEG window: an MCU, the unit of chroma subsampling
# (16 pixels for 4:2:0, ImageNet's usual layout).
_JPEG_MARGIN = 16


def decode_image(encoded, image_channels):
    """uint8 [height, width, image_channels] from JPEG, PNG, GIF or BMP bytes (string [])."""
    # decode_image reads every format alike, so a record's `image/format` needs no check.
    image = tf.io.decode_image(encoded, channels=image_channels, expand_animations=False)
    image.set_shape([None, None, image_channels])
    return image


def decode_window(encoded, image_channels, choose_window):
    """uint8 [h, w, image_channels]: the window of the encoded image (string []) that
    `choose_window` picks, decoding only that window when the bytes are a JPEG.

    `choose_window(image_shape)` maps the image's int32 [3] shape (height, width, channels
    of the file) to int32 [3] `begin` and `size` as `tf.slice` takes them (size[2] may be
    -1). It is called once, whatever the format, so its random ops draw once per image.
    The pixels equal `tf.slice` of `decode_image` (tested for baseline and progressive JPEGs).
    """
    is_jpeg = tf.io.is_jpeg(encoded)
    # Only other formats are decoded here; a JPEG gives an empty image and its header's shape.
    full_image, image_shape = tf.cond(
        is_jpeg,
        lambda: (tf.zeros([0, 0, image_channels], tf.uint8), tf.image.extract_jpeg_shape(encoded)),
        lambda: _with_shape(decode_image(encoded, image_channels)))
    begin, size = choose_window(image_shape)

    def decode_jpeg_window():
        # libjpeg upsamples the chroma of a decoded window's first and last columns as if they
        # were the image's edges; decoding a margin on either side keeps the window exact.
        left = tf.maximum(begin[1] - _JPEG_MARGIN, 0)
        right = tf.minimum(begin[1] + size[1] + _JPEG_MARGIN, image_shape[1])
        widened = tf.image.decode_and_crop_jpeg(
            encoded, tf.stack([begin[0], left, size[0], right - left]), channels=image_channels)
        return widened[:, begin[1] - left:begin[1] - left + size[1]]

    window = tf.cond(is_jpeg, decode_jpeg_window,
                     lambda: tf.slice(full_image, begin, [size[0], size[1], -1]))
    window.set_shape([None, None, image_channels])
    return window


def _with_shape(image):
    return image, tf.shape(image)
