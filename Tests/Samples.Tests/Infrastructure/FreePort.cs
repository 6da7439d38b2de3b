using System.Net;
using System.Net.Sockets;

namespace Orleans.Rooms.Samples.Tests.Infrastructure;

/// <summary>A loopback port that nothing listens on now (for the silo ports, which cannot be asked for as port 0).</summary>
public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
