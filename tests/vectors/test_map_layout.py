"""The 2-D map layouts (vectors/layout.py) on data with real structure: points near each other in
the layout are near each other in the vectors' space, clusters stay apart."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.typing import NDArray

from bucketdex.vectors.layout import MapLayoutMissing, pca_preview, refine


def _clusters(
    n_clusters: int, per: int, dim: int, seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim)) * 4
    labels = np.repeat(np.arange(n_clusters), per)
    points = centres[labels] + rng.standard_normal((len(labels), dim))
    order = rng.permutation(len(labels))
    return points[order].astype(np.float32), labels[order]


def _label_agreement(layout: NDArray[np.float32], labels: NDArray[np.int64], k: int = 10) -> float:
    """The share of each point's k nearest neighbours in the layout that share its cluster."""
    squared = ((layout[:, None, :] - layout[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(squared, np.inf)
    nearest = np.argsort(squared, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def _trustworthiness(high: NDArray[np.float32], low: NDArray[np.float32], k: int = 10) -> float:
    """Venna & Kaski's trustworthiness: 1 when every layout neighbour is a true neighbour,
    about 0.5 for a random layout (penalised by how far down the true ranking intruders sit)."""
    n = len(high)
    d_high = ((high[:, None, :] - high[None, :, :]) ** 2).sum(-1)
    d_low = ((low[:, None, :] - low[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d_high, np.inf)
    np.fill_diagonal(d_low, np.inf)
    rank_high = np.empty((n, n), dtype=np.int64)
    order = np.argsort(d_high, axis=1)
    rank_high[np.arange(n)[:, None], order] = np.arange(1, n + 1)
    low_nearest = np.argsort(d_low, axis=1)[:, :k]
    penalty = np.maximum(rank_high[np.arange(n)[:, None], low_nearest] - k, 0).sum()
    return float(1 - 2 / (n * k * (2 * n - 3 * k - 1)) * penalty)


def test_pca_preview_keeps_well_separated_clusters_apart() -> None:
    points, labels = _clusters(4, 500, 128)
    layout = pca_preview(points)
    assert layout.shape == (2000, 2) and layout.dtype == np.float32
    assert _label_agreement(layout, labels) > 0.95


def test_pca_preview_of_a_random_layout_would_fail_the_check() -> None:
    """The check above can fail: a layout unrelated to the clusters scores at chance."""
    _, labels = _clusters(4, 500, 128)
    noise = np.random.default_rng(1).standard_normal((2000, 2)).astype(np.float32)
    assert _label_agreement(noise, labels) < 0.4


def test_pca_preview_axes_are_the_principal_ones() -> None:
    """Points spread along two known directions come out spread along the two map axes, in
    proportion (the sample's axes stand for all)."""
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.standard_normal((64, 2)))[0].T
    coefficients = rng.standard_normal((5000, 2)) * [10.0, 3.0]
    points = (coefficients @ basis + rng.standard_normal((5000, 64)) * 0.05).astype(np.float32)
    layout = pca_preview(points, metric="l2")
    assert abs(np.corrcoef(layout[:, 0], coefficients[:, 0])[0, 1]) > 0.99
    assert abs(np.corrcoef(layout[:, 1], coefficients[:, 1])[0, 1]) > 0.99


def test_refine_keeps_neighbourhoods_and_places_the_points_outside_the_sample() -> None:
    points, labels = _clusters(8, 250, 64, seed=2)
    layout = refine(points, sample=800, seed=0, metric="l2")
    assert layout.shape == (2000, 2) and layout.dtype == np.float32
    assert np.isfinite(layout).all()
    assert _label_agreement(layout, labels) > 0.95
    assert _trustworthiness(points, layout) > 0.85
    random = np.random.default_rng(0).standard_normal((2000, 2)).astype(np.float32)
    assert _trustworthiness(points, random) < 0.6


def test_refine_with_cosine_lays_out_directions_not_lengths() -> None:
    """Vectors of one direction at very different lengths are one cluster under cosine."""
    rng = np.random.default_rng(5)
    directions = rng.standard_normal((3, 32))
    labels = np.repeat(np.arange(3), 200)
    lengths = rng.uniform(0.1, 50, size=(600, 1))
    points = (directions[labels] + rng.standard_normal((600, 32)) * 0.1) * lengths
    layout = refine(points.astype(np.float32), sample=300, metric="cosine")
    assert _label_agreement(layout, labels) > 0.95


def test_refine_of_very_few_points_still_answers() -> None:
    points = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]], dtype=np.float32)
    layout = refine(points)
    assert layout.shape == (3, 2) and np.isfinite(layout).all()


def test_refine_without_umap_says_how_to_install_it_and_pca_still_works() -> None:
    """A fresh interpreter where umap cannot be imported (as without the map extra)."""
    script = (
        "import sys; sys.modules['umap'] = None\n"
        "import numpy as np\n"
        "from bucketdex.vectors.layout import MapLayoutMissing, pca_preview, refine\n"
        "m = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)\n"
        "assert pca_preview(m).shape == (50, 2)\n"
        "try:\n    refine(m)\nexcept MapLayoutMissing as e:\n    print(e.code, '|', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.startswith("map_layout_missing |")
    assert "pip install 'bucketdex[map]'" in out and "PCA preview" in out
    assert issubclass(MapLayoutMissing, Exception)


@pytest.mark.parametrize("n", [0, 1])
def test_pca_preview_of_nothing_or_one_vector(n: int) -> None:
    layout = pca_preview(np.ones((n, 16), dtype=np.float32))
    assert layout.shape == (n, 2) and np.isfinite(layout).all()


def test_refine_keeps_apart_clusters_spread_over_many_dimensions() -> None:
    """200 centres in random directions of a 256-d space, each point varying in a 64-d subspace
    all clusters share (as real embeddings vary along common axes): the shared variation fills
    the top principal axes, so a layout in too few of them merges clusters (50 axes: 0.91)."""
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((200, 256))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    shared = rng.standard_normal((64, 256)) / 16 * (0.3 / np.sqrt(np.arange(1, 65)))[:, None]
    labels = rng.integers(0, 200, 6000)
    points = centres[labels] + rng.standard_normal((6000, 64)) @ shared
    points += rng.standard_normal((6000, 256)) * 0.2 / 16
    layout = refine(points.astype(np.float32), sample=3000, metric="cosine")
    assert _label_agreement(layout, labels, k=5) > 0.95
