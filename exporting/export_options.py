"""Every setting of an export, with TF-Slim's flag names and defaults plus the new outputs."""

import dataclasses

from flag_options import option


@dataclasses.dataclass
class ExportOptions:
    # TF-Slim's export_inference_graph flags.
    model_name: str = option('inception_v3', 'The name of the architecture to save.')
    is_training: bool = option(
        False, 'Whether to save out a training-focused version of the model.')
    image_size: int | None = option(
        None, 'The image size to use, otherwise use the model default_image_size.', minimum=1)
    batch_size: int | None = option(
        None, 'Batch size of the GraphDef\'s input placeholder. Left as None, the batch size '
        'is chosen when the model runs (SavedModel and TFLite inputs always work that way).',
        minimum=1)
    dataset_name: str = option('imagenet', 'The name of the dataset to use with the model.')
    labels_offset: int = option(
        0, 'An offset for the labels in the dataset. This flag is primarily used to evaluate '
        'the VGG and ResNet architectures which do not use a background class for the '
        'ImageNet dataset.')
    output_file: str = option(
        '', 'Where to write the inference GraphDef; frozen (weights folded in as constants) '
        'when --checkpoint_path is set.')
    dataset_dir: str = option(
        '', 'The dataset\'s directory; its labels.txt names the classes in the SavedModel. For '
        'tfds:NAME, the TFDS data directory.')
    write_text_graphdef: bool = option(
        False, 'Whether to write --output_file as a text GraphDef instead of a binary one.')
    use_grayscale: bool = option(False, 'Whether to convert input images to grayscale.')
    # Added here.
    preprocessing_name: str | None = option(
        None, 'The preprocessing the SavedModel applies to encoded images. If left as `None`, '
        'the model_name\'s preprocessing is used.')
    checkpoint_path: str | None = option(
        None, 'A checkpoint, or a directory for its latest, whose weights are exported. Needed '
        'by --saved_model_dir and --tflite_file; freezes --output_file.')
    moving_average_decay: float | None = option(
        None, 'The --moving_average_decay the checkpoint was trained with: when set, the '
        'moving averages of the weights are exported instead of the weights themselves.',
        minimum=0.0, maximum=1.0)
    saved_model_dir: str = option(
        '', 'Where to write a SavedModel taking encoded JPEG or PNG images (signature '
        '"serving_default") or preprocessed images (signature "preprocessed").')
    tflite_file: str = option(
        '', 'Where to write a TFLite model taking preprocessed images.')
    tflite_quantize: bool = option(
        False, 'Quantize the TFLite model\'s weights to 8 bits (dynamic-range quantization).')
