namespace Orleans.Rooms.Membership;

/// <summary>
/// An operation on several sockets succeeded for some and failed for others. What succeeded stays
/// applied; <see cref="Failures"/> says which sockets failed and why.
/// </summary>
public sealed class PartialFailureException : AggregateException
{
    internal PartialFailureException(string operation, IReadOnlyList<string> succeeded, IReadOnlyList<KeyValuePair<string, Exception>> failures)
        : base(Describe(operation, succeeded, failures), failures.Select(f => f.Value))
    {
        Succeeded = succeeded;
        Failures = failures;
    }

    /// <summary>The sockets the operation succeeded for; it stays applied to them.</summary>
    public IReadOnlyList<string> Succeeded { get; }

    /// <summary>The sockets it failed for, each with its error.</summary>
    public IReadOnlyList<KeyValuePair<string, Exception>> Failures { get; }

    private static string Describe(string operation, IReadOnlyList<string> succeeded, IReadOnlyList<KeyValuePair<string, Exception>> failures)
        => $"{operation}: {succeeded.Count} of {succeeded.Count + failures.Count} sockets succeeded (and stay applied); failed: "
           + string.Join("; ", failures.Take(10).Select(f => $"'{f.Key}': {f.Value.Message}"))
           + (failures.Count > 10 ? $"; and {failures.Count - 10} more" : string.Empty);
}
