"""The command-line scripts, run as a user runs them, and the errors of their entry points."""

import json
import os
import re

import pytest
from support import ROOT
from support import run_script as _run

from evaluation import evaluator
from evaluation.eval_options import EvalOptions
from training import trainer
from training.train_options import TrainOptions


def test_convert_train_and_evaluate_through_the_scripts(tmp_path):
    data_dir, train_dir = str(tmp_path / 'digits'), str(tmp_path / 'train')
    convert = _run('download_and_convert_data.py', '--dataset_name=digits',
                   '--dataset_dir=' + data_dir, cwd=tmp_path)
    assert convert.returncode == 0, convert.stderr
    assert sorted(os.listdir(data_dir)) == ['digits_train.tfrecord',
                                            'digits_validation.tfrecord', 'labels.txt']

    train = _run('train_image_classifier.py',
                 '--flagfile=' + os.path.join(ROOT, 'configs', 'lenet_digits.flags'),
                 '--dataset_dir=' + data_dir, '--train_dir=' + train_dir,
                 '--max_number_of_steps=30', '--log_every_n_steps=10', cwd=tmp_path)
    assert train.returncode == 0, train.stderr
    assert 'step 30/30: loss = ' in train.stderr
    assert 'examples/sec, ETA' in train.stderr
    assert os.path.exists(os.path.join(train_dir, 'model.ckpt-30.index'))

    evaluate = _run('eval_image_classifier.py', '--dataset_name=digits',
                    '--dataset_split_name=validation', '--model_name=lenet',
                    '--dataset_dir=' + data_dir, '--checkpoint_path=' + train_dir,
                    '--eval_dir=' + train_dir + '/eval', '--batch_size=50', cwd=tmp_path)
    assert evaluate.returncode == 0, evaluate.stderr
    with open(os.path.join(train_dir, 'eval', 'eval_results.json')) as f:
        results = json.load(f)
    assert results['global_step'] == 30 and results['num_examples'] == 364
    assert 'eval/Accuracy[%.4f]' % results['eval/Accuracy'] in evaluate.stdout
    assert 'eval/Recall_5[%.4f]' % results['eval/Recall_5'] in evaluate.stdout
    assert 'eval batch 8/8: 364 examples' in evaluate.stderr
    assert any(name.startswith('events.out.tfevents')
               for name in os.listdir(os.path.join(train_dir, 'eval')))


def test_unknown_model_name_lists_valid_names(tmp_path):
    with pytest.raises(ValueError, match="Unknown network 'inception_v9'; valid names: "
                                         'alexnet_v2, cifarnet, '):
        trainer.train(TrainOptions(model_name='inception_v9', dataset_name='digits',
                                   dataset_dir=str(tmp_path), train_dir=str(tmp_path / 'train')))


def test_eval_without_a_checkpoint_says_what_it_found(tmp_path):
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match='No checkpoint in directory %s \\(it holds: notes.txt\\)'
                                         % re.escape(str(tmp_path))):
        evaluator.evaluate(EvalOptions(checkpoint_path=str(tmp_path), dataset_name='digits',
                                       dataset_dir=str(tmp_path)))
