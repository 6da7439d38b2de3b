namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>The example app's fixed answers, worded as docs/protocol.md (and the Sails seed) has them.</summary>
internal static class Answers
{
    public const string RoomNameRequiredText = "`roomName` is required.";
    public const string SocketOnlyText = "This endpoints only supports socket requests.";

    public static IResult RoomNameRequired { get; } = Text(StatusCodes.Status400BadRequest, RoomNameRequiredText);

    public static IResult SocketOnly { get; } = Text(StatusCodes.Status400BadRequest, SocketOnlyText);

    public static IResult Ok { get; } = Results.Json(new { ok = true });

    public static IResult Message(string message) => Results.Json(new { message });

    public static IResult Error(int statusCode, string message) => Results.Json(new { error = message }, statusCode: statusCode);

    /// <summary>A failure on the server: what failed in words for the client, and the id its details are logged under.</summary>
    public static IResult Failure(int statusCode, string message, string id) => Results.Json(new { error = message, id }, statusCode: statusCode);

    /// <summary>A failure the client may retry as it is (docs/protocol.md, "Example routes"): <c>{"error":"...","id":"...","retryable":true}</c>.</summary>
    public static IResult Retryable(int statusCode, string message, string id) => Results.Json(new { error = message, id, retryable = true }, statusCode: statusCode);

    public static IResult Text(int statusCode, string text) => Results.Text(text, "text/plain; charset=utf-8", statusCode: statusCode);
}
