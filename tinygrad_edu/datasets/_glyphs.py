"""Stroke templates for the ten digits, a few handwriting styles each.

A glyph is a list of strokes; a stroke is an ``(m, 2)`` float array of points ``(x, y)`` in a unit
box (x to the right, y *down*, like image rows), spaced about ``STEP`` apart so that later smooth
warps bend them like pen strokes. Angles are in degrees with y down: 0 = right, 90 = down,
-90 = up, so increasing angles run clockwise on screen.

``GLYPHS[d]`` is a list of ``(weight, strokes)`` style variants for digit ``d``; the weights are
relative frequencies of the styles.
"""

from __future__ import annotations

import numpy as np

STEP = 0.06  # template point spacing (unit box); ~1.1 px once scaled to a 20 px digit


def _n_points(length: float) -> int:
    return max(2, int(np.ceil(length / STEP)) + 1)


def line(*points: tuple[float, float]) -> np.ndarray:
    """A polyline through ``points``, resampled every ``STEP``."""
    pts = np.asarray(points, dtype=np.float64)
    pieces = []
    for a, b in zip(pts[:-1], pts[1:]):
        t = np.linspace(0.0, 1.0, _n_points(float(np.hypot(*(b - a)))))[:-1, None]
        pieces.append(a + t * (b - a))
    pieces.append(pts[-1:])
    return np.concatenate(pieces)


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> np.ndarray:
    """Elliptic arc from angle ``a0`` to ``a1`` (degrees, clockwise on screen when a1 > a0)."""
    length = np.deg2rad(abs(a1 - a0)) * (rx + ry) / 2
    ang = np.deg2rad(np.linspace(a0, a1, _n_points(length)))
    return np.stack([cx + rx * np.cos(ang), cy + ry * np.sin(ang)], axis=1)


def bezier(*ctrl: tuple[float, float]) -> np.ndarray:
    """Cubic Bezier curve through 4 control points."""
    p = np.asarray(ctrl, dtype=np.float64)
    length = float(np.sum(np.hypot(*(p[1:] - p[:-1]).T)))
    t = np.linspace(0.0, 1.0, _n_points(length))[:, None]
    u = 1.0 - t
    return u**3 * p[0] + 3 * u**2 * t * p[1] + 3 * u * t**2 * p[2] + t**3 * p[3]


def join(*parts: np.ndarray) -> np.ndarray:
    """One continuous stroke made of consecutive parts (drops duplicated joints)."""
    out = [parts[0]]
    for part in parts[1:]:
        out.append(part[1:] if np.allclose(part[0], out[-1][-1]) else part)
    return np.concatenate(out)


def _zero():
    return [
        (3, [arc(0.5, 0.5, 0.34, 0.5, -100, 270)]),
        (2, [arc(0.5, 0.5, 0.28, 0.5, -80, 285)]),
        (1, [arc(0.5, 0.5, 0.42, 0.48, -120, 245)]),
    ]


def _one():
    stem = line((0.5, 0.0), (0.5, 1.0))
    return [
        (5, [stem]),
        (3, [join(line((0.28, 0.22), (0.5, 0.0)), stem)]),
        (1, [join(line((0.28, 0.22), (0.5, 0.0)), stem), line((0.25, 1.0), (0.75, 1.0))]),
    ]


def _two():
    top = arc(0.5, 0.3, 0.33, 0.3, 195, 375)
    end = top[-1]
    return [
        (
            4,
            [
                join(
                    top,
                    bezier(end, (0.7, 0.6), (0.35, 0.8), (0.1, 1.0)),
                    line((0.1, 1.0), (0.95, 1.0)),
                )
            ],
        ),
        (2, [join(top, line(end, (0.1, 1.0), (0.95, 0.98)))]),
        (
            1,
            [
                join(
                    top,
                    bezier(end, (0.75, 0.6), (0.3, 0.8), (0.15, 0.92)),
                    arc(0.26, 0.9, 0.11, 0.09, 180, 450),
                    line((0.26, 0.99), (0.95, 1.0)),
                )
            ],
        ),
    ]


def _three():
    bottom = arc(0.47, 0.72, 0.36, 0.28, -100, 150)
    return [
        (4, [join(arc(0.5, 0.26, 0.3, 0.26, 200, 450), bottom)]),
        (
            2,
            [
                join(
                    line((0.15, 0.0), (0.85, 0.0), (0.45, 0.42)),
                    arc(0.47, 0.71, 0.36, 0.29, -90, 150),
                )
            ],
        ),
    ]


def _four():
    return [
        (3, [line((0.62, 0.0), (0.05, 0.65), (0.95, 0.65)), line((0.65, 0.05), (0.65, 1.0))]),
        (3, [line((0.2, 0.0), (0.12, 0.6), (0.95, 0.6)), line((0.72, 0.0), (0.72, 1.0))]),
        (1, [line((0.45, 0.0), (0.1, 0.6), (0.95, 0.58)), line((0.72, 0.25), (0.68, 1.0))]),
    ]


def _five():
    belly = arc(0.45, 0.68, 0.36, 0.31, -140, 150)
    return [
        (4, [line((0.85, 0.0), (0.22, 0.0)), join(line((0.22, 0.0), (0.18, 0.46)), belly)]),
        (2, [join(line((0.25, 0.0), (0.17, 0.47)), belly), line((0.25, 0.02), (0.88, 0.0))]),
    ]


def _six():
    neck = bezier((0.75, 0.0), (0.4, 0.12), (0.16, 0.42), (0.16, 0.7))
    return [
        (3, [join(neck, arc(0.47, 0.71, 0.31, 0.28, 180, 530))]),
        (2, [join(line((0.7, 0.0), (0.2, 0.6)), arc(0.48, 0.72, 0.3, 0.27, 200, 560))]),
    ]


def _seven():
    top = (0.08, 0.0), (0.92, 0.0)
    return [
        (4, [line(*top, (0.4, 1.0))]),
        (2, [line(*top, (0.4, 1.0)), line((0.32, 0.52), (0.82, 0.5))]),
        (
            2,
            [
                join(
                    line((0.08, 0.14), *top),
                    bezier((0.92, 0.0), (0.7, 0.3), (0.5, 0.6), (0.5, 1.0)),
                )
            ],
        ),
    ]


def _eight():
    return [
        (3, [arc(0.5, 0.25, 0.26, 0.25, -90, 270), arc(0.5, 0.73, 0.34, 0.27, -90, 270)]),
        (
            2,
            [
                join(
                    bezier((0.78, 0.05), (0.4, -0.12), (0.05, 0.25), (0.5, 0.48)),
                    bezier((0.5, 0.48), (1.0, 0.72), (0.72, 1.02), (0.5, 1.0)),
                    bezier((0.5, 1.0), (0.2, 1.0), (0.0, 0.72), (0.5, 0.48)),
                    bezier((0.5, 0.48), (0.9, 0.25), (0.8, 0.1), (0.7, 0.02)),
                )
            ],
        ),
    ]


def _nine():
    loop = arc(0.48, 0.28, 0.32, 0.28, 0, 360)
    return [
        (4, [loop, line((0.8, 0.28), (0.74, 1.0))]),
        (2, [loop, bezier((0.8, 0.28), (0.82, 0.75), (0.65, 1.0), (0.3, 0.96))]),
        (1, [arc(0.5, 0.27, 0.33, 0.27, 10, 370), line((0.83, 0.3), (0.5, 1.0))]),
    ]


GLYPHS: list[list[tuple[float, list[np.ndarray]]]] = [
    _zero(),
    _one(),
    _two(),
    _three(),
    _four(),
    _five(),
    _six(),
    _seven(),
    _eight(),
    _nine(),
]
