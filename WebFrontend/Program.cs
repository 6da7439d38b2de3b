using Orleans.Rooms.WebFrontend.Hosting;

var app = FrontEndApp.Create(args);
await app.RunAsync();
