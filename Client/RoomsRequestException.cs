namespace Orleans.Rooms.Client;

/// <summary>A virtual request was answered with a status code other than 2xx (see <see cref="RoomsResponse.EnsureSuccess"/>).</summary>
public sealed class RoomsRequestException(RoomsResponse response)
    : Exception($"The request was answered with {response}")
{
    /// <summary>The response that was not a success.</summary>
    public RoomsResponse Response { get; } = response;
}
