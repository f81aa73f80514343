"""Pure helpers for the governance model (no Django imports; tested on their own)."""

def department_board_size(households: int) -> int:
    """Members of a department board by the department's size (3, 5, 7 or 9).

    ≤100 households: 3, ≤400: 5, ≤700: 7, more: 9.
    """
    if households < 1:
        raise ValueError("a department has at least one household")
    if households <= 100:
        return 3
    if households <= 400:
        return 5
    if households <= 700:
        return 7
    return 9
