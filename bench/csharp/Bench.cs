// lease+complete per second from one C# thread, with the synchronous API and with the async one
// (one operation in flight, awaited in a loop; and 16 in flight, for comparison), and through a
// Worker (the core's loop, a handler that does nothing) at concurrency 1 and 16. Fills its own
// queue under a fresh prefix; prints the median of --runs runs of --seconds each. C# 7.2 (mcs).
//   bindings-csharp/bench.sh [SECONDS] [RUNS]    builds it against bindings-csharp/out and runs it
//   mono Bench.exe URL [SECONDS] [RUNS]          (Leaseq.dll and libleaseq_native.so beside it)
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Leaseq;

public static class Bench
{
    static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(300);

    public static int Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Bench.exe URL [SECONDS] [RUNS]");
            return 2;
        }
        var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3.0;
        var runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var runtime = Type.GetType("Mono.Runtime") != null ? "Mono" : ".NET " + Environment.Version;
        Console.WriteLine("leaseq .NET binding on {0}: lease+complete per second, one thread, 64-byte items, median of {1} x {2} s",
            runtime, runs, seconds);
        using (var connection = Connection.Open(args[0]))
        using (var queue = new WorkQueue(connection, "leaseq-bench-cs:" + Guid.NewGuid().ToString("N")))
        {
            Report("sync", Measure(queue, seconds, runs, Sync));
            Report("async, 1 in flight", Measure(queue, seconds, runs, (q, limit) => Async(q, limit, 1).GetAwaiter().GetResult()));
            Report("async, 16 in flight", Measure(queue, seconds, runs, (q, limit) => Async(q, limit, 16).GetAwaiter().GetResult()));
            Report("Worker, concurrency 1", Measure(queue, seconds, runs, (q, limit) => Work(q, limit, 1)));
            Report("Worker, concurrency 16", Measure(queue, seconds, runs, (q, limit) => Work(q, limit, 16)));
        }
        return 0;
    }

    static void Report(string mode, double rate)
    {
        Console.WriteLine("  {0,-22} {1,10:N0} lease+complete/s", mode, rate);
    }

    /// <summary>Runs <paramref name="loop"/> (lease+complete until the time limit or an empty queue).</summary>
    static double Measure(WorkQueue queue, double seconds, int runs, Func<WorkQueue, double, long> loop)
    {
        var rates = new List<double>();
        // The first run warms up the JIT and the connection; it is not counted.
        for (int run = 0; run <= runs; run++)
        {
            Fill(queue, run == 0 ? 2000 : (int)(seconds * 40000));
            var clock = Stopwatch.StartNew();
            var ops = loop(queue, run == 0 ? double.PositiveInfinity : seconds);
            var rate = ops / clock.Elapsed.TotalSeconds;
            if (run > 0)
            {
                rates.Add(rate);
            }
            Drain(queue);
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }

    static long Sync(WorkQueue queue, double limit)
    {
        long ops = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < limit)
        {
            var item = queue.Lease(LeaseTime, false);
            if (item == null)
            {
                break;
            }
            if (!queue.Complete(item))
            {
                throw new Exception("complete returned false");
            }
            ops++;
        }
        return ops;
    }

    static async Task<long> Async(WorkQueue queue, double limit, int inFlight)
    {
        var clock = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, inFlight).Select(async _ =>
        {
            long ops = 0;
            while (clock.Elapsed.TotalSeconds < limit)
            {
                var item = await queue.LeaseAsync(LeaseTime, false).ConfigureAwait(false);
                if (item == null)
                {
                    break;
                }
                if (!await queue.CompleteAsync(item).ConfigureAwait(false))
                {
                    throw new Exception("complete returned false");
                }
                ops++;
            }
            return ops;
        }).ToArray();
        return (await Task.WhenAll(loops).ConfigureAwait(false)).Sum();
    }

    static readonly Task Done = Task.FromResult(true);

    /// <summary>Items a Worker completes until the time limit or the queue is empty (its stop included).</summary>
    static long Work(WorkQueue queue, double limit, int concurrency)
    {
        var options = new WorkerOptions { Concurrency = concurrency, LeaseDuration = LeaseTime, CleanEvery = null };
        using (var worker = new Worker(queue, (item, token) => Done, options))
        {
            var run = worker.RunAsync();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < limit)
            {
                Thread.Sleep(5);
                if (queue.QueueLength() == 0 && worker.Counters.InFlight == 0)
                {
                    break;
                }
            }
            worker.Stop();
            run.GetAwaiter().GetResult();
            return worker.Counters.Completed;
        }
    }

    static void Fill(WorkQueue queue, int count)
    {
        for (int added = 0; added < count; added += 1000)
        {
            queue.AddItems(Enumerable.Range(0, Math.Min(1000, count - added)).Select(i => new Item(new byte[64])));
        }
    }

    static void Drain(WorkQueue queue)
    {
        Item item;
        while ((item = queue.Lease(LeaseTime, false)) != null)
        {
            queue.Complete(item);
        }
    }
}
