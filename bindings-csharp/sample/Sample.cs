// The program test.sh builds against the unpacked Leaseq .nupkg, as a user would, and runs on Mono and
// on .NET Core 3.1. C# 7.2: no async Main. Reads the Redis URL from LEASEQ_REDIS_URL.
using System;
using System.Threading;
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
