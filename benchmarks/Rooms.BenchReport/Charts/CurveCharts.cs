using Orleans.Rooms.BenchReport.Results;
using ScottPlot;

namespace Orleans.Rooms.BenchReport.Charts;

/// <summary>The growth curves as PNGs: for each axis (room size, rooms in the system) join latency, time to
/// deliver one broadcast to every member, and server CPU per delivery, on a log10 x axis.</summary>
internal static class CurveCharts
{
    public sealed record Chart(string File, string Title, string Axis);

    public static IReadOnlyList<Chart> Write(IReadOnlyList<CurvePoint> points, string folder)
    {
        var charts = new List<Chart>();
        foreach (var (axis, xLabel) in new[] { (CurvePoint.RoomSize, "members in the room"), (CurvePoint.Rooms, "rooms in the system") })
        {
            var line = points.Where(p => p.Axis == axis).OrderBy(p => p.X).ToArray();
            if (line.Length == 0)
            {
                continue;
            }

            var what = axis == CurvePoint.RoomSize ? "room size" : "number of rooms";
            charts.Add(Save(folder, $"join-latency-vs-{axis.Replace('_', '-')}.png", $"Join latency vs {what}", xLabel, "join answer time (ms)", line,
                ("p50", p => p.JoinP50Ms), ("p99", p => p.JoinP99Ms)));
            charts.Add(Save(folder, $"broadcast-time-vs-{axis.Replace('_', '-')}.png", $"Time to deliver one broadcast vs {what}", xLabel,
                "send → last member (ms)", line, ("p50", p => p.DeliverP50Ms), ("p99", p => p.DeliverP99Ms)));
            charts.Add(Save(folder, $"broadcast-cpu-vs-{axis.Replace('_', '-')}.png", $"Server CPU per delivery vs {what}", xLabel,
                "server CPU per delivery (µs)", line, ("CPU/delivery", p => p.CpuUsPerDelivery)));
        }

        return charts;

        Chart Save(string dir, string file, string title, string xLabel, string yLabel, CurvePoint[] line, params (string Name, Func<CurvePoint, double?> Y)[] series)
        {
            var plot = new Plot();
            foreach (var (name, y) in series)
            {
                var present = line.Where(p => y(p) is not null).ToArray();
                var scatter = plot.Add.Scatter(present.Select(p => Math.Log10(p.X)).ToArray(), present.Select(p => y(p)!.Value).ToArray());
                scatter.LegendText = name;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 7;
            }

            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                LabelFormatter = x => Math.Pow(10, x).ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            };
            plot.Axes.Bottom.TickGenerator = ticks;
            plot.Title(title);
            plot.XLabel(xLabel + " (log scale)");
            plot.YLabel(yLabel);
            plot.Axes.AutoScale();
            plot.Axes.SetLimitsY(0, Math.Max(plot.Axes.GetLimits().Top * 1.1, 0.001));
            plot.ShowLegend(Alignment.UpperLeft);
            plot.SavePng(Path.Combine(dir, file), 800, 450);
            return new Chart(file, title, line[0].Axis);
        }
    }

    /// <summary>How far a line strays from flat: its largest value over its smallest (1 = flat); null under two points.</summary>
    public static double? Spread(IReadOnlyList<CurvePoint> points, string axis, Func<CurvePoint, double?> y)
    {
        var values = points.Where(p => p.Axis == axis).Select(y).OfType<double>().ToArray();
        return values.Length < 2 || values.Min() <= 0 ? null : values.Max() / values.Min();
    }
}
