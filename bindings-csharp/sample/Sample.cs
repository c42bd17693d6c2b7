// The program test.sh builds against the unpacked Leaseq .nupkg, as a user would, and runs on Mono and
// on .NET Core 3.1. C# 7.2: no async Main. Reads the Redis URL from LEASEQ_REDIS_URL.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Leaseq;

public static class Sample
{
    public static int Main()
    {
        var url = Environment.GetEnvironmentVariable("LEASEQ_REDIS_URL");
        var runtime = Type.GetType("Mono.Runtime") != null ? "Mono" : ".NET " + Environment.Version;
        try
        {
            using (var connection = Connection.Open(url))
            using (var queue = new WorkQueue(connection, "leaseq-sample:" + Guid.NewGuid().ToString("N")))
            {
                // The test Redis does not evict keys (maxmemory-policy noeviction): opening found nothing to trace.
                Require(connection.Warnings.Count == 0, "no eviction warning");
                queue.AddItem(Item.FromJson("{\"photo\": 17}"));
                var item = queue.Lease(TimeSpan.FromSeconds(30), true, TimeSpan.FromSeconds(1));
                Require(item != null && item.Json() == "{\"photo\": 17}", "sync lease");
                Require(queue.Complete(item), "sync complete");

                Require(queue.AddItemAsync(new Item(new byte[] { 1, 2, 3 })).Result, "async add");
                var leased = queue.LeaseAsync(TimeSpan.FromSeconds(30)).Result;
                Require(leased != null && leased.Data.Length == 3, "async lease");
                Require(queue.CompleteAsync(leased).Result, "async complete");

                using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
                {
                    var waiting = queue.LeaseAsync(TimeSpan.FromSeconds(30), true, null, cancel.Token);
                    try
                    {
                        waiting.Wait();
                    }
                    catch (AggregateException)
                    {
                    }
                    Require(waiting.IsCanceled, "cancelled blocking lease");
                }
                try
                {
                    new WorkQueue(connection, "");
                    Require(false, "empty prefix refused");
                }
                catch (LeaseqArgumentException)
                {
                }
                Require(queue.QueueLength() == 0 && queue.Processing() == 0, "queue empty at the end");

                // The job lifecycle and a worker: option structs with flags and worker events, on this runtime too.
                using (var lifecycle = new WorkQueue(connection, queue.Name + ":lifecycle", new QueueOptions { MaxAttempts = 1 }))
                {
                    Require(lifecycle.AddItemWith(new Item(new byte[] { 1 }, "later"), new AddOptions { Priority = 3, Delay = TimeSpan.FromMinutes(5) }), "add with a delay");
                    Require(lifecycle.AddItemWithAsync(new Item(new byte[] { 2 }, "now"), new AddOptions { Priority = 3, At = DateTimeOffset.UtcNow.AddDays(-1) }).Result, "add at a past time");
                    Require(lifecycle.DelayedLength() == 1 && lifecycle.PrioritizedLength() == 1, "one delayed, one prioritized");
                    var failing = lifecycle.Lease(TimeSpan.FromSeconds(30), false);
                    Require(failing != null && failing.Id == "now" && failing.Attempts == 1, "lease the due one");
                    Require(lifecycle.FailAsync(failing, "boom").Result.Kind == FailOutcomeKind.Dead, "fail on the last attempt");
                    var dead = lifecycle.DeadItems(0, 10);
                    Require(dead.Count == 1 && dead[0].Error == "boom" && dead[0].Item.Attempts == 1, "dead letters");
                    Require(lifecycle.RequeueAllDead() == 1, "requeue the dead");

                    var outcomes = new List<string>();
                    var options = new WorkerOptions
                    {
                        Concurrency = 2,
                        JobTimeout = TimeSpan.FromSeconds(10),
                        CleanEvery = null,
                        After = (job, outcome) => { lock (outcomes) outcomes.Add(job.Id + " " + outcome); },
                    };
                    using (var worker = new Worker(lifecycle, (job, token) => Task.FromResult(job.Id), options))
                    {
                        var run = worker.RunAsync();
                        var clock = Stopwatch.StartNew();
                        while (worker.Counters.Completed < 1 && clock.Elapsed < TimeSpan.FromSeconds(20))
                        {
                            Thread.Sleep(20);
                        }
                        worker.Stop();
                        Require(run.Wait(TimeSpan.FromSeconds(20)), "worker stopped");
                    }
                    lock (outcomes)
                    {
                        Require(outcomes.Count == 1 && outcomes[0] == "now Completed(true)", "worker completed the requeued item: " + string.Join(", ", outcomes));
                    }
                    Require(lifecycle.DeadLength() == 0 && lifecycle.DelayedLength() == 1, "only the delayed item left");
                }
            }
            Console.WriteLine("sample: ok on " + runtime);
            return 0;
        }
        catch (Exception error)
        {
            Console.Error.WriteLine("sample: FAILED on " + runtime + ": " + error);
            return 1;
        }
    }

    static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new Exception("check failed: " + what);
        }
    }
}
