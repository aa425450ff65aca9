"""Model classes by name, so that a file can say which class rebuilds it.

As Keras' ``register_keras_serializable``: a model class registers itself where it is defined
(``@register_model_class`` on ``Sequential``), and ``load_model`` looks the file's class name up
here. Saving therefore never imports the models package (which imports saving for
``model.save``): no import cycle, and a file can only name classes that were registered - never
an arbitrary import path.

A registered class provides ``get_config()`` (plain data, with a ``"layers"`` list of layer
configs) and the classmethod ``from_config(config, layers)`` that rebuilds the model from that
config and the layers rebuilt from it.

>>> model_class("Sequential", "load_model").__module__
'tinygrad_edu.models.sequential'
"""

from __future__ import annotations

from typing import Any, Dict, List

from ..errors import CheckpointError, ConfigError, suggest

_MODEL_CLASSES: Dict[str, type] = {}


def register_model_class(cls: type) -> type:
    """Make ``cls`` loadable by ``load_model`` under its class name (a class decorator).

    Registering the same class again is harmless; another class under a taken name is refused,
    so a file always means one class.
    """
    where = "register_model_class"
    if not isinstance(cls, type) or not callable(getattr(cls, "from_config", None)):
        raise ConfigError(
            where=where,
            expected="a model class with a from_config(config, layers) classmethod",
            got=repr(cls),
            fix="decorate the class itself: @register_model_class above 'class MyModel(Model):'",
        )
    known = _MODEL_CLASSES.get(cls.__name__)
    if known is not None and known is not cls:
        raise ConfigError(
            where=where,
            expected=f"one class per name ({cls.__name__!r} is taken)",
            got=f"{cls.__module__}.{cls.__qualname__} besides "
            f"{known.__module__}.{known.__qualname__}",
            fix="give the new model class another name",
        )
    _MODEL_CLASSES[cls.__name__] = cls
    return cls


def registered_name(cls: type, where: str) -> str:
    """The name a file stores for models of class ``cls``; refused when ``load_model`` could
    not rebuild it from that name. A subclassed model (``custom_object()`` true) may be saved
    unregistered, as in Keras: ``load_model(path, custom_objects={...})`` then names its class."""
    known, custom = _MODEL_CLASSES.get(cls.__name__), getattr(cls, "custom_object", None)
    if known is not cls and not (known is None and callable(custom) and custom()):
        raise CheckpointError(
            where=where,
            expected="a registered model class (load_model rebuilds only those)",
            got=f"{cls.__module__}.{cls.__qualname__}",
            fix="register it: @register_model_class above its class statement "
            "(from tinygrad_edu.saving import register_model_class), or save only the weights "
            "with model.save_weights(path)",
        )
    return cls.__name__


def model_class(name: str, where: str, custom_objects: Any = None) -> type:
    """The class called ``name`` in ``custom_objects`` (Keras' ``{"Net": Net}``) or registered;
    a ``CheckpointError`` showing the decorator and naming the known ones."""
    if custom_objects is not None and not (
        isinstance(custom_objects, dict)
        and all(isinstance(k, str) and isinstance(v, type) for k, v in custom_objects.items())
    ):
        raise ConfigError(
            where=where,
            expected="custom_objects as a dict of class names to model classes",
            got=repr(custom_objects)[:80],
            fix="load_model(path, custom_objects={'Net': Net})",
        )
    cls = (custom_objects or {}).get(name) or _MODEL_CLASSES.get(name)
    if cls is None:
        raise CheckpointError(
            where=where,
            expected="a registered model class, or one given in custom_objects",
            got=f"unknown model class {name!r}",
            fix=f"register it where it is defined: @register_model_class above 'class {name}"
            "(Model):' (from tinygrad_edu.saving import register_model_class) and import that "
            f"module first, or load_model(path, custom_objects={{{name!r}: {name}}}); "
            + suggest(name, _MODEL_CLASSES),
        )
    return cls


def registered_model_classes() -> List[str]:
    """The names ``load_model`` can rebuild, sorted."""
    return sorted(_MODEL_CLASSES)


__all__ = ["model_class", "register_model_class", "registered_model_classes", "registered_name"]
