using Microsoft.Extensions.Options;
using Orleans.Rooms.WebFrontend.Hosting;

SharedBuffers.KeepEnoughForFanOut();
var app = FrontEndApp.Create(args);
try
{
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // A setting out of range stops the start before anything is bound or called (hosting has logged it too): say
    // which and exit 1, rather than abort on an unhandled exception.
    await Console.Error.WriteLineAsync($"Orleans.Rooms.WebFrontend did not start: {ex.Message}");
    return 1;
}
