using Orleans.Rooms.Silo;

var app = SiloApp.Create(args);
await app.RunAsync();
