namespace Orleans.Rooms;

/// <summary>The input rules for room and event names, in one place for every caller.</summary>
public static class Names
{
    /// <summary>The event a broadcast without an event name sends (Sails' default): <c>message</c>.</summary>
    public const string DefaultEventName = "message";

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> and the value when <paramref name="room"/> is not a valid room name.</summary>
    public static void ValidateRoom(string? room, int maxLength, string paramName)
        => Validate(room, maxLength, paramName, "room name");

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> and the value when <paramref name="eventName"/> is not a valid event name.</summary>
    public static void ValidateEvent(string? eventName, int maxLength, string paramName)
        => Validate(eventName, maxLength, paramName, "event name");

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> and the value when <paramref name="value"/> is not a valid <paramref name="what"/> (room names' rules).</summary>
    internal static void ValidateName(string? value, int maxLength, string paramName, string what)
        => Validate(value, maxLength, paramName, what);

    private static void Validate(string? value, int maxLength, string paramName, string what)
    {
        ArgumentNullException.ThrowIfNull(value, paramName);
        if (value.Length == 0)
        {
            throw new ArgumentException($"A {what} must not be empty.", paramName);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException($"A {what} may be at most {maxLength} characters long; '{Shorten(value)}' has {value.Length}.", paramName);
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsControl(value[i]))
            {
                throw new ArgumentException($"A {what} must not contain control characters; '{Shorten(value)}' has U+{(int)value[i]:X4} at index {i}.", paramName);
            }
        }
    }

    private static string Shorten(string value)
    {
        var clean = new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 40 ? clean + "…" : clean;
    }
}
