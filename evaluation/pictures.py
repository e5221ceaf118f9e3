"""Pictures of one checkpoint's evaluation for TensorBoard, drawn after its evaluation loop.

  eval/confusion_matrix      image: a heat map of the confusion matrix, each row divided by its
                             true class's examples; with more than MAX_NAMED_CLASSES classes,
                             only the TOP_CONFUSED_CLASSES classes with most confusions
  eval/per_class_accuracy    image: each class's accuracy (recall) as bars, worst first; with
                             more than MAX_NAMED_CLASSES classes, the WORST_CLASSES worst
  eval/confused_pairs        text: a markdown table of the most frequent (true, predicted) pairs
  eval/misclassified         image: up to MAX_MISCLASSIFIED misclassified images, with their
                             true and predicted classes (none when nothing was misclassified)
  eval/pr_curves/<i>_<name>  one precision-recall curve per class (TensorBoard's pr_curve
                             plugin), with at most MAX_NAMED_CLASSES classes

The loop feeds an `EvaluatedExamples` each batch; `summary` draws them with matplotlib's Agg
renderer (no display, no global pyplot state) and returns one tf.Summary.
"""

import io
import math
import re

import numpy as np
import tensorflow.compat.v1 as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont
from tensorboard.plugins.pr_curve import summary as pr_curve_summary
from tensorboard.plugins.text import summary as text_summary

# Up to this many classes, the confusion matrix shows every class with its name and each class
# gets a precision-recall curve (which needs every example's probabilities in memory).
MAX_NAMED_CLASSES = 50
# Beyond it, the confusion matrix shows the classes with most confusions, the bar chart the
# worst classes.
TOP_CONFUSED_CLASSES = 20
WORST_CLASSES = 30
MAX_MISCLASSIFIED = 16
MAX_CONFUSED_PAIRS = 10

# Pixels of a misclassified image's tile, wide and high: the image and two lines of title.
MISCLASSIFIED_TILE = (200, 240)
MISCLASSIFIED_COLUMNS = 4

_DPI = 100
_TILE_MARGIN = 6
_TITLE_FONT_SIZE = 13
_LONGEST_NAME = 24


class EvaluatedExamples:
    """What the pictures need of one evaluation beyond its confusion matrix: the first
    MAX_MISCLASSIFIED misclassified images with their true and predicted classes, and with at
    most MAX_NAMED_CLASSES classes every example's label and class probabilities.

    Args:
      num_classes: the model's number of outputs.
    """

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.keeps_probabilities = num_classes <= MAX_NAMED_CLASSES
        # [(image float [H, W, C], true class, predicted class)], in reading order.
        self.misclassified = []
        self._labels = []
        self._probabilities = []

    @property
    def wants_images(self):
        """Whether the next batch's images are wanted: fewer than MAX_MISCLASSIFIED are kept."""
        return len(self.misclassified) < MAX_MISCLASSIFIED

    def add_batch(self, logits, labels, images=None):
        """Adds one batch: logits float [batch, num_classes], labels int [batch] and, while
        `wants_images`, its images float [batch, H, W, C] (None otherwise)."""
        labels = np.asarray(labels, np.int64)
        if images is not None:
            predictions = np.argmax(logits, axis=1)
            wrong = np.flatnonzero(predictions != labels)
            self.misclassified.extend(
                (images[index], int(labels[index]), int(predictions[index]))
                for index in wrong[:MAX_MISCLASSIFIED - len(self.misclassified)])
        if self.keeps_probabilities:
            logits = np.asarray(logits, np.float64)
            exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
            self._labels.append(labels)
            self._probabilities.append(
                (exponentials / exponentials.sum(axis=1, keepdims=True)).astype(np.float32))

    def labels_and_probabilities(self):
        """(int [examples], float32 [examples, num_classes]) of every example added, or None
        without `keeps_probabilities`."""
        if not self.keeps_probabilities:
            return None
        if not self._labels:
            return np.zeros([0], np.int64), np.zeros([0, self.num_classes], np.float32)
        return np.concatenate(self._labels), np.concatenate(self._probabilities)


def summary(confusion, class_names, examples=None):
    """One tf.Summary of the pictures (see the module docstring) of an evaluation with
    `confusion` int [true, predicted] and `class_names` (one per class); its `examples` (an
    `EvaluatedExamples`) add the misclassified images and precision-recall curves."""
    values = [
        _image_value('eval/confusion_matrix', confusion_matrix_png(confusion, class_names)),
        _image_value('eval/per_class_accuracy', per_class_accuracy_png(confusion, class_names)),
        _retagged(text_summary.pb('eval/confused_pairs',
                                  confused_pairs_markdown(confusion, class_names)),
                  'eval/confused_pairs'),
    ]
    if examples is None:
        return tf.Summary(value=values)
    if examples.misclassified:
        values.append(_image_value('eval/misclassified',
                                   misclassified_png(examples.misclassified, class_names)))
    labels_and_probabilities = examples.labels_and_probabilities()
    if labels_and_probabilities is not None:
        values += pr_curve_values(*labels_and_probabilities, class_names)
    return tf.Summary(value=values)


def _retagged(plugin_summary, tag):
    """The one value of a TensorBoard plugin's `pb` summary, under `tag` instead of the
    plugin's suffixed tag (TF2's summaries, too, use the name as it is)."""
    (value,) = plugin_summary.value
    value.tag = tag
    return value


def png_size(png):
    """(width, height) in pixels of the PNG `png` (bytes), from its header."""
    return int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')


# tf.Summary.Image's colorspace (number of channels) of a PNG's colour type: grey, RGB, grey
# and alpha, RGBA.
_COLORSPACE_OF_PNG_COLOUR_TYPE = {0: 1, 2: 3, 4: 2, 6: 4}


def _image_value(tag, png):
    width, height = png_size(png)
    return tf.Summary.Value(tag=tag, image=tf.Summary.Image(
        height=height, width=width, colorspace=_COLORSPACE_OF_PNG_COLOUR_TYPE[png[25]],
        encoded_image_string=png))


def _png(figure):
    """The PNG bytes of `figure`, exactly its size in inches times _DPI pixels."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=_DPI)
    return buffer.getvalue()


def _short(name):
    return name if len(name) <= _LONGEST_NAME else name[:_LONGEST_NAME - 1] + '\u2026'


def confusion_figure_inches(num_shown):
    """The side in inches of the square confusion-matrix image showing `num_shown` classes."""
    return 3.5 + 0.25 * num_shown


def most_confused_classes(confusion, count):
    """int [min(count, classes)]: the `count` classes with most confusions, as true class or
    predicted class, in class order."""
    wrong = confusion - np.diag(np.diag(confusion))
    confusions = wrong.sum(axis=0) + wrong.sum(axis=1)
    # A stable sort: among equally confused classes, the lower class numbers.
    return np.sort(np.argsort(-confusions, kind='stable')[:count])


def confusion_matrix_png(confusion, class_names):
    """A heat map of `confusion` int [true, predicted]: each cell is its share of the true
    class's examples. Every class with its name up to MAX_NAMED_CLASSES classes, else the
    TOP_CONFUSED_CLASSES with most confusions."""
    num_classes = len(class_names)
    if num_classes <= MAX_NAMED_CLASSES:
        shown = np.arange(num_classes)
        title = 'Confusion matrix'
    else:
        shown = most_confused_classes(confusion, TOP_CONFUSED_CLASSES)
        title = 'The %d of %d classes with most confusions' % (len(shown), num_classes)
    examples_per_class = np.maximum(confusion.sum(axis=1), 1)
    percents = 100 * confusion[np.ix_(shown, shown)] / examples_per_class[shown, np.newaxis]
    side = confusion_figure_inches(len(shown))
    figure = Figure(figsize=(side, side), layout='constrained')
    axes = figure.add_subplot()
    heat_map = axes.imshow(percents, cmap='Blues', vmin=0.0, vmax=100.0)
    figure.colorbar(heat_map, ax=axes, shrink=0.8, label='% of the true class')
    names = [_short(class_names[index]) for index in shown]
    axes.set_xticks(range(len(shown)), names, rotation=90, fontsize=8)
    axes.set_yticks(range(len(shown)), names, fontsize=8)
    axes.set_xlabel('predicted class')
    axes.set_ylabel('true class')
    axes.set_title(title, fontsize=10)
    if len(shown) <= TOP_CONFUSED_CLASSES:
        for row, column in zip(*np.nonzero(percents), strict=True):
            percent = percents[row, column]
            axes.text(column, row, '%.0f' % percent if percent >= 0.5 else '<1', ha='center',
                      va='center', fontsize=7, color='white' if percent > 50 else 'black')
    return _png(figure)


def per_class_accuracy_png(confusion, class_names):
    """Horizontal bars of each class's accuracy (recall) in `confusion` int [true, predicted],
    worst at the top; the WORST_CLASSES worst beyond MAX_NAMED_CLASSES classes. Classes
    without examples are left out."""
    examples_per_class = confusion.sum(axis=1)
    evaluated = np.flatnonzero(examples_per_class)
    recall = np.diag(confusion)[evaluated] / examples_per_class[evaluated]
    order = np.argsort(recall, kind='stable')
    if len(class_names) > MAX_NAMED_CLASSES:
        order = order[:WORST_CLASSES]
        title = 'The %d worst of %d classes' % (len(order), len(evaluated))
    else:
        title = 'Per-class accuracy, worst first'
    figure = Figure(figsize=(8.0, 1.5 + 0.25 * max(len(order), 1)), layout='constrained')
    axes = figure.add_subplot()
    positions = np.arange(len(order))
    axes.barh(positions, recall[order], color=[_recall_colour(value) for value in recall[order]])
    axes.set_yticks(positions, [_short(class_names[index]) for index in evaluated[order]],
                    fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0.0, 1.08)
    axes.set_xlabel('accuracy (recall): share of the class\'s examples predicted as it')
    axes.set_title(title, fontsize=10)
    for position, value in zip(positions, recall[order], strict=True):
        axes.text(value + 0.01, position, '%.1f%%' % (100 * value), va='center', fontsize=7)
    return _png(figure)


def _recall_colour(value):
    """Red for 0, through yellow, to green for 1."""
    return (min(1.0, 2.0 - 2.0 * value), min(1.0, 2.0 * value), 0.2)


def confused_pairs(confusion):
    """[(true class, predicted class, count)] of the MAX_CONFUSED_PAIRS most frequent
    misclassifications in `confusion` int [true, predicted]: by count, then by share of the
    true class."""
    wrong = confusion - np.diag(np.diag(confusion))
    true_classes, predicted_classes = np.nonzero(wrong)
    counts = wrong[true_classes, predicted_classes]
    shares = counts / confusion.sum(axis=1)[true_classes]
    order = np.lexsort((predicted_classes, true_classes, -shares, -counts))
    return [(int(true_classes[index]), int(predicted_classes[index]), int(counts[index]))
            for index in order[:MAX_CONFUSED_PAIRS]]


def confused_pairs_markdown(confusion, class_names):
    """A markdown table of `confused_pairs(confusion)`: true, predicted, count and share of
    the true class's examples."""
    examples_per_class = confusion.sum(axis=1)
    misclassified = int(confusion.sum() - np.trace(confusion))
    lines = ['%d of %d examples misclassified.' % (misclassified, confusion.sum())]
    pairs = confused_pairs(confusion)
    if pairs:
        lines += ['', '| true class | predicted class | count | share of the true class |',
                  '| --- | --- | ---: | ---: |']
        lines += ['| %s | %s | %d | %.1f%% |' % (
            _markdown_cell(class_names[true]), _markdown_cell(class_names[predicted]), count,
            100 * count / examples_per_class[true]) for true, predicted, count in pairs]
    return '\n'.join(lines)


def _markdown_cell(text):
    return text.replace('\\', '\\\\').replace('|', '\\|')


def misclassified_png(misclassified, class_names):
    """A grid of `misclassified` [(image float [H, W, C], true class, predicted class)], at
    most MISCLASSIFIED_COLUMNS a row, each image titled with its true and predicted classes.

    Each tile is MISCLASSIFIED_TILE (width, height) pixels. Each image is min-max scaled to
    the full range of grey levels (preprocessing leaves it in [-1, 1] or [0, 1]) and enlarged
    without smoothing, so small images keep their pixels. Drawn with Pillow: sixteen
    matplotlib axes would take half a second.
    """
    columns = min(len(misclassified), MISCLASSIFIED_COLUMNS)
    rows = math.ceil(len(misclassified) / MISCLASSIFIED_COLUMNS)
    tile_width, tile_height = MISCLASSIFIED_TILE
    side = tile_width - 2 * _TILE_MARGIN
    grid = Image.new('RGB', (columns * tile_width, rows * tile_height), 'white')
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=_TITLE_FONT_SIZE)
    for index, (image, true, predicted) in enumerate(misclassified):
        left = index % columns * tile_width
        top = index // columns * tile_height
        title = [_fitted('%s: %s' % (kind, class_names[label]), font, side)
                 for kind, label in (('true', true), ('predicted', predicted))]
        draw.multiline_text((left + tile_width // 2, top + _TILE_MARGIN), '\n'.join(title),
                            fill='black', font=font, anchor='ma', align='center')
        grid.paste(_displayable(image).resize((side, side), Image.Resampling.NEAREST),
                   (left + _TILE_MARGIN, top + tile_height - _TILE_MARGIN - side))
    buffer = io.BytesIO()
    grid.save(buffer, format='png')
    return buffer.getvalue()


def _fitted(text, font, width):
    """`text`, shortened with an ellipsis if need be to at most `width` pixels in `font`."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + '\u2026') > width:
        text = text[:-1]
    return text + '\u2026'


def _displayable(image):
    """A Pillow image of `image` float [H, W, 1 or 3], min-max scaled to 0-255."""
    image = np.asarray(image, np.float64)
    low, high = image.min(), image.max()
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    pixels = np.round(255 * scaled).astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def pr_curve_values(labels, probabilities, class_names):
    """One precision-recall curve value per class (tag eval/pr_curves/<index>_<name>) from
    every example's labels int [examples] and probabilities float [examples, classes]."""
    digits = len(str(len(class_names) - 1))
    values = []
    for index, name in enumerate(class_names):
        tag = 'eval/pr_curves/%0*d_%s' % (digits, index, re.sub(r'[^\w.-]', '_', name))
        values.append(_retagged(pr_curve_summary.pb(
            tag, labels=labels == index, predictions=probabilities[:, index],
            display_name=name), tag))
    return values
