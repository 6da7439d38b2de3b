using System.Diagnostics;
using System.Text;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>The spans of one trace as a tree: parents before children, siblings in the order they started.</summary>
public static class TraceTree
{
    /// <summary>Whether <paramref name="span"/> is <paramref name="ancestor"/> or below it, following parent ids through <paramref name="trace"/>.</summary>
    public static bool Descends(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (Activity? at = span; at is not null; at = trace.FirstOrDefault(s => s.SpanId == at.ParentSpanId))
        {
            if (at.SpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One line per span: name, source, kind, duration and the attributes that say what it did.</summary>
    public static string Print(IReadOnlyList<Activity> trace)
    {
        var text = new StringBuilder($"trace {trace.FirstOrDefault()?.TraceId}, {trace.Count} spans\n");
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        foreach (var root in trace.Where(s => !ids.Contains(s.ParentSpanId)).OrderBy(s => s.StartTimeUtc))
        {
            Append(root, 0);
        }

        return text.ToString();

        void Append(Activity span, int depth)
        {
            var tags = string.Join(' ', span.TagObjects
                .Where(t => t.Key is "rooms.socket.id" or "http.route" or "http.response.status_code" or "orleans.rpc.target_id")
                .Select(t => $"{t.Key}={t.Value}"));
            text.Append($"{new string(' ', depth * 2)}{span.DisplayName}  [{span.Source.Name}, {span.Kind}, {span.Duration.TotalMilliseconds:F1} ms] {tags}".TrimEnd()).Append('\n');
            foreach (var child in trace.Where(s => s.ParentSpanId == span.SpanId).OrderBy(s => s.StartTimeUtc))
            {
                Append(child, depth + 1);
            }
        }
    }
}
