using Microsoft.AspNetCore.Http;

namespace Orleans.Rooms.Membership;

/// <summary>Options of <see cref="IRoomService.LeaveAllAsync"/>, as in Sails.</summary>
/// <param name="IncludeSocketRooms">Also leave each member's own-id room (default false).</param>
/// <param name="IncludeSourceRoom">Also leave the source room itself (default true).</param>
public sealed record LeaveAllOptions(bool IncludeSocketRooms = false, bool IncludeSourceRoom = true);
