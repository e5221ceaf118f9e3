"""Classification metrics summed exactly over batches of logits, in numpy.

Each batch adds its outcomes to running totals, so a partial last batch counts exactly
like a full one and every example weighs the same.
"""

import numpy as np

from common import serving
from common.errors import ConfigurationError


class MetricTotals:
    """Running totals of one evaluation: a confusion matrix, top-5 hits and the summed loss.

    Args:
      num_classes: the model's number of outputs.
    """

    def __init__(self, num_classes):
        self.num_classes = num_classes
        # [true class, predicted class] -> number of examples.
        self.confusion = np.zeros([num_classes, num_classes], np.int64)
        self.top_k_hits = 0
        self.loss_sum = 0.0

    @property
    def num_examples(self):
        return int(self.confusion.sum())

    def add_batch(self, logits, labels):
        """Adds one batch: logits float [batch, num_classes], labels int [batch].

        Raises:
          ValueError: a label is not a class of the model.
        """
        labels = np.asarray(labels, np.int64)
        outside = labels[(labels < 0) | (labels >= self.num_classes)]
        if outside.size:
            raise ConfigurationError(
                'Label %d is not one of the model\'s %d classes (0 to %d): the dataset\'s labels '
                'do not fit the network. Check --labels_offset (1 for networks trained without '
                'ImageNet\'s background class) and --dataset_name.'
                % (outside[0], self.num_classes, self.num_classes - 1))
        logits = np.asarray(logits, np.float64)
        true_logits = logits[np.arange(len(labels)), labels]
        # Ties count in the label's favour, as tf.nn.in_top_k does.
        rank_of_label = np.sum(logits > true_logits[:, np.newaxis], axis=1)
        self.top_k_hits += int(np.sum(rank_of_label < serving.TOP_K))
        largest = logits.max(axis=1)
        log_normalizer = largest + np.log(np.exp(logits - largest[:, np.newaxis]).sum(axis=1))
        self.loss_sum += float(np.sum(log_normalizer - true_logits))
        np.add.at(self.confusion, (labels, np.argmax(logits, axis=1)), 1)

    def results(self):
        """{'num_examples', 'eval/Accuracy' (top-1), 'eval/Recall_5' (top-5), 'eval/mean_loss'
        (mean softmax cross-entropy), 'per_class_accuracy' (a list by class; None for a class
        without examples)}."""
        examples = self.num_examples
        per_class_examples = self.confusion.sum(axis=1)
        per_class_correct = np.diag(self.confusion)
        return {
            'num_examples': examples,
            'eval/Accuracy': float(per_class_correct.sum() / examples) if examples else 0.0,
            'eval/Recall_5': self.top_k_hits / examples if examples else 0.0,
            'eval/mean_loss': self.loss_sum / examples if examples else 0.0,
            'per_class_accuracy': [float(correct / count) if count else None
                                   for correct, count in zip(per_class_correct,
                                                             per_class_examples, strict=True)],
        }
