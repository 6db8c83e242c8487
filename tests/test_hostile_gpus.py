"""gpus() and any argument: a list of GPUs or the documented ValueError.

gpus() runs with an empty folder as PATH (no nvidia-smi: a CPU runtime), so a valid timeout
answers at once; a bad one must be refused before anything runs.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap._session import SESSION
from conftest import fresh_session


@pytest.fixture
def cpu_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH holds one empty folder: no nvidia-smi anywhere."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))


def _valid_timeout(value: object) -> bool:
    """What gpus() documents as a timeout: a real number (not a bool) above 0, under a day."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return False
    return 0 < value < 86_400


@pytest.mark.parametrize(
    "bad",
    [
        "5",
        None,
        True,
        False,
        b"5",
        [5],
        math.nan,
        -math.inf,
        math.inf,
        0,
        -1,
        86_400,
        10**400,
        1e300,
        Decimal(5),
        object(),
    ],
)
def test_a_timeout_that_is_not_a_number_of_seconds_is_a_value_error(
    cpu_only: None, bad: object
) -> None:
    """gpus('5'), gpus(None), gpus(True) and huge numbers are ValueError, nothing is run."""
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds") as info:
        colab_bootstrap.gpus(bad)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert SESSION.gpu is None  # refused before any check ran


def test_a_bool_timeout_points_at_refresh(cpu_only: None) -> None:
    """gpus(True) is a slip for gpus(refresh=True): the message says so."""
    with pytest.raises(ValueError, match=r"gpus\(refresh=True\)"):
        colab_bootstrap.gpus(True)  # noqa: FBT003 - the slip this test is about


def test_refresh_must_be_true_or_false(cpu_only: None) -> None:
    """gpus(refresh="yes") is a ValueError naming refresh."""
    with pytest.raises(ValueError, match="refresh must be True or False"):
        colab_bootstrap.gpus(refresh="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("good", [1, 2.5, Fraction(3, 2), 86_399])
def test_a_number_of_seconds_is_a_timeout(cpu_only: None, good: object) -> None:
    """ints, floats and other real numbers under a day run the check (no GPU here)."""
    assert colab_bootstrap.gpus(good, refresh=True) == []  # type: ignore[arg-type]


_ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.fractions(),
    st.decimals(),
    st.text(max_size=10),
    st.binary(max_size=10),
    st.lists(st.integers(), max_size=2),
    st.complex_numbers(),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=_ANYTHING)
def test_gpus_returns_a_list_or_raises_value_error(
    tmp_path: Path, cpu_only: None, value: object
) -> None:
    """Whatever the timeout: a list (a valid one) or a ValueError (any other), nothing else."""
    fresh_session(tmp_path)
    if _valid_timeout(value):
        assert colab_bootstrap.gpus(value) == []  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match="timeout"):
            colab_bootstrap.gpus(value)  # type: ignore[arg-type]
