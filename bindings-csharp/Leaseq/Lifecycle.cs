using System;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>What <see cref="WorkQueue.Fail"/> did with the item (the core's <c>FailOutcome</c> variants).</summary>
    public enum FailOutcomeKind
    {
        /// <summary>It will be leased again, not before <see cref="FailOutcome.RetryAt"/>.</summary>
        Retry,
        /// <summary>That was its last attempt: it is in the dead letters with the error.</summary>
        Dead,
        /// <summary>The item no longer exists (it was completed); nothing changed.</summary>
        Gone,
    }

    /// <summary>What <see cref="WorkQueue.Fail"/> did with the item.</summary>
    public sealed class FailOutcome
    {
        /// <summary>An outcome of <paramref name="kind"/>; <paramref name="retryAt"/> for a retry only.</summary>
        public FailOutcome(FailOutcomeKind kind, DateTimeOffset? retryAt = null)
        {
            Kind = kind;
            RetryAt = retryAt;
        }

        /// <summary>Retry, Dead or Gone.</summary>
        public FailOutcomeKind Kind { get; }

        /// <summary>For <see cref="FailOutcomeKind.Retry"/>: when the retry becomes due (Redis server clock); <c>null</c> otherwise.</summary>
        public DateTimeOffset? RetryAt { get; }

        internal static FailOutcome From(LeaseqFailOutcome outcome)
        {
            switch (outcome.kind)
            {
                case NativeMethods.LEASEQ_FAIL_RETRY:
                    return new FailOutcome(FailOutcomeKind.Retry, Interop.Time(outcome.retry_at_unix_ms));
                case NativeMethods.LEASEQ_FAIL_DEAD:
                    return new FailOutcome(FailOutcomeKind.Dead);
                case NativeMethods.LEASEQ_FAIL_GONE:
                    return new FailOutcome(FailOutcomeKind.Gone);
                default:
                    throw new LeaseqException("unknown fail outcome " + outcome.kind + " from the native library");
            }
        }

        /// <inheritdoc />
        public override string ToString()
        {
            return RetryAt.HasValue ? "FailOutcome(Retry at " + RetryAt.Value.ToString("o") + ")" : "FailOutcome(" + Kind + ")";
        }
    }

    /// <summary>An item in the dead letters.</summary>
    public sealed class DeadItem
    {
        /// <summary>A dead letter: <paramref name="item"/>, its last <paramref name="error"/>, and when it died.</summary>
        public DeadItem(Item item, string error, DateTimeOffset diedAt)
        {
            Item = item;
            Error = error;
            DiedAt = diedAt;
        }

        /// <summary>The item, its data as added; <see cref="Leaseq.Item.Attempts"/> is how many leases it had.</summary>
        public Item Item { get; }

        /// <summary>The error of its last failure (<c>"lease expired"</c> when its last lease ran out).</summary>
        public string Error { get; }

        /// <summary>When it died (Redis server clock).</summary>
        public DateTimeOffset DiedAt { get; }

        /// <inheritdoc />
        public override string ToString()
        {
            return "DeadItem(" + Item.Id + ", attempts " + Item.Attempts + ", error " + Error + ")";
        }
    }
}
