using System.Net;
using System.Net.Sockets;

namespace Bridge.Tests.Infrastructure;

/// <summary>
/// A TCP relay to a real server (the suite's PostgreSQL) that a test can cut and restore, to take a service away from one
/// Bridge without stopping it for the rest of the suite. Cut: every relayed connection is closed and new ones are closed as
/// soon as they are accepted (the client sees its connection end, as when a server restarts). Restored: it relays again.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint target;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly List<TcpClient> open = [];
    private readonly Task accepting;
    private volatile bool cut;
    private int refused;

    public TcpProxy(string host, int port)
    {
        target = new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>How many connections were refused while cut.</summary>
    public int Refused => Volatile.Read(ref refused);

    public void Cut()
    {
        lock (gate)
        {
            cut = true;
            foreach (var client in open)
            {
                client.Client.LingerState = new LingerOption(true, 0); // reset, not a graceful close
                client.Dispose();
            }

            open.Clear();
        }
    }

    public void Restore() => cut = false;

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (cut)
            {
                Interlocked.Increment(ref refused);
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        lock (gate)
        {
            // Cut between the accept and here: this connection must not outlive the cut.
            if (cut)
            {
                Interlocked.Increment(ref refused);
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                server.Dispose();
                return;
            }

            open.Add(client);
            open.Add(server);
        }

        try
        {
            await server.ConnectAsync(target, stopping.Token);
            using var both = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
            var up = client.GetStream().CopyToAsync(server.GetStream(), both.Token);
            var down = server.GetStream().CopyToAsync(client.GetStream(), both.Token);
            await Task.WhenAny(up, down);
            await both.CancelAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Cut, or one side closed.
        }
        finally
        {
            lock (gate)
            {
                open.Remove(client);
                open.Remove(server);
            }

            client.Dispose();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        Cut();
        await accepting;
        stopping.Dispose();
    }
}
