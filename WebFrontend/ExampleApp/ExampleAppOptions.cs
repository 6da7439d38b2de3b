namespace Orleans.Rooms.WebFrontend.ExampleApp;

/// <summary>Settings of the example app, bound from <c>Rooms</c>.</summary>
public sealed class ExampleAppOptions
{
    /// <summary>The key admin routes require in header <c>x-admin-key</c>; with none set they always answer 403.</summary>
    public string? AdminKey { get; set; }
}
