namespace Orleans.Rooms.Membership;

[GenerateSerializer, Immutable, Alias("rooms.SocketFailure")]
internal sealed record SocketFailure([property: Id(0)] string SocketId, [property: Id(1)] Exception Error);
