"""The Hub pane's side panel: what the adaptive strategy would choose at each complexity
(with its evidence) and the optimizer's recommendations, as the engine computed them."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from workbench.ui.widgets.quiet import show

SHORT = {"VERY_COMPLEX": "V.COMPLEX"}
MAX_RECOMMENDATIONS = 5


def strategy_lines(table: list[dict]) -> list[Text]:
    lines = [Text(f"{'level':<10} {'choice':<12} P(best) n", style="dim")]
    for row in table:
        evidence = str(row["evidence"]) if row["evidence"] else "—"
        lines.append(
            Text.assemble(
                (f"{SHORT.get(row['complexity'], row['complexity']):<10} ", "bold"),
                f"{row['strategy']:<12} {row['confidence']:>6.0%} ",
                (evidence, "" if row["evidence"] else "dim"),
            )
        )
    return lines


def recommendation_lines(report: dict) -> list[Text]:
    if not report["executions"]:
        return [Text("no data: no agent executions recorded", style="dim")]
    recs = report["recommendations"][:MAX_RECOMMENDATIONS]
    if not recs:
        return [Text(f"none (needs two agents with ≥ {report['min_runs']} runs on one category)",
                     style="dim")]  # fmt: skip
    lines = []
    for r in recs:
        lines.append(Text.assemble((f"[{r['priority']:>2}] ", "bold"), r["title"]))
        lines.append(Text(f"     {r['expected_improvement']}", style="dim"))
    more = len(report["recommendations"]) - len(recs)
    if more > 0:
        lines.append(Text(f"     … {more} more (workbench perf report)", style="dim"))
    return lines


class HubAdvice(Static):
    """Adaptive strategy per complexity, then the top recommendations."""

    def show(self, table: list[dict], stats: dict, report: dict) -> None:
        rate = stats["success_rate"]
        succeeded = "" if rate is None else f" · {rate:.0%} succeeded"
        n = len(report["bottlenecks"])
        bottlenecks = f"{n} bottleneck{'s' * (n != 1)}"
        lines = [
            Text("Adaptive strategy", style="bold"),
            Text(
                f"{stats['outcomes']} recorded outcomes{succeeded}"
                + sample_note(stats.get("sample_outcomes")),
                style="dim",
            ),
            *strategy_lines(table),
            Text(""),
            Text("Performance recommendations", style="bold"),
            Text(
                f"{report['executions']} executions{sample_note(report.get('sample_executions'))}"
                f" · {bottlenecks}",
                style="dim",
            ),
            *recommendation_lines(report),
        ]
        show(self, Text("\n").join(lines))  # a feed refresh mostly changes nothing here


def sample_note(n: int | None) -> str:
    """Figures drawn from the seeded sample history say how much of it they rest on."""
    return f" ({n} from sample data)" if n else ""
