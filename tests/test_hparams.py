"""Runs compared in TensorBoard's HParams dashboard: each train_dir a session with its
hyper-parameters, evaluation's top-1, top-5 and mean loss its metrics."""

import json
import os
import sys

import pytest
from google.protobuf import json_format
from support import digits_eval_options, digits_train_options
from tensorboard import context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import api_pb2, backend_context, list_session_groups

from evaluation import evaluator, results
from training import run_record, trainer

DIGITS_HPARAMS = {
    # Always recorded.
    'model_name': 'lenet', 'dataset_name': 'digits', 'batch_size': 50,
    'mixed_precision': 'float32', 'optimizer': 'momentum', 'learning_rate': 0.01,
    # The flags of digits_train_options that differ from their defaults.
    'learning_rate_decay_type': 'fixed', 'weight_decay': 0.0, 'log_every_n_steps': 100,
}


@pytest.mark.parametrize('argv, recipe', [
    (['train.py', '--flagfile=configs/lenet_digits.flags', '--train_dir=runs/a'],
     'configs/lenet_digits.flags'),
    (['train.py', '--flagfile', 'a.flags', '-flagfile=b.flags'], 'a.flags,b.flags'),
    (['train.py', '--train_dir=runs/a'], run_record.NO_RECIPE),
])
def test_the_hparams_are_the_changed_flags_the_run_s_identity_and_its_recipe(argv, recipe):
    options = digits_train_options('/data/digits', 'runs/a', max_number_of_steps=3,
                                   mixed_precision='bfloat16', master='grpc://chief:2222')
    # train_dir, dataset_dir and master say where the run is, not what it is.
    assert run_record.run_hparams(options, argv) == dict(
        DIGITS_HPARAMS, max_number_of_steps=3,
        mixed_precision='bfloat16', recipe=recipe)


def _session_groups(logdir):
    """{session name: SessionGroup} of the runs below `logdir`, as TensorBoard's HParams
    plugin lists them to its dashboard."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    plugin_context = backend_context.Context(base_plugin.TBContext(
        data_provider=data_provider.MultiplexerDataProvider(multiplexer, logdir),
        logdir=logdir))
    request = api_pb2.ListSessionGroupsRequest(
        allowed_statuses=api_pb2.Status.values(), start_index=0, slice_size=100)
    response = list_session_groups.Handler(context.RequestContext(), plugin_context, '',
                                           request).run()
    return {group.name: group for group in response.session_groups}


def test_a_run_and_its_evaluation_are_an_hparams_session_with_the_eval_metrics(
        digits_dir, tmp_path, monkeypatch):
    train_dir = str(tmp_path / 'runs' / 'lenet')
    argv = ['train_image_classifier.py', '--flagfile=configs/lenet_digits.flags']
    monkeypatch.setattr(sys, 'argv', argv)
    options = digits_train_options(digits_dir, train_dir, max_number_of_steps=3)
    trainer.train(options)
    eval_dir = os.path.join(train_dir, 'eval')
    evaluator.evaluate(digits_eval_options(digits_dir, train_dir, eval_dir))
    with open(os.path.join(eval_dir, results.RESULTS_FILENAME)) as f:
        evaluated = json.load(f)

    groups = _session_groups(str(tmp_path / 'runs'))

    assert list(groups) == ['lenet']
    session = groups['lenet']
    assert {name: json_format.MessageToDict(value) for name, value in session.hparams.items()} \
        == dict(DIGITS_HPARAMS, max_number_of_steps=3,
                recipe='configs/lenet_digits.flags')
    metrics = {(metric.name.group, metric.name.tag): metric for metric in session.metric_values}
    for tag in results.SUMMARY_METRICS:
        # The eval_dir's scalars, found under the session's subdirectory 'eval'.
        metric = metrics['eval', tag]
        assert metric.value == pytest.approx(evaluated[tag], rel=1e-6)
        assert metric.training_step == evaluated['global_step'] == 3
