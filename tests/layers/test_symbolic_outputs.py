"""Symbolic tensors (``layer(Input(...))``) refuse what they cannot do with our ``ConfigError``,
never a raw ``TypeError``: Keras' seq2seq idiom ``seq, h, c = LSTM(8, return_state=True)(x)``
(several outputs of one layer inside a graph are not implemented here), and indexing or
iterating one."""

import numpy as np
import pytest

from tinygrad_edu import ConfigError
from tinygrad_edu.layers import LSTM, Bidirectional, Dense, Input
from tinygrad_edu.models import Model


def test_unpacking_a_layer_with_several_outputs_is_refused_with_a_fix() -> None:
    x = Input(shape=(6, 4))
    out = LSTM(5, return_state=True)(x)
    with pytest.raises(ConfigError) as err:
        _seq, _h, _c = out  # Keras: encoder outputs and states
    assert "3 outputs" in err.value.got and "return_state=False" in err.value.fix
    model = Model(x, out)  # as model outputs they work: predict gives the three arrays
    assert [a.shape for a in model.predict(np.zeros((2, 6, 4)), verbose=0)] == [(2, 5)] * 3


@pytest.mark.parametrize("index", [0, slice(None), -1])
def test_indexing_a_symbolic_tensor_is_refused(index) -> None:
    x = Input(shape=(6, 4))
    for out in (Dense(3)(x), Bidirectional(LSTM(5), merge_mode=None)(x)):
        with pytest.raises(ConfigError) as err:
            out[index]
        assert err.value.where.startswith("the symbolic tensor of layer")
