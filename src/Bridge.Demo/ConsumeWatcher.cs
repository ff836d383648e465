using MassTransit;

namespace Bridge.Demo;

/// <summary>Completes when a message id has been consumed a given number of times (a duplicate publishes no event to wait for).</summary>
public sealed class ConsumeWatcher : IConsumeObserver
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, int> _counts = [];
    private readonly List<(Guid Id, int Times, TaskCompletionSource Done)> _waiters = [];

    public Task WhenConsumed(Guid messageId, int times, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_counts.GetValueOrDefault(messageId) >= times)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((messageId, times, done));
        }

        return done.Task.WaitAsync(Timeout, cancellationToken);
    }

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        if (context.MessageId is { } id)
        {
            lock (_lock)
            {
                var count = _counts[id] = _counts.GetValueOrDefault(id) + 1;
                foreach (var waiter in _waiters.Where(w => w.Id == id && w.Times <= count).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Done.TrySetResult();
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;
}
