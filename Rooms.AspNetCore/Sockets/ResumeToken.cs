using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A resume token: <c>&lt;socket id&gt;.&lt;front end&gt;.&lt;secret&gt;</c>, the front end that handed it out (its id in
/// base64url: where a resume elsewhere asks first, docs/design.md, "Locating a socket") and the secret, 256 random bits
/// in base64url. A token without the front end (<c>&lt;socket id&gt;.&lt;secret&gt;</c>, handed out before it was added)
/// still parses. The socket keeps only the secret bytes of the token it handed out last, compares in constant time,
/// and never logs either.
/// </summary>
internal static class ResumeToken
{
    private const int SecretBytes = 32;

    /// <summary>Front-end ids longer than this are not carried in a token (a resume then finds the socket without the hint).</summary>
    private const int MaxFrontEndBytes = 256;

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    public static string Format(string socketId, string? frontEndId, byte[] secret)
        => frontEndId is null || Encoding.UTF8.GetByteCount(frontEndId) > MaxFrontEndBytes
            ? socketId + "." + Base64Url.EncodeToString(secret)
            : socketId + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(frontEndId)) + "." + Base64Url.EncodeToString(secret);

    /// <summary>Splits a token as a client sent it; false when it cannot be one.</summary>
    public static bool TryParse(string? token, out string socketId, out byte[] secret) => TryParse(token, out socketId, out _, out secret);

    /// <summary>Splits a token as a client sent it, with the front end that handed it out (null when it names none); false when it cannot be one.</summary>
    public static bool TryParse(string? token, out string socketId, out string? frontEndId, out byte[] secret)
    {
        socketId = string.Empty;
        frontEndId = null;
        secret = [];
        var dot = token?.LastIndexOf('.') ?? -1;
        if (dot < 1 || token!.Length - dot - 1 > 64 || !TryDecode(token.AsSpan(dot + 1), SecretBytes, out var decoded) || decoded.Length != SecretBytes)
        {
            return false;
        }

        var head = token.AsSpan(0, dot);
        var first = head.IndexOf('.');
        if (first >= 0)
        {
            if (first < 1 || !TryDecode(head[(first + 1)..], MaxFrontEndBytes, out var frontEnd) || frontEnd.Length == 0)
            {
                return false;
            }

            frontEndId = Encoding.UTF8.GetString(frontEnd);
            head = head[..first];
        }

        socketId = head.ToString();
        secret = decoded;
        return true;
    }

    public static bool Matches(byte[] expected, byte[] given) => CryptographicOperations.FixedTimeEquals(expected, given);

    private static bool TryDecode(ReadOnlySpan<char> encoded, int maxBytes, out byte[] decoded)
    {
        decoded = [];
        if (Base64Url.GetMaxDecodedLength(encoded.Length) > maxBytes + 2)
        {
            return false;
        }

        var buffer = new byte[Base64Url.GetMaxDecodedLength(encoded.Length)];
        if (Base64Url.DecodeFromChars(encoded, buffer, out var read, out var written) != System.Buffers.OperationStatus.Done || read != encoded.Length)
        {
            return false;
        }

        decoded = buffer[..written];
        return true;
    }
}
