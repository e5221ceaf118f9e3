"""The input settings training and evaluation share, with TF-Slim's flag names and defaults."""

import dataclasses

from datasets import input_pipeline
from flag_options import option
from option_groups import DatasetOptions, GrayscaleOptions, ModelOptions, OptionGroup


@dataclasses.dataclass
class ReaderOptions(OptionGroup):
    """How the input pipeline reads a split. TF-Slim's defaults for the reader and thread
    counts were 4; by default tf.data now tunes them to the machine."""

    num_readers: int | None = option(
        None, 'The number of parallel readers that read data from the dataset (files read at '
        'once; default: AUTOTUNE).', minimum=1)
    num_preprocessing_threads: int | None = option(
        None, 'The number of threads used to create the batches (records decoded and '
        'preprocessed at once; default: AUTOTUNE).', minimum=1)
    shuffle_buffer_size: int = option(
        4096, 'Training only: records shuffled together after the files are interleaved '
        '(they are held encoded, about 110 KB each for ImageNet).', minimum=1)
    deterministic_input: bool = option(
        False, 'Read in a fixed order with a fixed seed: the same files, records, random '
        'preprocessing and batches on every run (slower: training preprocessing runs on one '
        'thread). For tests and reproducible runs.')
    fail_on_corrupt_records: bool = option(
        False, 'Stop at the first record that cannot be read or decoded, instead of skipping '
        'it and counting it in the log, the training summaries and the evaluation results.')


@dataclasses.dataclass
class InputOptions(ReaderOptions, GrayscaleOptions, ModelOptions, DatasetOptions):
    """The dataset, the network, its preprocessing and the reading of the split."""

    def pipeline_arguments(self):
        """The keyword arguments of `input_pipeline.batched_images` that these options set."""
        return dict(
            labels_offset=self.labels_offset, num_readers=self.num_readers,
            num_preprocessing_threads=self.num_preprocessing_threads,
            use_grayscale=self.use_grayscale, shuffle_buffer_size=self.shuffle_buffer_size,
            seed=input_pipeline.DETERMINISTIC_SEED if self.deterministic_input else None,
            skip_corrupt=not self.fail_on_corrupt_records)
