// A leaseq producer, worker or cleaner for the cross-language run (C#, on Mono).
// Same arguments and log lines as every actor: see tests-cross/src/lib.rs. The worker is the
// binding's Worker (the core's runtime) with a misbehaving handler.
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Leaseq;

static class Actor
{
    // As leaseq_cross::POISON: no handler can finish an item with this data.
    const string Poison = "poison";

    // A crash: the process ends at once, running no exit handler (Environment.Exit would run leaseq's,
    // which stops the worker gracefully and releases its items).
    [DllImport("libc", EntryPoint = "_exit")]
    static extern void Crash(int status);

    static int Main(string[] argv)
    {
        string role = argv[0];
        var args = new Dictionary<string, string>();
        for (int i = 1; i + 1 < argv.Length; i += 2) args[argv[i].TrimStart('-')] = argv[i + 1];
        Func<string, double> number = name => args.ContainsKey(name) ? double.Parse(args[name], System.Globalization.CultureInfo.InvariantCulture) : 0;
        // As leaseq_cross::queue_options(): few attempts and short backoffs, so poison items die and
        // flaky ones retry within the run.
        var options = new QueueOptions { MaxAttempts = 10, BackoffBase = TimeSpan.FromMilliseconds(50), BackoffMax = TimeSpan.FromMilliseconds(400) };
        using (var connection = Connection.Open(args["url"]))
        using (var queue = new WorkQueue(connection, args["prefix"], options))
        using (var log = new FileStream(args["log"], FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            // One write per line, so a SIGKILL never leaves half a line; handlers and hooks write from several threads.
            Action<string, string> line = (evt, id) =>
            {
                byte[] bytes = Encoding.UTF8.GetBytes(evt + " " + id + "\n");
                lock (log)
                {
                    log.Write(bytes, 0, bytes.Length);
                    log.Flush();
                }
            };
            var lease = TimeSpan.FromMilliseconds(args.ContainsKey("lease-ms") ? number("lease-ms") : 1000);
            if (role == "producer")
            {
                int count = (int)number("count");
                string idPrefix = args["id-prefix"];
                for (int start = 0; start < count; start += 50)
                {
                    var items = new List<Item>();
                    for (int n = start; n < Math.Min(count, start + 50); n++)
                        items.Add(new Item(Encoding.UTF8.GetBytes("payload " + n), idPrefix + "-" + n));
                    if (start % 100 == 0)
                    {
                        if (queue.AddItems(items) != items.Count) throw new Exception("batch not added");
                    }
                    else
                    {
                        foreach (var item in items) if (!queue.AddItem(item)) throw new Exception("not added");
                    }
                    foreach (var item in items) line("added", item.Id);
                }
                // Items that are not leasable for a while, and items no handler can ever finish (at
                // priority 1, which only leaseq workers see), as the Rust producer adds them.
                var random = new Random();
                for (int n = 0; n < (int)number("delayed"); n++)
                {
                    var item = new Item(Encoding.UTF8.GetBytes("delayed " + n), idPrefix + "-delayed-" + n);
                    if (!queue.AddItemWith(item, new AddOptions { Delay = TimeSpan.FromMilliseconds(random.Next(100, 3000)) })) throw new Exception("not added");
                    line("added", item.Id);
                }
                for (int n = 0; n < (int)number("poison"); n++)
                {
                    var item = new Item(Encoding.UTF8.GetBytes(Poison), idPrefix + "-poison-" + n);
                    if (!queue.AddItemWith(item, new AddOptions { Priority = 1 })) throw new Exception("not added");
                    line("poison", item.Id);
                }
                return 0;
            }
            if (role == "cleaner")
            {
                while (true)
                {
                    queue.LightClean();
                    Thread.Sleep(args.ContainsKey("every-ms") ? (int)number("every-ms") : 200);
                }
            }
            if (role != "worker") throw new Exception("unknown role " + role);
            var rolls = new Random();
            double skip = number("skip"), outlive = number("outlive"), crash = number("crash"), fail = number("fail");
            var workTime = TimeSpan.FromMilliseconds(number("work-ms"));
            var outliveTime = TimeSpan.FromMilliseconds(lease.TotalMilliseconds * 1.5);
            var workerOptions = new WorkerOptions
            {
                LeaseDuration = lease,
                // A handler that never finishes is failed by the timeout (a Worker never just drops a lease).
                JobTimeout = TimeSpan.FromMilliseconds(lease.TotalMilliseconds * 3),
                After = (item, outcome) =>
                {
                    if (outcome.Kind == JobOutcomeKind.Completed && outcome.Completed) line("completed", item.Id);
                },
            };
            var worker = new Worker(queue, async (item, token) =>
            {
                line("delivered", item.Id);
                if (Encoding.UTF8.GetString(item.Data) == Poison) throw new Exception("poison: this item kills every handler");
                double roll;
                lock (rolls) roll = rolls.NextDouble();
                if (roll < skip) await Task.Delay(Timeout.Infinite, token);  // never finishes
                else if (roll < skip + outlive) await Task.Delay(outliveTime);  // the heartbeat keeps the lease meanwhile
                else if (roll < skip + outlive + crash) Crash(3);
                else if (roll < skip + outlive + crash + fail) throw new Exception("a flaky handler failed");
                await Task.Delay(workTime);
                line("completing", item.Id);
            }, workerOptions);
            worker.RunAsync().Wait();  // until killed
            return 0;
        }
    }
}
