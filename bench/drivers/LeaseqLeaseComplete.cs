// leaseq from C# (Mono), one thread: lease+complete for --seconds on a queue the harness filled,
// with the synchronous API. C# 7.2 (what Mono's mcs compiles). Prints one JSON line.
//   mono LeaseqLeaseComplete.exe URL QUEUE SECONDS
using System;
using System.Diagnostics;
using System.Globalization;
using Leaseq;

public static class LeaseqLeaseComplete
{
    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: LeaseqLeaseComplete.exe URL QUEUE SECONDS");
            return 2;
        }
        var seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
        var lease = TimeSpan.FromSeconds(300);
        using (var connection = Connection.Open(args[0]))
        using (var queue = new WorkQueue(connection, args[1]))
        {
            long ops = 0;
            var drained = false;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                var item = queue.Lease(lease, false);
                if (item == null)
                {
                    drained = true;
                    break;
                }
                if (!queue.Complete(item))
                {
                    Console.Error.WriteLine("complete(" + item.Id + ") returned false");
                    return 1;
                }
                ops++;
            }
            var elapsed = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{{\"ops\":{0},\"seconds\":{1},\"rate\":{2},\"drained\":{3}}}",
                ops, elapsed, ops / elapsed, drained ? "true" : "false"));
        }
        return 0;
    }
}
