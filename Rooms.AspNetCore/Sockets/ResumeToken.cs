using System.Buffers.Text;
using System.Security.Cryptography;

namespace Orleans.Rooms.Sockets;

/// <summary>
/// A resume token: <c>&lt;socket id&gt;.&lt;secret&gt;</c>, the secret 256 random bits in base64url. The socket keeps
/// only the secret bytes of the token it handed out last, compares in constant time, and never logs either.
/// </summary>
internal static class ResumeToken
{
    private const int SecretBytes = 32;

    public static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretBytes);

    public static string Format(string socketId, byte[] secret) => socketId + "." + Base64Url.EncodeToString(secret);

    /// <summary>Splits a token as a client sent it; false when it cannot be one.</summary>
    public static bool TryParse(string? token, out string socketId, out byte[] secret)
    {
        socketId = string.Empty;
        secret = [];
        var dot = token?.LastIndexOf('.') ?? -1;
        if (dot < 1 || token!.Length - dot - 1 > 64)
        {
            return false;
        }

        var encoded = token.AsSpan(dot + 1);
        var decoded = new byte[Base64Url.GetMaxDecodedLength(encoded.Length)];
        if (Base64Url.DecodeFromChars(encoded, decoded, out var read, out var written) != System.Buffers.OperationStatus.Done || read != encoded.Length || written != SecretBytes)
        {
            return false;
        }

        socketId = token[..dot];
        secret = decoded[..written];
        return true;
    }

    public static bool Matches(byte[] expected, byte[] given) => CryptographicOperations.FixedTimeEquals(expected, given);
}
