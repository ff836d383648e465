// bridge-demo: the quick start. Publishes sample ERP messages for every flow through the real pipeline — MassTransit's
// in-memory transport, a SQLite file and the ActivePlatform sandbox in process — prints each result event and a summary,
// and exits 0 only if every expected outcome happened. Arguments are configuration overrides (e.g. --Logging:LogLevel:Bridge=Information).
// bridge-demo try [--port N]: Bridge as a service on the same defaults, with the HTTP door and the operators' page open, until
// Ctrl+C — see TryItMode for what to type.
if (args is ["try", ..])
{
    var port = Bridge.Demo.TryItMode.DefaultPort;
    var rest = args[1..];
    if (rest is ["--port", var value, ..])
    {
        if (!int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync($"--port takes a TCP port number, not '{value}'.");
            return 2;
        }

        rest = rest[2..];
    }

    return await Bridge.Demo.TryItMode.RunAsync(port, rest);
}

return await Bridge.Demo.DemoRunner.RunAsync(args);
