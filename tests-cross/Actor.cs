// A leaseq producer or worker for the cross-language run (C#, on Mono).
// Same arguments and log lines as every actor: see tests-cross/src/lib.rs.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using Leaseq;

static class Actor
{
    static int Main(string[] argv)
    {
        string role = argv[0];
        var args = new Dictionary<string, string>();
        for (int i = 1; i + 1 < argv.Length; i += 2) args[argv[i].TrimStart('-')] = argv[i + 1];
        Func<string, double> number = name => args.ContainsKey(name) ? double.Parse(args[name], System.Globalization.CultureInfo.InvariantCulture) : 0;
        using (var connection = Connection.Open(args["url"]))
        using (var queue = new WorkQueue(connection, args["prefix"]))
        using (var log = new FileStream(args["log"], FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            Action<string, string> line = (evt, id) =>
            {
                byte[] bytes = Encoding.UTF8.GetBytes(evt + " " + id + "\n");
                log.Write(bytes, 0, bytes.Length);
                log.Flush();
            };
            var lease = TimeSpan.FromMilliseconds(args.ContainsKey("lease-ms") ? number("lease-ms") : 1000);
            if (role == "producer")
            {
                int count = (int)number("count");
                for (int start = 0; start < count; start += 50)
                {
                    var items = new List<Item>();
                    for (int n = start; n < Math.Min(count, start + 50); n++)
                        items.Add(new Item(Encoding.UTF8.GetBytes("payload " + n), args["id-prefix"] + "-" + n));
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
                return 0;
            }
            var random = new Random();
            double skip = number("skip"), outlive = number("outlive"), crash = number("crash");
            while (true)
            {
                Item item = queue.Lease(lease, true, TimeSpan.FromMilliseconds(500));
                if (item == null) continue;
                line("delivered", item.Id);
                double roll = random.NextDouble();
                if (roll < skip) continue;
                if (roll < skip + outlive) Thread.Sleep(TimeSpan.FromMilliseconds(lease.TotalMilliseconds * 1.5));
                else if (roll < skip + outlive + crash) Environment.Exit(3);
                Thread.Sleep((int)number("work-ms"));
                line("completing", item.Id);
                if (queue.Complete(item)) line("completed", item.Id);
            }
        }
    }
}
