// bridge-demo: the quick start. Publishes sample ERP messages for every flow through the real pipeline — MassTransit's
// in-memory transport, a SQLite file and the ActivePlatform sandbox in process — prints each result event and a summary,
// and exits 0 only if every expected outcome happened. Arguments are configuration overrides (e.g. --Logging:LogLevel:Bridge=Information).
return await Bridge.Demo.DemoRunner.RunAsync(args);
