namespace Orleans.Rooms.WebFrontend.Hosting;

/// <summary>
/// The silo co-hosted in the embedded shape, bound from <c>Orleans</c>. Several embedded processes form one
/// cluster on this machine when each has its own ports and all but the first name the first's silo port
/// as <see cref="PrimarySiloPort"/>.
/// </summary>
public sealed class EmbeddedSiloOptions
{
    public const string SectionName = "Orleans";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>The silo port of the process that started the cluster; unset for that first process.</summary>
    public int? PrimarySiloPort { get; set; }

    public string ClusterId { get; set; } = "rooms";

    public string ServiceId { get; set; } = "orleans-rooms";
}
