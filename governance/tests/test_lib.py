import pytest

from governance.lib import department_board_size


@pytest.mark.parametrize(
    ("households", "size"),
    [(1, 3), (100, 3), (101, 5), (400, 5), (401, 7), (700, 7), (701, 9), (3000, 9)],
)
def test_board_size_follows_the_household_thresholds(households, size):
    assert department_board_size(households) == size


def test_board_size_refuses_a_department_without_households():
    with pytest.raises(ValueError, match="at least one household"):
        department_board_size(0)
