"""Turns any image file into the RGB JPEG that TF-Slim's readers and preprocessing expect.

Raw datasets hold files that only look like JPEGs: ILSVRC-2012 has a PNG named `.JPEG`,
CMYK JPEGs and grayscale JPEGs. They are detected by content, not by name, so renamed
copies are fixed too.
"""

import dataclasses
import io

from PIL import Image

from common.errors import DataError

JPEG_QUALITY = 95


@dataclasses.dataclass(frozen=True)
class RgbJpeg:
    """An RGB JPEG. `repair` says what was converted ('PNG file', 'CMYK JPEG', ...), or None
    when the input was already an RGB JPEG and is kept byte for byte."""

    data: bytes
    height: int
    width: int
    repair: str | None


def _describe(image):
    if image.format != 'JPEG':
        return '%s file' % image.format
    if image.mode in ('L', 'LA', '1', 'I', 'I;16'):
        return 'grayscale JPEG'
    return '%s JPEG' % image.mode


def to_rgb_jpeg(data):
    """Returns the `RgbJpeg` of encoded image bytes in any format Pillow reads.

    Raises:
      ValueError: the bytes are not a complete image.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            # Decoding the whole image catches truncated files now rather than in training.
            image.load()
            if image.format == 'JPEG' and image.mode == 'RGB':
                return RgbJpeg(data, image.height, image.width, None)
            rgb = image.convert('RGB')
            buffer = io.BytesIO()
            rgb.save(buffer, 'JPEG', quality=JPEG_QUALITY)
            return RgbJpeg(buffer.getvalue(), rgb.height, rgb.width, _describe(image))
    except (OSError, SyntaxError) as error:
        raise DataError('not a readable image (%s)' % error) from error
