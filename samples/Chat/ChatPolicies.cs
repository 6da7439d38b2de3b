namespace Chat;

/// <summary>The chat's authorization policies, as controllers name them in <c>[Authorize(Policy = ...)]</c>.</summary>
public static class ChatPolicies
{
    /// <summary>Any signed-in user: may join rooms, talk and list who is there.</summary>
    public const string Member = "member";

    /// <summary>Users in role <see cref="ModeratorRole"/>: may also kick a socket out of a room.</summary>
    public const string Moderator = "moderator";

    /// <summary>The role of moderators (this sample gives it to names that start with <c>mod-</c>).</summary>
    public const string ModeratorRole = "moderator";
}
