"""Saving and loading models and weights as one ``.npz`` file, written atomically, never pickled.

Layout of a file (every entry is a plain numpy array; text is a 0-d unicode array, never an
object array, so ``np.load(path, allow_pickle=False)`` reads all of it)::

    format              "tinygrad_edu"
    format_version      1 (int64)
    kind                "model" (save_model) or "weights" (save_weights)
    model_class         the registered model class, e.g. "Sequential"  (kind "model"; files
                        written before this entry existed hold a Sequential)
    weights/<layer>/<w> every weight, e.g. weights/dense/kernel (in, units), weights/dense/bias
    model_config        JSON of model.get_config()            (kind "model")
    compile_config      JSON {"loss": {...}, "metrics": [...]} (kind "model", when compiled with
                        built-in losses/metrics; custom functions cannot be stored)
    optimizer_config    JSON {"class_name": "Adam", "config": {...}}        (kind "model", compiled)
    optimizer/<key>     optimizer.state_dict(), e.g. optimizer/iterations, optimizer/adam/m/0

Paths are used exactly as given: ``model.save("run.npz")`` writes ``run.npz`` and
``model.save("run")`` writes ``run`` (numpy's habit of appending ``.npz`` does not apply, because
the archive is written through a file object). Load with the same path.

Atomic writes: the archive goes to a temporary file of our naming in the target's directory, is
flushed and fsynced, gets the permissions of a new file (``0o666 & ~umask``, or those of the file
it replaces), is ``os.replace``-d onto the target, and the directory is fsynced. If anything fails,
the temporary file is removed and an existing file at the target is left untouched; the temporary
file of a save that was killed is removed by the next save into that directory. Read-only files,
directories, pipes and devices are never replaced.

Safe reading: every size a file declares (zip directory, members, npy headers, the parameters its
config asks for) is checked against what the file holds before anything is allocated, JSON is
read strictly (UTF-8, bounded length and depth, no NaN, no duplicate keys), and every damaged or
hostile file is one ``CheckpointError``. Wrong argument types (a path that is not a str/Path, a
model that is not a model) are refused with a fix.

The package, by responsibility:

- ``archive``: the file format - header, reading with ``allow_pickle=False``, and turning every
  damaged file into a ``CheckpointError``;
- ``atomic``: writing a file atomically (temporary file, fsync, rename, leftovers removed);
- ``registry``: the model classes ``load_model`` may rebuild, by name (``register_model_class``:
  models register themselves, so this package never imports them);
- ``configs``: JSON of the layer, optimizer and compile configs (and the built-in
  initializers/regularizers inside them), rebuilt only from the library's own classes;
- ``weights``: ``save_weights``/``load_weights`` by name and ``weight_mismatches``;
- ``full_model``: ``save_model``/``load_model`` of architecture, weights and training state.
- ``keras_archive`` (+ ``keras_graph``, ``keras_compile``, ``keras_layers``, ``keras_h5``,
  ``keras_legacy``): Keras files. A name ending in ``.keras`` is saved as Keras 3's archive
  (config.json + model.weights.h5) and one ending in ``.h5`` as Keras' ``.weights.h5`` layout;
  ``load_model`` reads, by their content, ``.keras`` archives and Keras' legacy whole-model
  ``.h5`` files. Needs the optional h5py (``pip install -e ".[keras]"``).

>>> import os, tempfile
>>> from tinygrad_edu.models import Sequential
>>> from tinygrad_edu.layers import Dense
>>> model = Sequential([Dense(2, input_shape=(3,))])
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> save_model(model, path)
>>> load_model(path).get_weights()[0].shape
(3, 2)
"""

from __future__ import annotations

from .archive import FORMAT_VERSION, read_archive

# header constants, public (importable) as before the split but not part of ``import *``
from .archive import FORMAT as FORMAT
from .archive import OPTIMIZER_PREFIX as OPTIMIZER_PREFIX
from .archive import WEIGHTS_PREFIX as WEIGHTS_PREFIX
from .full_model import load_model, save_model
from .registry import register_model_class, registered_model_classes
from .weights import load_weights, save_weights, weight_mismatches

__all__ = [
    "FORMAT_VERSION",
    "load_model",
    "load_weights",
    "read_archive",
    "register_model_class",
    "registered_model_classes",
    "save_model",
    "save_weights",
    "weight_mismatches",
]
