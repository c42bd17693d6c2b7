using System;

namespace Leaseq
{
    /// <summary>
    /// What went wrong, as the core's fixed numbers (the same in every leaseq language and in the
    /// C ABI). Never renumbered.
    /// </summary>
    public enum ErrorKind : uint
    {
        /// <summary>Redis could not be reached, the connection broke, or it was closed.</summary>
        Connection = 1,
        /// <summary>Redis did not answer within the configured time.</summary>
        Timeout = 2,
        /// <summary>The caller passed a value leaseq refuses (empty prefix, bad duration, oversized item, …).</summary>
        InvalidArgument = 3,
        /// <summary>The caller's lease on an item is gone (expired and taken by another worker, or completed).</summary>
        LeaseLost = 4,
        /// <summary>Anything else: a Redis error reply, a bug, a panic caught at the native boundary.</summary>
        Internal = 5,
    }

    /// <summary>
    /// Implemented by every exception leaseq throws, so one <c>catch (Exception e) when (e is ILeaseqError)</c>
    /// catches them all.
    /// </summary>
    /// <remarks>
    /// Two branches, because an invalid argument is a .NET <see cref="ArgumentException"/>:
    /// <see cref="LeaseqArgumentException"/> derives from <see cref="ArgumentException"/>, and every other
    /// kind from <see cref="LeaseqException"/> (Connection, Timeout, LeaseLost, and Internal as
    /// <see cref="LeaseqException"/> itself). Catch <see cref="LeaseqException"/> for failures worth
    /// retrying or reporting at run time; argument errors are bugs in the calling code.
    /// </remarks>
    public interface ILeaseqError
    {
        /// <summary>The core's error kind.</summary>
        ErrorKind Kind { get; }
    }

    /// <summary>
    /// A leaseq failure other than an invalid argument; thrown as is for <see cref="ErrorKind.Internal"/>.
    /// See <see cref="ILeaseqError"/> for the whole hierarchy.
    /// </summary>
    public class LeaseqException : Exception, ILeaseqError
    {
        /// <summary>An Internal error with <paramref name="message"/>.</summary>
        public LeaseqException(string message) : this(ErrorKind.Internal, message) { }

        /// <summary>An error of <paramref name="kind"/> with <paramref name="message"/>.</summary>
        protected LeaseqException(ErrorKind kind, string message) : base(message)
        {
            Kind = kind;
        }

        /// <inheritdoc />
        public ErrorKind Kind { get; }
    }

    /// <summary>Redis could not be reached, the connection broke, or it was closed.</summary>
    public class LeaseqConnectionException : LeaseqException
    {
        /// <summary>A Connection error with <paramref name="message"/>.</summary>
        public LeaseqConnectionException(string message) : base(ErrorKind.Connection, message) { }
    }

    /// <summary>Redis did not answer within the configured time.</summary>
    public class LeaseqTimeoutException : LeaseqException
    {
        /// <summary>A Timeout error with <paramref name="message"/>.</summary>
        public LeaseqTimeoutException(string message) : base(ErrorKind.Timeout, message) { }
    }

    /// <summary>The caller's lease on an item is gone (expired and taken by another worker, or completed).</summary>
    public class LeaseLostException : LeaseqException
    {
        /// <summary>A LeaseLost error with <paramref name="message"/>.</summary>
        public LeaseLostException(string message) : base(ErrorKind.LeaseLost, message) { }
    }

    /// <summary>
    /// The caller passed a value leaseq refuses (empty prefix, bad duration, empty id, oversized item, …).
    /// An <see cref="ArgumentException"/>, so not a <see cref="LeaseqException"/>: see <see cref="ILeaseqError"/>.
    /// </summary>
    public class LeaseqArgumentException : ArgumentException, ILeaseqError
    {
        /// <summary>An InvalidArgument error with <paramref name="message"/>.</summary>
        public LeaseqArgumentException(string message) : base(message) { }

        /// <inheritdoc />
        public ErrorKind Kind
        {
            get { return ErrorKind.InvalidArgument; }
        }
    }

    internal static class Errors
    {
        /// <summary>The exception for a core error kind; an unknown (newer) kind is Internal.</summary>
        internal static Exception FromKind(uint kind, string message)
        {
            switch ((ErrorKind)kind)
            {
                case ErrorKind.Connection:
                    return new LeaseqConnectionException(message);
                case ErrorKind.Timeout:
                    return new LeaseqTimeoutException(message);
                case ErrorKind.InvalidArgument:
                    return new LeaseqArgumentException(message);
                case ErrorKind.LeaseLost:
                    return new LeaseLostException(message);
                default:
                    return new LeaseqException(message);
            }
        }
    }
}
