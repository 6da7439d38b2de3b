namespace Orleans.Rooms.WebFrontend.Tests.Infrastructure;

/// <summary>Names no other test uses, so tests can share one cluster without seeing each other's rooms.</summary>
public static class Unique
{
    public static string Room() => "room-" + Guid.NewGuid().ToString("N")[..10];
}
