"""``tinygrad_edu.testing``: the property-testing kit our own test suite uses, shipped to users.

Needs hypothesis (``pip install "tinygrad_edu[test]"``); nothing else in the library imports it.

- strategies: ``shapes``, ``broadcastable_shapes``, ``arrays``, ``positive_arrays``, ``tensors``,
  ``away_from_kinks``, ``distinct_values``, ``distinct_arrays``, ``axes``, ``reduce_axes``,
  ``keepdims``, ``unit_counts`` (layer widths 1..64, 300 under ``thorough``)
- checks: ``check_op`` (forward vs a numpy reference + float64 gradcheck)
- profiles: ``load_profile()`` (``ci`` default, ``thorough`` via ``HYPOTHESIS_PROFILE``),
  ``default_max_units()``
- layers: ``check_layer``, ``ops_in_graph``; layer_configs: the layer-config strategies
  ``dense_configs``, ``conv2d_configs``, ``pooling_configs``, ``rnn_configs``,
  ``rnn_stack_configs``, ``batchnorm_configs`` (also importable from ``testing/layers.py``)

>>> from tinygrad_edu import testing
>>> from tinygrad_edu import ops
>>> import numpy as np
>>> testing.check_op(ops.Exp, np.array([0.0, 1.0]), reference=np.exp)
True
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'tinygrad_edu.testing needs hypothesis: pip install "tinygrad_edu[test]"'
    ) from exc

from .checks import check_op
from .layer_configs import (
    batchnorm_configs,
    conv2d_configs,
    dense_configs,
    pooling_configs,
    rnn_configs,
    rnn_stack_configs,
)
from .layers import check_layer, ops_in_graph
from .profiles import default_max_units, load_profile, register_profiles
from .strategies import (
    arrays,
    away_from_kinks,
    axes,
    broadcastable_shapes,
    distinct_arrays,
    distinct_values,
    keepdims,
    positive_arrays,
    reduce_axes,
    shapes,
    tensors,
    unit_counts,
)

__all__ = [
    "check_op",
    "load_profile",
    "register_profiles",
    "shapes",
    "broadcastable_shapes",
    "arrays",
    "positive_arrays",
    "tensors",
    "away_from_kinks",
    "distinct_values",
    "distinct_arrays",
    "axes",
    "reduce_axes",
    "keepdims",
    "unit_counts",
    "default_max_units",
    "check_layer",
    "ops_in_graph",
    "dense_configs",
    "conv2d_configs",
    "pooling_configs",
    "rnn_configs",
    "rnn_stack_configs",
    "batchnorm_configs",
]
# A further kit module adds its import block above and its names here.
