"""``Tensor.to_dot()``: the Graphviz DOT text of the graph behind a tensor (``graph_dot``), the
same text ``tinygrad_edu.explain.graph`` gives."""

import doctest

import numpy as np
import pytest

from tinygrad_edu import Tensor, graph_dot
from tinygrad_edu.errors import ConfigError
from tinygrad_edu.explain import graph


def mlp_loss():
    x = Tensor(np.arange(6.0).reshape(2, 3), name="x")
    w = Tensor(np.ones((3, 2)), requires_grad=True, name="w")
    b = Tensor(np.zeros(2), requires_grad=True, name="b")
    return w, ((x @ w + b).relu()).mean()


def test_to_dot_draws_every_tensor_and_op_of_the_graph():
    _, loss = mlp_loss()
    dot = loss.to_dot()
    assert dot.startswith("digraph autograd {") and dot.endswith("}")
    for op in ("MatMul", "Add", "Relu", "Mean"):
        assert f'label="{op}", shape=box' in dot
    assert dot.count("shape=box") == 4 and dot.count("shape=ellipse") == 7
    assert 'label="w\\n(3, 2) float64", shape=ellipse, style=filled, fillcolor=lightblue' in dot
    assert 'label="x\\n(2, 3) float64", shape=ellipse, style=filled, fillcolor=lightgrey' in dot
    bold = [line for line in dot.splitlines() if "penwidth=2" in line]
    assert bold == ['  t6 [label="() float64", shape=ellipse, penwidth=2];']  # the loss itself


def test_to_dot_is_explain_graph():
    _, loss = mlp_loss()
    assert loss.to_dot() == graph(loss)
    assert loss.to_dot(title="my loss") == graph(loss, title="my loss")
    assert 'labelloc=t; label="my loss";' in loss.to_dot(title="my loss")


def test_to_dot_shows_gradients_and_says_when_backward_freed_the_graph():
    w, loss = mlp_loss()
    loss.backward(retain_graph=True)
    assert f"grad (3, 2) |g|={float(np.linalg.norm(w.grad)):.4g}" in loss.to_dot()
    loss.backward()
    freed = loss.to_dot()
    assert graph_dot.FREED_TITLE in freed and "MatMul" not in freed


def test_to_dot_of_a_leaf_is_one_node():
    dot = Tensor([1.0, 2.0], requires_grad=True).to_dot()
    assert dot.count("shape=ellipse") == 1 and "->" not in dot


def test_to_dot_refuses_a_title_that_is_not_text():
    _, loss = mlp_loss()
    with pytest.raises(ConfigError) as err:
        loss.to_dot(title=3)
    assert err.value.where == "Tensor.to_dot" and "to_dot(title=" in err.value.fix


def test_the_graph_dot_docstring_example_runs():
    result = doctest.testmod(graph_dot)
    assert result.attempted >= 3 and result.failed == 0
