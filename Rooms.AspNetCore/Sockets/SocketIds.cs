using System.Buffers.Text;
using System.Security.Cryptography;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// The shape of a socket id: 128 random bits in base64url, 22 characters, as SignalR makes connection ids and as
/// this front end makes the ids of the sockets it opens itself (socket.io, in-process). A room whose name has that
/// shape may be a socket's own-id room, which the cluster does not list (docs/design.md, "Locating a socket"):
/// a broadcast or read of it also asks where that socket is.
/// </summary>
internal static class SocketIds
{
    private const int Length = 22;

    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether <paramref name="name"/> has a socket id's shape (a cheap test, no lookup).</summary>
    public static bool CouldBe(string name)
    {
        if (name.Length != Length)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
