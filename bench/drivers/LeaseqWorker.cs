// leaseq from C# (Mono): the binding's Worker with a no-op handler (a Func returning
// Task.CompletedTask) at CONCURRENCY, draining a queue the harness filled, for at most SECONDS.
// Timed from the worker's start until the queue is empty and nothing is in flight (polled every
// 2 ms, as the Rust `worker` subcommand does), or until SECONDS. C# 7.2 (what Mono's mcs
// compiles). Prints one JSON line: ops (completed when the clock stopped), seconds, rate,
// drained, cpu_ops (also those finished while stopping).
//   mono LeaseqWorker.exe URL QUEUE SECONDS [CONCURRENCY]
using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Leaseq;

public static class LeaseqWorker
{
    public static int Main(string[] args)
    {
        if (args.Length != 3 && args.Length != 4)
        {
            Console.Error.WriteLine("usage: LeaseqWorker.exe URL QUEUE SECONDS [CONCURRENCY]");
            return 2;
        }
        var seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
        var concurrency = args.Length == 4 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 16;
        var options = new WorkerOptions
        {
            Concurrency = concurrency,
            LeaseDuration = TimeSpan.FromSeconds(300),
            CleanEvery = null,
        };
        Func<Item, CancellationToken, Task> handler = (item, token) => Task.CompletedTask;
        using (var connection = Connection.Open(args[0]))
        using (var queue = new WorkQueue(connection, args[1]))
        using (var worker = new Worker(queue, handler, options))
        {
            var clock = Stopwatch.StartNew();
            var run = worker.RunAsync();
            var drained = false;
            while (clock.Elapsed.TotalSeconds < seconds && !run.IsCompleted)
            {
                Thread.Sleep(2);
                if (queue.QueueLength() == 0 && worker.Counters.InFlight == 0)
                {
                    drained = true;
                    break;
                }
            }
            var elapsed = clock.Elapsed.TotalSeconds;
            var ops = worker.Counters.Completed;
            worker.Stop();
            run.GetAwaiter().GetResult();
            var counters = worker.Counters;
            if (counters.Failed > 0)
            {
                Console.Error.WriteLine("the worker failed items: " + counters);
                return 1;
            }
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"ops\":{0},\"seconds\":{1},\"rate\":{2},\"drained\":{3},\"cpu_ops\":{4}}}",
                ops, elapsed, ops / elapsed, drained ? "true" : "false", counters.Completed));
        }
        return 0;
    }
}
