import pytest

from solution import shortest_path

MAZE = [
    ".....",
    ".###.",
    "...#.",
    "##.#.",
    ".....",
]


def assert_valid(grid, path, start, goal, diagonal=False):
    assert path[0] == start and path[-1] == goal
    for (r1, c1), (r2, c2) in zip(path, path[1:]):
        dr, dc = abs(r1 - r2), abs(c1 - c2)
        assert max(dr, dc) == 1 and (diagonal or dr + dc == 1)
        assert grid[r2][c2] == "."


def test_shortest_path_through_maze():
    path = shortest_path(MAZE, (0, 0), (4, 0))
    assert_valid(MAZE, path, (0, 0), (4, 0))
    assert len(path) == 9


def test_start_equals_goal():
    assert shortest_path(MAZE, (2, 2), (2, 2)) == [(2, 2)]


def test_unreachable_goal_returns_none():
    grid = ["..#..", "..#..", "..#.."]
    assert shortest_path(grid, (0, 0), (2, 4)) is None


def test_diagonal_moves_shorten_path_but_do_not_cut_corners():
    open_grid = ["....", "....", "...."]
    path = shortest_path(open_grid, (0, 0), (2, 3), diagonal=True)
    assert_valid(open_grid, path, (0, 0), (2, 3), diagonal=True)
    assert len(path) == 4
    corner = [".#", "#."]
    assert shortest_path(corner, (0, 0), (1, 1), diagonal=True) is None


def test_path_length_matches_breadth_first_search_on_larger_grid():
    grid = [
        "".join(
            "#" if (r * 7 + c * 3) % 11 == 0 and (r, c) != (0, 0) else "."
            for c in range(20)
        )
        for r in range(15)
    ]
    path = shortest_path(grid, (0, 0), (14, 19))
    assert_valid(grid, path, (0, 0), (14, 19))
    from collections import deque

    dist = {(0, 0): 0}
    queue = deque([(0, 0)])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if (
                0 <= nr < 15
                and 0 <= nc < 20
                and grid[nr][nc] == "."
                and (nr, nc) not in dist
            ):
                dist[(nr, nc)] = dist[(r, c)] + 1
                queue.append((nr, nc))
    assert len(path) - 1 == dist[(14, 19)]


def test_out_of_bounds_cells_raise_value_error():
    with pytest.raises(ValueError):
        shortest_path(MAZE, (-1, 0), (4, 4))
    with pytest.raises(ValueError):
        shortest_path(MAZE, (0, 0), (5, 0))


def test_wall_endpoints_and_bad_grids_raise_value_error():
    with pytest.raises(ValueError):
        shortest_path(MAZE, (1, 1), (0, 0))
    with pytest.raises(ValueError):
        shortest_path(["..", "."], (0, 0), (0, 1))
    with pytest.raises(ValueError):
        shortest_path([".x"], (0, 0), (0, 1))


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        shortest_path("..", (0, 0), (0, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        shortest_path([".."], [0, 0], (0, 1))  # type: ignore[arg-type]
