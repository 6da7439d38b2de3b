using Orleans.Rooms.BenchReport.Charts;
using Orleans.Rooms.BenchReport.Results;

namespace Orleans.Rooms.BenchReport.Tests;

public sealed class CurvePointTests
{
    // Written by benchmarks/Rooms.Curves (--quick), one line per point.
    private const string Line = """{"axis":"room_size","x":100,"members":100,"join_ms":{"n":20,"p50":0.896,"p90":1.167,"p99":3.633,"max":3.633},"deliver_ms":{"n":5,"p50":6.675,"p90":8.285,"p99":8.285,"max":8.285},"broadcasts":5,"deliveries":500,"lost":0,"server_cpu_s":0.02,"server_cpu_us_per_delivery":40,"errors":0}""";

    [Fact]
    public void APointOfTheCurvesToolIsReadWithItsLatenciesAndCpu()
    {
        var point = CurvePoint.Parse(Line);

        Assert.Equal(CurvePoint.RoomSize, point.Axis);
        Assert.Equal(100, point.X);
        Assert.Equal(0.896, point.JoinP50Ms);
        Assert.Equal(8.285, point.DeliverP99Ms);
        Assert.Equal(40, point.CpuUsPerDelivery);
        Assert.Equal(0, point.Lost);
    }

    [Fact]
    public void SpreadIsTheLargestOverTheSmallestOnOneAxis()
    {
        var points = new[]
        {
            CurvePoint.Parse(Line.Replace("\"x\":100", "\"x\":1000").Replace("\"p50\":0.896", "\"p50\":0.448")),
            CurvePoint.Parse(Line),
            CurvePoint.Parse(Line.Replace("room_size", "rooms").Replace("\"p50\":0.896", "\"p50\":9")),
        };

        Assert.Equal(2.0, CurveCharts.Spread(points, CurvePoint.RoomSize, p => p.JoinP50Ms)!.Value, 6);
        Assert.Null(CurveCharts.Spread(points, CurvePoint.Rooms, p => p.JoinP50Ms)); // one point is no line
    }
}
