using Orleans.Rooms.Sockets;

namespace Orleans.Rooms.WarmUp;

/// <summary>
/// One cycle of the app's warm-up on one in-process socket (<paramref name="cycle"/> counts from 0): what its
/// clients' sockets do most, through the app's own routes. It must leave nothing behind (leave what it joins)
/// and throw when an answer is not what the app answers when all is well.
/// </summary>
public delegate Task WarmUpCycle(InProcessSocket socket, int cycle, CancellationToken cancellationToken);
