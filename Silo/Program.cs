using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.Rooms;

// A stand-alone silo: the room grains and nothing else. With localhost clustering it joins the cluster
// whose first silo listens on Orleans:PrimarySiloPort (e.g. an embedded front end's), and Orleans
// spreads new grain activations onto it.
var builder = Host.CreateApplicationBuilder(args);
var orleans = builder.Configuration.GetSection("Orleans");
var primary = orleans.GetValue<int?>("PrimarySiloPort");
builder.UseOrleans(silo => silo
    .UseLocalhostClustering(
        orleans.GetValue("SiloPort", 11112),
        orleans.GetValue("GatewayPort", 30001),
        primary is { } port ? new IPEndPoint(IPAddress.Loopback, port) : null,
        orleans.GetValue("ServiceId", "orleans-rooms")!,
        orleans.GetValue("ClusterId", "rooms")!)
    .AddRooms());
await builder.Build().RunAsync();
