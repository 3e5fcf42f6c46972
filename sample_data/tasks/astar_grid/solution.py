"""A* shortest paths on a character grid."""

from __future__ import annotations

import heapq
import itertools

Cell = tuple[int, int]

WALL = "#"
OPEN = "."


def _heuristic(a: Cell, b: Cell, diagonal: bool) -> int:
    dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
    return max(dr, dc) if diagonal else dr + dc


def shortest_path(
    grid: list[str], start: Cell, goal: Cell, diagonal: bool = False
) -> list[Cell] | None:
    """Return the cells of a shortest path from ``start`` to ``goal`` inclusive.

    ``grid`` is a list of equal-length strings of "." (open) and "#" (wall);
    cells are ``(row, col)``. Every move costs 1. With ``diagonal`` a move may
    go diagonally, but never squeezes between two walls at a corner. Returns
    None when the goal is unreachable.
    """
    if not isinstance(grid, list) or not all(isinstance(row, str) for row in grid):
        raise TypeError("grid must be a list of str rows")
    if not grid or not grid[0] or any(len(row) != len(grid[0]) for row in grid):
        raise ValueError("grid must be a non-empty rectangle")
    if any(ch not in (WALL, OPEN) for row in grid for ch in row):
        raise ValueError("grid may only contain '.' and '#'")
    if any(
        not (
            isinstance(c, tuple) and len(c) == 2 and all(isinstance(v, int) for v in c)
        )
        for c in (start, goal)
    ):
        raise TypeError("start and goal must be (row, col) int tuples")
    if any(
        not (0 <= r < len(grid) and 0 <= c < len(grid[0])) for r, c in (start, goal)
    ):
        raise ValueError("start and goal must lie inside the grid")
    if grid[start[0]][start[1]] == WALL or grid[goal[0]][goal[1]] == WALL:
        raise ValueError("start and goal must be open cells")

    rows, cols = len(grid), len(grid[0])
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if diagonal:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]

    tie = itertools.count()
    frontier: list[tuple[int, int, Cell]] = [
        (_heuristic(start, goal, diagonal), next(tie), start)
    ]
    came_from: dict[Cell, Cell | None] = {start: None}
    cost: dict[Cell, int] = {start: 0}
    while frontier:
        _, _, current = heapq.heappop(frontier)
        if current == goal:
            path = [current]
            while (prev := came_from[path[-1]]) is not None:
                path.append(prev)
            return path[::-1]
        r, c = current
        for dr, dc in steps:
            nr, nc = r + dr, c + dc
            if not (0 <= nr < rows and 0 <= nc < cols) or grid[nr][nc] == WALL:
                continue
            if dr and dc and (grid[r + dr][c] == WALL or grid[r][c + dc] == WALL):
                continue
            new_cost = cost[current] + 1
            if new_cost < cost.get((nr, nc), new_cost + 1):
                cost[(nr, nc)] = new_cost
                came_from[(nr, nc)] = current
                priority = new_cost + _heuristic((nr, nc), goal, diagonal)
                heapq.heappush(frontier, (priority, next(tie), (nr, nc)))
    return None
