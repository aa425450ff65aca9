"""The MLP workloads in PyTorch (``bench_mlp``'s torch contender and its equality check).

``spec`` is a ``bench_mlp.MLPSpec``: ``sizes``, ``dropout``, ``loss`` (``"sparse_ce"``: logits
out, ``CrossEntropyLoss`` applies the softmax; ``"mse"``: ``MSELoss``). The weights are ours
(Keras layout ``[in, out]``, transposed into torch's ``[out, in]``); torch runs with
``harness.threads()`` intra-op threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import harness
import numpy as np
from numpy_mlp import LR


def torch_model(spec: Any, weights: Sequence[np.ndarray]) -> Any:
    """The same MLP in torch (logits out; CrossEntropyLoss applies the softmax), our weights."""
    torch = harness.torch_module()
    layers: list[Any] = []
    n_layers = len(spec.sizes) - 1
    for i in range(n_layers):
        lin = torch.nn.Linear(spec.sizes[i], spec.sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[2 * i].T)))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers.append(lin)
        if i < n_layers - 1:
            layers.append(torch.nn.ReLU())
            if spec.dropout:
                layers.append(torch.nn.Dropout(spec.dropout))
    return torch.nn.Sequential(*layers).train()


def torch_step(model: Any, spec: Any) -> Callable[[Any, Any], Any]:
    torch = harness.torch_module()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.MSELoss() if spec.loss == "mse" else torch.nn.CrossEntropyLoss()

    def step(x: Any, y: Any) -> Any:
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return out, loss

    return step


def check_torch(
    torch: Any, spec: Any, weights: Sequence[np.ndarray], x: Any, y: Any, ours: Any
) -> dict[str, float]:
    """Our step (``ours``: a ``harness.StepResult`` before the update) against torch's loss,
    output and gradients on the batch ``(x, y)``; returns the largest differences."""
    tmodel = torch_model(spec, weights)
    logits = tmodel(torch.from_numpy(x))
    if spec.loss == "mse":
        t_loss = torch.nn.functional.mse_loss(logits, torch.from_numpy(y))
        t_out = logits.detach().numpy()
    else:
        t_loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))
        t_out = torch.softmax(logits, dim=1).detach().numpy()
    t_loss.backward()
    t_grads = []
    for lin in tmodel:
        if isinstance(lin, torch.nn.Linear):
            t_grads += [lin.weight.grad.numpy().T, lin.bias.grad.numpy()]
    t = harness.StepResult(t_loss.item(), t_out, t_grads)
    ours_before = harness.StepResult(ours.loss, ours.output, ours.grads)
    checked = harness.check_same_step(ours_before, t, what=f"{spec.key} torch")
    return {f"torch {k}": v for k, v in checked.items()}
