"""Finding checkpoints."""

import os

import tensorflow.compat.v1 as tf
from absl import logging

from common import files
from common.errors import CheckpointMismatchError, ConfigurationError, MissingPathError

# Written by the chief when training ends normally: the final global step, for evaluators
# watching the directory.
FINAL_STEP_FILENAME = 'final_step.txt'

# The characters TensorFlow's file matching reads as a pattern (its kGlobbingChars).
_PATTERN_CHARACTERS = '*?[\\'

# tf.train.ExponentialMovingAverage names each average <variable name>/ExponentialMovingAverage.
MOVING_AVERAGE_SUFFIX = '/ExponentialMovingAverage'


def check_literal_path(path, flag_name):
    """Fails with one line if `path` holds a character TensorFlow's checkpoint code would
    read as a file pattern.

    The Saver deletes old checkpoints, and tf.train.latest_checkpoint and restoring check
    them, by matching '<prefix>.*'-like patterns: under --train_dir=runs/[1] the Saver would
    delete runs/1's checkpoints and never find its own.
    """
    found = sorted({character for character in path if character in _PATTERN_CHARACTERS})
    if found:
        raise ConfigurationError(
            '--%s=%s contains %s, which TensorFlow\'s checkpoint code reads as a file pattern '
            '(it would find, and delete, the checkpoints of other directories that match it): '
            'choose a path without *, ?, [ or \\.' % (flag_name, path, ' '.join(found)))


def resolve_checkpoint(checkpoint_path):
    """The checkpoint prefix for a checkpoint file prefix or a directory (its latest).

    Raises:
      ValueError: when no checkpoint is there; the message says what was found instead.
    """
    if not checkpoint_path:
        raise ConfigurationError('Set --checkpoint_path to a checkpoint or a directory of '
                                 'checkpoints.')
    check_literal_path(checkpoint_path, 'checkpoint_path')
    # A prefix first: ram:// calls any leading part of a file name a directory.
    if tf.io.gfile.exists(checkpoint_path + '.index'):
        return checkpoint_path
    if tf.io.gfile.isdir(checkpoint_path):
        latest = tf.train.latest_checkpoint(checkpoint_path)
        if latest:
            return latest
        found = files.list_directory(checkpoint_path)[:10]
        raise MissingPathError('No checkpoint in directory %s (it holds: %s). Point '
                               '--checkpoint_path at a training directory or a checkpoint such as '
                               'model.ckpt-1000.'
                               % (checkpoint_path, ', '.join(found) or 'nothing'))
    if tf.io.gfile.exists(checkpoint_path):
        return checkpoint_path
    directory = os.path.dirname(checkpoint_path) or '.'
    found = files.list_directory(directory)[:10] if tf.io.gfile.isdir(directory) else []
    raise MissingPathError('No checkpoint at %s (%s). Point --checkpoint_path at a training '
                           'directory or a checkpoint prefix such as model.ckpt-1000.'
                           % (checkpoint_path, 'its directory holds: ' + ', '.join(found) if found
                              else 'its directory does not exist or is empty'))


def read_checkpoint(checkpoint):
    """A reader of the checkpoint prefix `checkpoint` (its variables' names, shapes, values)."""
    # Not tf.train.load_checkpoint: it first asks whether the path is a directory, and ram://
    # says yes for a prefix such as model.ckpt-5, a leading part of model.ckpt-5.index.
    return tf.train.NewCheckpointReader(checkpoint)


def parse_scopes(scopes):
    """['a', 'b'] for the flag value 'a, b'; [] for None or ''."""
    return [scope.strip() for scope in (scopes or '').split(',') if scope.strip()]


def in_scopes(name, scopes):
    """Whether the variable or op `name` starts with one of `scopes`: TF-Slim's rule, so that
    'InceptionV3/Mixed_7' selects Mixed_7a, Mixed_7b and Mixed_7c."""
    return any(name.startswith(scope) for scope in scopes)


def log_scope_selections(flag, scopes, names):
    """Logs how many of `names` each scope of `flag` (e.g. '--trainable_scopes') selects, and
    warns about a scope that selects none. Returns the scopes that select none."""
    unmatched = []
    for scope in scopes:
        count = sum(name.startswith(scope) for name in names)
        if count:
            logging.info('%s: %s selects %d variable(s)', flag, scope, count)
        else:
            unmatched.append(scope)
            logging.warning('%s: %s selects no variable; the model\'s scopes are: %s', flag,
                            scope, ', '.join(sorted({layer_scope(name) for name in names})))
    return unmatched


def layer_scope(variable_name):
    """The scope to exclude for a variable: its first two path components.

    'InceptionV3/Logits/Conv2d_1c_1x1/weights' -> 'InceptionV3/Logits'.
    """
    return '/'.join(variable_name.split('/')[:2]) if variable_name.count('/') >= 2 \
        else variable_name.rsplit('/', 1)[0]


def checkpoint_mismatches(checkpoint, names_to_variables):
    """How the variables of `checkpoint` differ from the model variables they should fill.

    Checkpoint variables the model does not ask for are not differences.

    Args:
      checkpoint: a checkpoint prefix.
      names_to_variables: {name in the checkpoint: variable}.
    Returns:
      (shape_mismatches, missing), both sorted by name: [(name, checkpoint shape, model
      shape)] with shapes as lists of ints, and [name] for the names the checkpoint lacks.
    """
    checkpoint_shapes = read_checkpoint(checkpoint).get_variable_to_shape_map()
    shape_mismatches, missing = [], []
    for name, variable in sorted(names_to_variables.items()):
        if name not in checkpoint_shapes:
            missing.append(name)
        elif checkpoint_shapes[name] != variable.shape.as_list():
            shape_mismatches.append((name, checkpoint_shapes[name], variable.shape.as_list()))
    return shape_mismatches, missing


def variables_by_checkpoint_name(moving_average_decay=None):
    """{name in the checkpoint: variable} for every global variable of the default graph.

    With moving_average_decay, model variables are filled from the moving averages training
    kept; any other variable (the global step, batch-norm statistics) from itself.
    """
    if moving_average_decay:
        averages = tf.train.ExponentialMovingAverage(moving_average_decay)
        return averages.variables_to_restore(tf.model_variables())
    return {variable.op.name: variable for variable in tf.global_variables()}


def check_moving_averages(checkpoint, missing, action):
    """Raises ValueError when every name a checkpoint lacks (`missing`, from
    `checkpoint_mismatches`) is the moving average of a variable it holds: it was trained
    without averages. `action` is the verb for the advice ('evaluate', 'export', ...)."""
    held = read_checkpoint(checkpoint).get_variable_to_shape_map()
    if missing and all(name.endswith(MOVING_AVERAGE_SUFFIX)
                       and name[:-len(MOVING_AVERAGE_SUFFIX)] in held for name in missing):
        raise CheckpointMismatchError(
            'Checkpoint %s holds no moving average of %d model variable(s) (first: %s): it was '
            'trained without --moving_average_decay. Drop --moving_average_decay to %s its '
            'weights as they are.' % (checkpoint, len(missing), missing[0], action))


# How many differing variables a "does not fit" message lists.
MAX_LISTED_PROBLEMS = 10


def check_fits(checkpoint, names_to_variables, model, advice, moving_average_decay=None,
               action='use'):
    """Raises ValueError if `checkpoint` cannot fill every variable of `names_to_variables`.

    The message lists the first differing variables by name (other shape, or missing), the
    checkpoint's top-level scopes and `advice`, after saying that `checkpoint` does not fit
    `model` (e.g. '--model_name=lenet with 10 classes').

    Args:
      names_to_variables: {name in the checkpoint: variable}.
      moving_average_decay: set when the model restores moving averages; a checkpoint
        trained without them then gets its own message, advising against `action`.
    """
    mismatches, missing = checkpoint_mismatches(checkpoint, names_to_variables)
    if not mismatches and not missing:
        return
    if moving_average_decay:
        check_moving_averages(checkpoint, missing, action)
    problems = ['%s: %s' % pair for pair in sorted(
        [(name, 'not in the checkpoint') for name in missing]
        + [(name, 'checkpoint %s, model %s' % (checkpoint_shape, model_shape))
           for name, checkpoint_shape, model_shape in mismatches])]
    checkpoint_names = read_checkpoint(checkpoint).get_variable_to_shape_map()
    raise CheckpointMismatchError(
        'Checkpoint %s does not fit %s: %d variable(s) differ. The first:\n  %s\nThe '
        'checkpoint\'s variables are under: %s. %s%s'
        % (checkpoint, model, len(problems), '\n  '.join(problems[:MAX_LISTED_PROBLEMS]),
           ', '.join(sorted({name.split('/')[0] for name in checkpoint_names})), advice,
           _class_count_hint(mismatches)))


def restore_checkpoint(session, checkpoint_path, model, advice, moving_average_decay=None,
                       action='use', names_to_variables=None, saver=None):
    """Resolves `checkpoint_path`, checks that it fits the default graph's variables and
    restores them into `session`; returns the checkpoint prefix restored.

    Args:
      checkpoint_path: a checkpoint prefix, or a directory for its latest checkpoint.
      model, advice, action: for `check_fits`'s message when the checkpoint does not fit.
      moving_average_decay: when set, model variables take their moving averages.
      names_to_variables: {name in the checkpoint: variable}; default
        `variables_by_checkpoint_name(moving_average_decay)`.
      saver: a tf.train.Saver of `names_to_variables`, for a caller restoring several
        checkpoints into one graph; default a new one.
    """
    checkpoint = resolve_checkpoint(checkpoint_path)
    if names_to_variables is None:
        names_to_variables = variables_by_checkpoint_name(moving_average_decay)
    check_fits(checkpoint, names_to_variables, model, advice, moving_average_decay, action)
    (saver or tf.train.Saver(names_to_variables)).restore(session, checkpoint)
    return checkpoint


def _class_count_hint(mismatches):
    """Advice when the only difference is ImageNet's background class (1001 vs 1000)."""
    for _, checkpoint_shape, model_shape in mismatches:
        if checkpoint_shape[:-1] != model_shape[:-1]:
            continue
        if checkpoint_shape[-1] + 1 == model_shape[-1]:
            return (' The checkpoint has %d classes and the model %d: the checkpoint has no '
                    'background class, so pass --labels_offset=1 to use it as it is.'
                    % (checkpoint_shape[-1], model_shape[-1]))
        if checkpoint_shape[-1] == model_shape[-1] + 1:
            return (' The checkpoint has %d classes and the model %d: the checkpoint has a '
                    'background class, so pass --labels_offset=0 to use it as it is.'
                    % (checkpoint_shape[-1], model_shape[-1]))
    return ''


def restorable_variables(checkpoint, variables, exclude_scopes=(), ignore_missing_vars=False):
    """The variables to restore from `checkpoint`, by checkpoint name, after checking shapes.

    Args:
      checkpoint: a checkpoint prefix.
      variables: the model's variables.
      exclude_scopes: scopes whose variables are not restored (they keep their initial values).
      ignore_missing_vars: skip (and log) variables the checkpoint lacks instead of failing.
    Returns:
      {name in checkpoint: variable}.
    Raises:
      ValueError: a shape mismatch (naming the variables, both shapes and the
        --checkpoint_exclude_scopes that would skip them) or missing variables.
    """
    log_scope_selections('--checkpoint_exclude_scopes', exclude_scopes,
                         [variable.op.name for variable in variables])
    wanted = {variable.op.name: variable for variable in variables
              if not in_scopes(variable.op.name, exclude_scopes)}
    mismatches, missing = checkpoint_mismatches(checkpoint, wanted)
    if mismatches:
        scopes = list(exclude_scopes)
        for name, _, _ in mismatches:
            if layer_scope(name) not in scopes:
                scopes.append(layer_scope(name))
        raise CheckpointMismatchError(
            'Checkpoint %s does not fit the model: %d variable(s) have other shapes:\n%s\n'
            'Skip them with --checkpoint_exclude_scopes=%s (and, to fine-tune only the new '
            'layers, --trainable_scopes=%s).%s'
            % (checkpoint, len(mismatches),
               '\n'.join('  %s: checkpoint %s, model %s' % mismatch for mismatch in mismatches),
               ','.join(scopes), ','.join(scopes),
               _class_count_hint(mismatches)))
    if missing and not ignore_missing_vars:
        raise CheckpointMismatchError(
            'Checkpoint %s lacks %d model variable(s): %s%s. Is it a checkpoint of another '
            'network? Exclude their scopes with --checkpoint_exclude_scopes, or pass '
            '--ignore_missing_vars to start them from their initial values.'
            % (checkpoint, len(missing), ', '.join(missing[:10]),
               ' ...' if len(missing) > 10 else ''))
    for name in missing:
        logging.warning('Variable %s is not in checkpoint %s; it keeps its initial value.',
                        name, checkpoint)
        del wanted[name]
    return wanted


def global_step_of(checkpoint):
    """The global step saved in `checkpoint`; 0 when it has none (e.g. published ones)."""
    reader = read_checkpoint(checkpoint)
    return int(reader.get_tensor('global_step')) if reader.has_tensor('global_step') else 0
