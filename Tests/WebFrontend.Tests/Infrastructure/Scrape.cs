using System.Globalization;

namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>One scrape of a front end's <c>/metrics</c> (Prometheus text format), read by metric name and labels.</summary>
public sealed class Scrape(string text)
{
    public string Text { get; } = text;

    public static async Task<Scrape> TakeAsync(HttpClient http)
    {
        var response = await http.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of the samples of <paramref name="name"/> that carry every label given (<c>change="join"</c>), or null when there are none.</summary>
    public double? Value(string name, params string[] labels)
    {
        double? sum = null;
        foreach (var line in Text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue;
            }

            var labelEnd = rest[0] == '{' ? rest.IndexOf('}') : -1;
            var labelText = labelEnd > 0 ? rest[1..labelEnd] : string.Empty;
            if (!labels.All(label => labelText.Split(',').Contains(label)))
            {
                continue;
            }

            var fields = rest[(labelEnd + 1)..].Trim().Split(' ');
            sum = (sum ?? 0) + double.Parse(fields[0], CultureInfo.InvariantCulture);
        }

        return sum;
    }

    /// <summary>As <see cref="Value"/>, 0 when there is no such sample yet (a counter appears with its first count).</summary>
    public double Count(string name, params string[] labels) => Value(name, labels) ?? 0;
}
