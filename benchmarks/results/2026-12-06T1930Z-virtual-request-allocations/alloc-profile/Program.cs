using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;
// at2 TRACE OPS [filter] : inclusive allocation bytes per method (sampled ticks), and per (type <- first frame matching filter)
var ops = double.Parse(args[1]);
var filter = args.Length > 2 ? args[2] : "Orleans.Rooms";
var callersOf = args.Length > 4 ? args[4] : null;
var callers = new Dictionary<string, double>();
var etlx = TraceLog.CreateFromEventPipeDataFile(args[0]); using var log = new TraceLog(etlx);
var inclusive = new Dictionary<string, double>();
var byTypeFrame = new Dictionary<string, double>();
double total = 0;
foreach (var ev in log.Events)
{
    if (ev is not GCAllocationTickTraceData e) continue;
    double size = e.AllocationAmount64;
    total += size;
    var seen = new HashSet<string>();
    string? first = null;
    int depth = 0;
    for (var s = e.CallStack(); s != null && depth < 60; s = s.Caller, depth++)
    {
        var m = s.CodeAddress.FullMethodName;
        if (string.IsNullOrEmpty(m)) continue;
        if (seen.Add(m)) inclusive[m] = inclusive.GetValueOrDefault(m) + size;
        if (first is null && m.Contains(filter)) first = m;
        if (callersOf is not null && m.Contains(callersOf)) { var chain = new List<string>(); for (var c = s.Caller; c != null && chain.Count < 4; c = c.Caller) { var n = c.CodeAddress.FullMethodName; if (!string.IsNullOrEmpty(n)) chain.Add(n.Length > 110 ? n[..110] : n); } var key2 = e.TypeName + " | " + string.Join(" <- ", chain); callers[key2] = callers.GetValueOrDefault(key2) + size; callersOf = callersOf; }
    }
    var key = $"{e.TypeName}  <-  {first ?? "(none)"}";
    byTypeFrame[key] = byTypeFrame.GetValueOrDefault(key) + size;
}
Console.WriteLine($"total {total / ops:F0} B/op");
Console.WriteLine("== inclusive by method ==");
foreach (var (k, v) in inclusive.OrderByDescending(p => p.Value).Take(int.Parse(args.Length > 3 ? args[3] : "80")))
    Console.WriteLine($"{v / ops,8:F0} {k}");
if (callersOf is not null) { Console.WriteLine("== callers =="); foreach (var (k, v) in callers.OrderByDescending(p => p.Value).Take(25)) Console.WriteLine($"{v / ops,8:F0} {k}"); }
Console.WriteLine("== type <- first frame ==");
foreach (var (k, v) in byTypeFrame.OrderByDescending(p => p.Value).Take(60))
    Console.WriteLine($"{v / ops,8:F0} {k}");
