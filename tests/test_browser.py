"""TensorBoard in a real browser: two short lenet/digits runs, each evaluated, shown by
`tensorboard --logdir` in headless Chromium (Debian's chromium and chromium-driver, which
`make test-browser` installs). The Images and HParams dashboards must list the evaluation's tags;
their screenshots go to docs/ for the README.

Chromium is driven through chromedriver's W3C WebDriver HTTP protocol: TensorBoard's dashboards
render inside shadow roots, which `chromium --dump-dom` leaves out.
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from support import ROOT, free_ports, start_logged, train_and_evaluate_through_the_scripts

pytestmark = pytest.mark.browser

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
# Wide enough for the HParams table to show the evaluation's metrics.
WINDOW_SIZE = (1920, 1000)
# Two runs that differ in learning rate (neither the default, which the HParams session leaves
# out), for the HParams dashboard to compare.
LEARNING_RATES = {'lenet_slow': 0.005, 'lenet_fast': 0.02}
IMAGE_TAGS = ('eval/confusion_matrix', 'eval/per_class_accuracy', 'eval/misclassified')
HPARAMS_NAMES = ('learning_rate', 'model_name', 'eval/Accuracy', 'eval/Recall_5', 'eval/mean_loss')

# Every text node of the page, shadow roots included, and how many <img> are still loading.
PAGE_STATE_SCRIPT = '''
const texts = [];
let loadingImages = 0;
function visit(node) {
  if (['style', 'script', 'template', 'noscript'].includes(node.localName)) return;
  if (node.shadowRoot) visit(node.shadowRoot);
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) texts.push(child.data.trim());
    else visit(child);
  }
  if (node.tagName === 'IMG' && !(node.complete && node.naturalWidth > 0)) loadingImages++;
}
visit(document.documentElement);
return {text: texts.filter(Boolean).join('\\n'), loadingImages: loadingImages};
'''


def _request(method, url, body=None, timeout=60):
    """The decoded JSON answer of an HTTP request with a JSON `body`."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def _wait_for_server(url, process, log_path, timeout_secs=180):
    """Waits until `url` answers; fails with the server's log if `process` exits first."""
    deadline = time.time() + timeout_secs
    while time.time() < deadline:
        if process.poll() is not None:
            with open(log_path) as log:
                pytest.fail('%s exited (%d): %s' % (process.args[0], process.returncode,
                                                    log.read()))
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail('%s did not answer within %d s' % (url, timeout_secs))


class Browser:
    """One headless Chromium session through chromedriver at `driver_url`."""

    def __init__(self, driver_url, user_data_dir):
        arguments = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                     '--no-first-run', '--disable-background-networking',
                     '--disable-component-update', '--disable-sync',
                     '--user-data-dir=%s' % user_data_dir, '--window-size=%d,%d' % WINDOW_SIZE]
        capabilities = {'browserName': 'chrome',
                        'goog:chromeOptions': {'binary': CHROMIUM, 'args': arguments}}
        answer = _request('POST', driver_url + '/session',
                          {'capabilities': {'alwaysMatch': capabilities}})
        self._session_url = '%s/session/%s' % (driver_url, answer['value']['sessionId'])

    def open(self, url):
        """Loads `url` afresh: a new page holds only the dashboard that its URL names."""
        for address in ('about:blank', url):
            _request('POST', self._session_url + '/url', {'url': address})

    def wait_for_texts(self, names, timeout_secs=90):
        """Waits until the page shows every string of `names` and has loaded its images;
        returns the page's text (one text node a line)."""
        deadline = time.time() + timeout_secs
        while True:
            state = _request('POST', self._session_url + '/execute/sync',
                             {'script': PAGE_STATE_SCRIPT, 'args': []})['value']
            missing = [name for name in names if name not in state['text']]
            if not missing and not state['loadingImages']:
                return state['text']
            if time.time() > deadline:
                pytest.fail('the page lacks %s (%d images loading); it shows:\n%s' % (
                    missing, state['loadingImages'], state['text']))
            time.sleep(1)

    def save_screenshot(self, path):
        png = base64.b64decode(_request('GET', self._session_url + '/screenshot')['value'])
        with open(path, 'wb') as f:
            f.write(png)

    def close(self):
        _request('DELETE', self._session_url)


@pytest.fixture(scope='module')
def runs_dir(digits_dir, tmp_path_factory):
    """A folder of two trained and evaluated lenet/digits runs, one per learning rate."""
    runs = tmp_path_factory.mktemp('runs')
    for name, learning_rate in LEARNING_RATES.items():
        train_and_evaluate_through_the_scripts(
            ['--dataset_name=digits', '--dataset_dir=' + digits_dir],
            'validation', str(runs / name), batch_size=32, num_steps=150,
            train_flags=['--learning_rate=%g' % learning_rate])
    return str(runs)


@pytest.fixture(scope='module')
def browser(runs_dir, tmp_path_factory):
    """(a Browser, TensorBoard's URL) with `tensorboard --logdir` on `runs_dir`."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail('%s and %s are missing: `make test-browser` installs Debian\'s chromium '
                    'and chromium-driver' % (CHROMIUM, CHROMEDRIVER))
    logs = tmp_path_factory.mktemp('browser_logs')
    tensorboard_port, driver_port = free_ports(2)
    tensorboard_url = 'http://127.0.0.1:%d' % tensorboard_port
    driver_url = 'http://127.0.0.1:%d' % driver_port
    tensorboard = start_logged(
        [os.path.join(os.path.dirname(sys.executable), 'tensorboard'), '--logdir', runs_dir,
         '--host', '127.0.0.1', '--port', str(tensorboard_port)], str(logs / 'tensorboard.log'))
    driver = start_logged([CHROMEDRIVER, '--port=%d' % driver_port], str(logs / 'driver.log'))
    session = None
    try:
        _wait_for_server(tensorboard_url + '/data/plugins_listing', tensorboard,
                         str(logs / 'tensorboard.log'))
        _wait_for_server(driver_url + '/status', driver, str(logs / 'driver.log'))
        session = Browser(driver_url, str(logs / 'chromium_profile'))
        yield session, tensorboard_url
    finally:
        if session:
            session.close()
        for process in (driver, tensorboard):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _screenshot_path(name):
    docs = os.path.join(ROOT, 'docs')
    os.makedirs(docs, exist_ok=True)
    return os.path.join(docs, name)


def test_images_dashboard_lists_the_evaluation_pictures(browser):
    session, url = browser
    session.open(url + '/#images')
    text = session.wait_for_texts(IMAGE_TAGS)
    for name in LEARNING_RATES:
        assert '%s/eval' % name in text
    session.save_screenshot(_screenshot_path('tensorboard_images.png'))


def test_hparams_dashboard_compares_the_runs(browser):
    session, url = browser
    session.open(url + '/#hparams')
    # The table's rows: each run's name and its learning rate, which the dashboard shows to
    # five significant digits.
    rows = [(name, '%#.5g' % learning_rate) for name, learning_rate in LEARNING_RATES.items()]
    lines = session.wait_for_texts(HPARAMS_NAMES + tuple(sum(rows, ()))).splitlines()
    # The table lists the rows one after the other: a row's cells run to the next row's name.
    starts = sorted(lines.index(name) for name, _ in rows) + [len(lines)]
    for name, learning_rate in rows:
        start = lines.index(name)
        assert learning_rate in lines[start:starts[starts.index(start) + 1]]
    session.save_screenshot(_screenshot_path('tensorboard_hparams.png'))
