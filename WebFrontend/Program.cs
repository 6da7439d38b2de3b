using Orleans.Rooms.WebFrontend.Hosting;

SharedBuffers.KeepEnoughForFanOut();
var app = FrontEndApp.Create(args);
await app.RunAsync();
