using Microsoft.AspNetCore.SignalR;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// What a connection asks for in its query (README, "Resuming after a blip"): <c>resumable=1</c> (or <c>2</c>)
/// for a new resumable socket, or <c>resume=&lt;token&gt;&amp;seq=&lt;last seq processed&gt;</c> (and
/// <c>v=2</c>) to take one over (and be a new resumable socket when that fails). Neither: a plain socket, as
/// any SignalR client gets. Version 2 of the contract adds each event's broadcast id to <c>rooms.event</c>, by
/// which the client skips an event it processed already: what a resume from the cluster's record needs.
/// A connection a front end makes to its own hub for another wire says what it asks for through
/// <see cref="IResumeRequestFeature"/> instead (socket.io's connection-state recovery, <see cref="AcksByOffset"/>).
/// </summary>
/// The client of a resumable socket with <c>AcksByOffset</c> never acknowledges events: the last one it processed,
/// named when it resumes, is its acknowledgement, and it resumes with the token it was handed first (socket.io's
/// <c>pid</c> and <c>offset</c>): see <see cref="ResumableSocket"/>.
internal readonly record struct ResumeRequest(bool Resumable, string? Token, long Seq, int Version = 1, bool AcksByOffset = false)
{
    public static ResumeRequest Of(HubConnectionContext connection)
    {
        if (connection.Features.Get<IResumeRequestFeature>() is { } feature)
        {
            return feature.ResumeRequest;
        }

        if (connection.GetHttpContext()?.Request.Query is not { } query)
        {
            return default;
        }

        var token = query["resume"].ToString();
        if (token.Length > 0)
        {
            var seq = long.TryParse(query["seq"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 0;
            return new ResumeRequest(true, token, seq, query["v"].ToString() == "2" ? 2 : 1);
        }

        var resumable = query["resumable"].ToString();
        return new ResumeRequest(resumable is "1" or "2" or "true", null, 0, resumable == "2" ? 2 : 1);
    }

    /// <summary>Not a record's usual text: the token is a secret and must not reach a log through it.</summary>
    public override string ToString() => $"ResumeRequest {{ Resumable = {Resumable}, Seq = {Seq}, Version = {Version}, AcksByOffset = {AcksByOffset} }}";
}

/// <summary>What a connection to the hub asks for when its query does not say it (Sails' own wire: <see cref="SocketIo.SocketIoConnection"/>).</summary>
internal interface IResumeRequestFeature
{
    ResumeRequest ResumeRequest { get; }
}
